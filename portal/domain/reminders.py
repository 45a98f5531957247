"""Scheduled work: recording expiry, client reminders at day 7 and day 16, and the agent's "expires in 5 days".

Run by the worker (`python -m portal worker`) on any number of hosts at once. Each reminder has a unique key,
a ReminderSent row per (request, kind), inserted in the same transaction as its emails: the first worker to
insert it sends the reminder, and any other gets a unique-key conflict and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from portal.domain import handshake, notifications
from portal.domain.models import AuthorisationRequest, ReminderSent

CLIENT_REMINDER_DAYS = (16, 7)  # latest first: a worker that was down sends only the latest one that is due
AGENT_EXPIRING = "agent-expiring"


def client_kind(day: int) -> str:
    return f"client-day-{day}"


@dataclass(frozen=True)
class Done:
    expired: int
    client_reminders: int
    agent_reminders: int


def _take_key(db: Session, request_id: int, kind: str) -> bool:
    """True for the one caller that records this reminder first, whichever worker or host it is on."""
    try:
        with db.begin_nested():
            db.add(ReminderSent(request_id=request_id, kind=kind))
            db.flush()
    except IntegrityError:
        return False
    return True


def _pending_without(kind: str, today: date) -> list[ColumnElement[bool]]:
    return [col(AuthorisationRequest.status) == handshake.Status.PENDING,
            col(AuthorisationRequest.expires_on) >= today,
            ~exists().where(col(ReminderSent.request_id) == AuthorisationRequest.id, col(ReminderSent.kind) == kind)]


def run(db: Session, *, today: date) -> Done:
    expired = handshake.expire_overdue(db, today=today)
    client_sent = agent_sent = 0
    for day in CLIENT_REMINDER_DAYS:
        # created_at is a UTC instant; its date is close enough to count days for a reminder.
        created_by = today - timedelta(days=day)
        before = datetime.combine(created_by + timedelta(days=1), time(), UTC)
        candidates = db.execute(select(AuthorisationRequest).where(
            *_pending_without(client_kind(day), today), col(AuthorisationRequest.created_at) < before)).scalars().all()
        for request in candidates:
            if request.created_at.date() > created_by or not _take_key(db, request.id, client_kind(day)):
                continue
            for earlier in CLIENT_REMINDER_DAYS:  # the day 7 reminder is not sent after the day 16 one
                if earlier < day:
                    _take_key(db, request.id, client_kind(earlier))
            client_sent += notifications.client_reminder(db, request, today=today)
    warn_from = today + timedelta(days=handshake.EXPIRY_WARNING_DAYS)
    expiring = db.execute(select(AuthorisationRequest).where(
        *_pending_without(AGENT_EXPIRING, today),
        col(AuthorisationRequest.expires_on) <= warn_from)).scalars().all()
    for request in expiring:
        if _take_key(db, request.id, AGENT_EXPIRING):
            notifications.request_expiring(db, request, today=today)
            agent_sent += 1
    return Done(expired, client_sent, agent_sent)
