"""The audit trail: one call, in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlmodel import Session

from portal.domain.models import AuditEvent, utcnow

# The software an agent is acting through (the API), if any: every event recorded meanwhile says so, whichever
# rule records it, so activity shows "Amira Reed using Ledgerly" without each rule taking another argument.
_using: ContextVar[str | None] = ContextVar("audit_using", default=None)


@contextmanager
def acting_through(application: str) -> Iterator[None]:
    token = _using.set(application)
    try:
        yield
    finally:
        _using.reset(token)


def record(
    db: Session,
    action: str,
    *,
    authority: str,
    actor_user_id: int | None = None,
    firm_id: int | None = None,
    taxpayer_id: int | None = None,
    **detail: Any,
) -> None:
    if (using := _using.get()) is not None:
        detail = {**detail, "using": using}
    db.add(
        AuditEvent(
            at=utcnow(),
            action=action,
            authority=authority,
            actor_user_id=actor_user_id,
            firm_id=firm_id,
            taxpayer_id=taxpayer_id,
            detail=detail,
        )
    )
