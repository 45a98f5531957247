"""Agent firms (domain.md §4.2): registering an agent services account, which issues an ARN at once.

Session first, keyword-only after, never commits; the audit event is written in the same transaction as the
firm, and a refusal is `Refused(Refusal.X)`.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from portal.domain import audit, identifiers
from portal.domain.models import Firm, Membership

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
