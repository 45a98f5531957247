"""Sending a return or update for an obligation, exactly once (domain.md §7 row 8: double submissions)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from portal.domain import audit, notifications
from portal.domain.models import Firm, Obligation, Submission, User
from portal.domain.people import Authority, Viewer, with_firm
from portal.i18n import gettext

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0 or 1 to misread on a phone call


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))


def receipt_for(db: Session, obligation_id: int) -> Submission | None:
    return db.execute(select(Submission).where(col(Submission.obligation_id) == obligation_id)).scalar_one_or_none()


def sender_of(db: Session, submission: Submission) -> str:
    """Who sent it, as a receipt names them (people.with_firm): the agent and their firm, or the person alone."""
    person = db.get(User, submission.submitted_by_user_id)
    # Translators: who sent a return, when their account no longer exists
    name = person.name if person else gettext("Unknown")
    firm = db.get(Firm, submission.firm_id) if submission.firm_id is not None else None
    return with_firm(name, firm.name if firm else None)


def submit_once(db: Session, *, obligation: Obligation, viewer: Viewer, authority: Authority,
                figures: dict[str, Any]) -> tuple[Submission, bool]:
    """(the submission, True) when this call sent it; (the earlier one, False) when it had already been sent
    by a double click, another tab or a retried request. The unique index on obligation_id decides races."""
    if (earlier := receipt_for(db, obligation.id)) is not None:
        return earlier, False
    submission = Submission(
        obligation_id=obligation.id, taxpayer_id=obligation.taxpayer_id, regime=obligation.regime,
        kind=obligation.kind, reference=new_reference(), submitted_by_user_id=viewer.user_id,
        authority=authority.kind, firm_id=viewer.firm_id if authority.kind == "agent" else None, figures=figures)
    try:
        with db.begin_nested():
            db.add(submission)
            db.flush()
    except IntegrityError:
        earlier = receipt_for(db, obligation.id)
        if earlier is None:  # not the race we handle (a reference collision, say): let it be a 500 and logged
            raise
        return earlier, False
    db.execute(update(Obligation).where(col(Obligation.id) == obligation.id).values(fulfilled_on=date.today()))
    audit.record(db, f"{obligation.kind.lower().replace(' ', '_')}_submitted", authority=authority.kind,
                 actor_user_id=viewer.user_id, firm_id=submission.firm_id, taxpayer_id=obligation.taxpayer_id,
                 obligation_id=obligation.id, reference=submission.reference)
    notifications.return_submitted(db, submission, period_end=obligation.period_end)
    return submission, True
