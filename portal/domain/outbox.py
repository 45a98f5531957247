"""The outbox: emails recorded in the database, in the same transaction as the change that causes them.

A change that rolls back leaves no email behind; a change that commits is never forgotten, because the email
is a row, not a call to a relay. Senders (portal.mail.sender) deliver the rows later, so no page waits for the
relay. The lifecycle of a row:

- `pending`: due at `next_attempt_at`. A sender claims it with a compare-and-set UPDATE that sets a fresh
  `claim_token` and a `lease_until`, and only where nobody's lease is still running, so two senders (threads,
  processes or hosts, on SQLite or PostgreSQL) never both hold it.
- `sent`: the relay accepted it. Marked only by the holder of the claim token.
- a failed attempt goes back to `pending` with exponential backoff (`backoff`), or to `failed` when the relay
  refused it outright (a 5xx) or it has been failing for GIVE_UP_AFTER. A failed email is kept, listed by
  `python -m portal outbox --failed`, and can be queued again with `--retry ID`: nothing is ever dropped.

Every attempt is recorded (OutboxAttempt). A sender killed after the relay accepted an email but before it
committed `sent` leaves the row claimed; when the lease runs out another sender sends it again with the same
Message-ID. So delivery is at least once, and a duplicate is recognisably the same email (README, "Email").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from portal.domain.models import utcnow
from portal.domain.outbox_models import OutboxAttempt, OutboxEmail
from portal.domain.sql import rowcount

PENDING, SENT, FAILED = "pending", "sent", "failed"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)  # while the relay is down, try at least hourly, so mail flows soon after
GIVE_UP_AFTER = timedelta(days=3)  # then it is `failed`: kept and listed for an operator, never dropped
FAILING_AFTER_ATTEMPTS = 5  # listed by `outbox --failed` as failing, while still being retried
# Context keys that must not outlive delivery: a trusted helper's invitation link works like a password.
SECRET_KEYS = frozenset({"secret_path"})


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4, 8, 16, 32 minutes, then hourly."""
    doubled: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20)  # capped exponent: no overflow
    return min(doubled, LONGEST_WAIT)


def enqueue(db: Session, *, kind: str, to: str, language: str, context: dict[str, Any]) -> OutboxEmail:
    """Records one email in the caller's transaction. `context` must be JSON: dates as ISO strings."""
    email = OutboxEmail(message_id=secrets.token_hex(16), kind=kind, to_address=to.strip(), language=language,
                        context=context, next_attempt_at=utcnow())
    db.add(email)
    return email


def due_ids(db: Session, *, now: datetime, limit: int = 50) -> list[int]:
    """Emails due now that nobody holds: candidates only; `claim` decides who gets each."""
    return list(db.execute(
        select(col(OutboxEmail.id)).where(
            col(OutboxEmail.status) == PENDING, col(OutboxEmail.next_attempt_at) <= now,
            or_(col(OutboxEmail.lease_until).is_(None), col(OutboxEmail.lease_until) < now))
        .order_by(col(OutboxEmail.next_attempt_at), col(OutboxEmail.id)).limit(limit)
    ).scalars())


@dataclass(frozen=True)
class Claim:
    email_id: int
    token: str


def claim(db: Session, email_id: int, *, now: datetime, lease: timedelta) -> Claim | None:
    """Takes one email for this sender until now + lease, or None if another sender holds it or it is done.
    Commit straight after, so the claim is seen by other senders before the slow part (the relay) starts."""
    token = secrets.token_hex(16)
    result = db.execute(
        update(OutboxEmail)
        .where(col(OutboxEmail.id) == email_id, col(OutboxEmail.status) == PENDING,
               col(OutboxEmail.next_attempt_at) <= now,
               or_(col(OutboxEmail.lease_until).is_(None), col(OutboxEmail.lease_until) < now))
        .values(claim_token=token, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return Claim(email_id, token) if rowcount(result) == 1 else None


def mark_sent(db: Session, held: Claim, *, sender: str, now: datetime) -> bool:
    """Records delivery; False if the claim was lost (its lease ran out and another sender took the email)."""
    result = db.execute(
        update(OutboxEmail).where(col(OutboxEmail.id) == held.email_id, col(OutboxEmail.claim_token) == held.token)
        .values(status=SENT, sent_at=now, lease_until=None, attempts=OutboxEmail.attempts + 1, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.add(OutboxAttempt(email_id=held.email_id, at=now, sender=sender[:120], outcome=SENT))
    email = db.get(OutboxEmail, held.email_id)
    if email is not None and SECRET_KEYS & email.context.keys():
        # Delivered: the outbox no longer needs the secret, and a copy of the database must not reveal it.
        email.context = {k: v for k, v in email.context.items() if k not in SECRET_KEYS} | {"secret_removed": True}
    return rowcount(result) == 1


def mark_failed(db: Session, held: Claim, *, sender: str, now: datetime, error: str, permanent: bool) -> str:
    """Records a failed attempt; the email waits its backoff (or becomes `failed`). Returns the new status."""
    email = db.get(OutboxEmail, held.email_id)
    if email is None or email.claim_token != held.token:
        return "lost"
    attempts = email.attempts + 1
    status = FAILED if permanent or now - email.created_at >= GIVE_UP_AFTER else PENDING
    db.execute(
        update(OutboxEmail).where(col(OutboxEmail.id) == held.email_id, col(OutboxEmail.claim_token) == held.token)
        .values(status=status, attempts=attempts, last_error=error[:2000], lease_until=None,
                next_attempt_at=now + backoff(attempts))
        .execution_options(synchronize_session=False)
    )
    db.add(OutboxAttempt(email_id=held.email_id, at=now, sender=sender[:120],
                         outcome=FAILED if status == FAILED else "retry", error=error[:2000]))
    return status


def failing(db: Session) -> list[OutboxEmail]:
    """For operators: emails given up on, and emails still being retried after several failures."""
    return list(db.execute(
        select(OutboxEmail).where(or_(col(OutboxEmail.status) == FAILED, (col(OutboxEmail.status) == PENDING) & (
            col(OutboxEmail.attempts) >= FAILING_AFTER_ATTEMPTS)))
        .order_by(col(OutboxEmail.created_at), col(OutboxEmail.id))
    ).scalars())


def retry(db: Session, email_id: int, *, now: datetime) -> bool:
    """An operator's "send it again now" for a failed or waiting email (after fixing the address, say)."""
    result = db.execute(
        update(OutboxEmail).where(col(OutboxEmail.id) == email_id, col(OutboxEmail.status) != SENT)
        # created_at restarts the give-up window: the operator has just vouched for this email.
        .values(status=PENDING, next_attempt_at=now, lease_until=None, created_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
