"""Agent firms (domain.md §4.2): registering an agent services account, which issues an ARN at once, and the
firm's contact address, which only an address proved by an emailed link can become (issue 12).

Session first, keyword-only after, never commits; the audit event is written in the same transaction as the
firm, and a refusal is `Refused(Refusal.X)`.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from portal.domain import accounts, audit, identifiers
from portal.domain.account_models import EmailToken
from portal.domain.models import Firm, Membership, User, utcnow
from portal.domain.times import aware

CREATE_ATTEMPTS = 5
LINK_UID_LENGTH = 8
LINK_UID_ALPHABET = "ABCDEFGHJKLMNOPRSTUWXYZ123456789"  # no I, Q, V or 0: nothing that reads as another


class Refusal(StrEnum):
    ALREADY_IN_A_FIRM = "already_in_a_firm"  # a person belongs to one firm (a double click lands here too)


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FirmDetails:
    """What a firm tells HMRC when it registers, checked by whoever asked for it (the pages: registration.py)."""

    name: str
    email: str
    address_line1: str
    address_line2: str
    town: str
    postcode: str
    amls_body: str
    amls_number: str


def has_membership(db: Session, user_id: int) -> bool:
    return bool(db.execute(select(exists().where(col(Membership.user_id) == user_id))).scalar())


def create_firm(db: Session, *, user_id: int, details: FirmDetails) -> Firm:
    """A new firm with a fresh ARN and client-link code, its creator as administrator. Refused if the person
    already belongs to a firm. The unique constraints are the final word on collisions and double clicks."""
    if has_membership(db, user_id):
        raise Refused(Refusal.ALREADY_IN_A_FIRM)
    for _ in range(CREATE_ATTEMPTS):
        firm = Firm(arn=_unused_arn(db), link_uid=_unused_link_uid(db), **asdict(details))
        try:
            with db.begin_nested():
                db.add(firm)
                db.flush()
                assert firm.id is not None  # flushed
                db.add(Membership(firm_id=firm.id, user_id=user_id, role="admin"))
                db.flush()
        except IntegrityError:
            if has_membership(db, user_id):  # another request of this person's won
                raise Refused(Refusal.ALREADY_IN_A_FIRM) from None
            continue  # an ARN or link code taken since we looked: try fresh ones
        audit.record(db, "agent_services_account_created", authority="self", actor_user_id=user_id,
                     firm_id=firm.id, arn=firm.arn)
        return firm
    raise RuntimeError("could not find a free Agent Reference Number")


def _unused_arn(db: Session) -> str:
    while True:
        arn = identifiers.make_arn(secrets.randbelow(10**7))
        if not db.execute(select(exists().where(col(Firm.arn) == arn))).scalar():
            return arn


def _unused_link_uid(db: Session) -> str:
    while True:
        uid = "".join(secrets.choice(LINK_UID_ALPHABET) for _ in range(LINK_UID_LENGTH))
        if not db.execute(select(exists().where(col(Firm.link_uid) == uid))).scalar():
            return uid


# --- the firm's contact address ----------------------------------------------------------------------------------


def proved_by(db: Session, *, user_id: int, email: str) -> bool:
    """Whether `email` is already proved for this person: their own sign-in address, confirmed. Such an address
    becomes a firm's contact at once; any other waits for its emailed link."""
    user = db.get(User, user_id)
    return (user is not None and user.email_confirmed_at is not None
            and user.email == email.strip().lower())


def _open_requests(db: Session, firm_id: int) -> list[EmailToken]:
    now = utcnow()
    rows = db.execute(select(EmailToken).where(col(EmailToken.purpose) == accounts.FIRM_CONTACT,
                                               col(EmailToken.used_at).is_(None))
                      .order_by(col(EmailToken.id).desc())).scalars().all()
    return [row for row in rows if row.payload.get("firm_id") == firm_id and aware(row.expires_at) > now]


def pending_contact(db: Session, firm_id: int) -> EmailToken | None:
    """The address the firm asked for that has not been confirmed yet (its link still works), if any."""
    requests = _open_requests(db, firm_id)
    return requests[0] if requests else None


def ask_to_confirm_contact(db: Session, *, firm_id: int, user_id: int, email: str, lifetime: timedelta) -> str:
    """A single-use link (the token, returned once for the email) that makes `email` the firm's contact when it is
    followed. Until then the contact stays as it was; an earlier request of the firm's stops working."""
    earlier = [row.id for row in _open_requests(db, firm_id)]
    if earlier:
        db.execute(update(EmailToken).where(col(EmailToken.id).in_(earlier)).values(used_at=utcnow()))
    token = accounts.new_email_token(db, purpose=accounts.FIRM_CONTACT, email=email.strip().lower(),
                                     lifetime=lifetime, user_id=user_id, payload={"firm_id": firm_id})
    audit.record(db, "firm_contact_change_requested", authority="agent", actor_user_id=user_id, firm_id=firm_id)
    return token


def change_contact(db: Session, *, firm: Firm, user_id: int, email: str) -> None:
    """Only for an address already proved (proved_by): it becomes the contact now."""
    if not proved_by(db, user_id=user_id, email=email):
        raise ValueError("an unconfirmed address cannot become a firm's contact")
    for row in _open_requests(db, firm.id):  # an older request must not undo this later
        row.used_at = utcnow()
        db.add(row)
    firm.email = email.strip().lower()
    db.add(firm)
    audit.record(db, "firm_contact_changed", authority="agent", actor_user_id=user_id, firm_id=firm.id)


def confirm_contact(db: Session, *, token: str) -> Firm | None:
    """The emailed link followed: the address becomes the firm's contact, provided the administrator who asked
    still is one. None for a link that is unknown, used, expired, or no longer stands."""
    record = accounts.use_email_token(db, accounts.FIRM_CONTACT, token)
    if record is None or record.user_id is None:
        return None
    firm = db.get(Firm, record.payload.get("firm_id"))
    asker_is_admin = firm is not None and db.execute(select(exists().where(
        col(Membership.firm_id) == firm.id, col(Membership.user_id) == record.user_id,
        col(Membership.role) == "admin"))).scalar()
    if firm is None or not asker_is_admin:
        return None
    firm.email = record.email
    db.add(firm)
    audit.record(db, "firm_contact_changed", authority="agent", actor_user_id=record.user_id, firm_id=firm.id)
    return firm
