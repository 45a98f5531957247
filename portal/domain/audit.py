"""The audit trail: one call, in the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from portal.domain.models import AuditEvent, utcnow


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
