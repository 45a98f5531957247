"""Taxpayers' own records: a person linking their tax account to their sign-in (domain.md §4.1), and changing
a client's details (their postal address and contact details).

Session first, keyword-only after, never commits; each change writes its audit event in the same transaction, and
a refusal is `Refused(Refusal.X)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlmodel import Session, col

from portal.domain import audit, identifiers, notifications, ratelimits
from portal.domain.identifiers import IdentifierKind
from portal.domain.models import Taxpayer, TaxpayerIdentifier
from portal.domain.people import Authority, Viewer

LINK_ATTEMPTS_ALLOWED = 5
LINK_WINDOW = timedelta(minutes=15)


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # no unclaimed account with those details (the same answer if someone else owns it)
    NOT_ALLOWED = "not_allowed"  # the person's authority does not cover changing details


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


class DetailsPart(StrEnum):
    ADDRESS = "address"
    CONTACT = "contact"
    SCOTTISH_TAXPAYER = "scottish-taxpayer"


ADDRESS_FIELDS = ("address_line1", "address_line2", "town", "postcode")  # a firm's address has the same ones
DETAILS_FIELDS: Mapping[DetailsPart, tuple[str, ...]] = {
    DetailsPart.ADDRESS: ADDRESS_FIELDS,
    DetailsPart.CONTACT: ("email", "phone"),
    # Decides the Income Tax rates on non-savings income (domain.md §9.2).
    DetailsPart.SCOTTISH_TAXPAYER: ("scottish_taxpayer",),
}
DETAILS_AUDIT_ACTIONS: Mapping[DetailsPart, str] = {
    DetailsPart.ADDRESS: "address_changed",
    DetailsPart.CONTACT: "contact_details_changed",
    DetailsPart.SCOTTISH_TAXPAYER: "scottish_taxpayer_changed",
}
# Parts held as one yes/no column: answered "yes" or "no", stored as a boolean.
YES_NO_PARTS = frozenset({DetailsPart.SCOTTISH_TAXPAYER})
YES_NO = {"yes": True, "no": False}
# Parts only a person has: a company or a trust is never a Scottish taxpayer.
PERSONAL_ONLY_PARTS = frozenset({DetailsPart.SCOTTISH_TAXPAYER})


def has_part(taxpayer: Taxpayer, part: DetailsPart) -> bool:
    return part not in PERSONAL_ONLY_PARTS or taxpayer.client_type == "personal"


# --- linking a tax account to a sign-in ------------------------------------------------------------------------


def _link_limit_key(user_id: int) -> str:
    return ratelimits.limit_key("link-tax-account", str(user_id))


def link_locked(db: Session, *, user_id: int, now: datetime) -> bool:
    """Too many failed attempts lately: guessing other people's references is not a way in."""
    return ratelimits.is_limited(db, key=_link_limit_key(user_id), limit=LINK_ATTEMPTS_ALLOWED, window=LINK_WINDOW,
                                 now=now)


def find_linkable(db: Session, kind: IdentifierKind, value: str, postcode: str) -> Taxpayer | None:
    """The taxpayer with this reference and postcode (already normalised), claimed or not."""
    if kind is IdentifierKind.NINO:  # stored with its suffix; a person may type it with or without one
        values = [value + suffix for suffix in "ABCD"] + [value]
    else:
        values = [value]
    taxpayer: Taxpayer | None = db.execute(
        select(Taxpayer)
        .join(TaxpayerIdentifier, col(TaxpayerIdentifier.taxpayer_id) == col(Taxpayer.id))
        .where(col(TaxpayerIdentifier.kind) == kind, col(TaxpayerIdentifier.value).in_(values))
    ).scalars().first()
    if taxpayer is None or identifiers.normalise_postcode(taxpayer.postcode) != postcode:
        return None
    return taxpayer


def _claim(db: Session, taxpayer_id: int, user_id: int) -> bool:
    """Only an unclaimed account: a conditional update, so two people racing for it cannot both win."""
    result = cast(CursorResult[Any], db.execute(  # an UPDATE's result has the row count; execute is typed for any
        update(Taxpayer).where(col(Taxpayer.id) == taxpayer_id, col(Taxpayer.owner_user_id).is_(None))
        .values(owner_user_id=user_id).execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def link_tax_account(db: Session, *, user_id: int, kind: IdentifierKind, value: str, postcode: str,
                     now: datetime) -> Taxpayer:
    """The tax account these details identify, now this person's (already theirs: returned as it is).

    Refused(NOT_FOUND) when there is none, or someone else owns it, which reads the same so as not to tell a
    stranger an account exists; the failed attempt is recorded first, and counts towards `link_locked`."""
    taxpayer = find_linkable(db, kind, value, postcode)
    if taxpayer is not None and taxpayer.owner_user_id == user_id:
        return taxpayer
    if taxpayer is None or taxpayer.id is None or not _claim(db, taxpayer.id, user_id):
        ratelimits.record_attempt(db, key=_link_limit_key(user_id), window=LINK_WINDOW, now=now)
        audit.record(db, "tax_account_link_failed", authority="self", actor_user_id=user_id)
        raise Refused(Refusal.NOT_FOUND)
    db.refresh(taxpayer)
    audit.record(db, "tax_account_linked", authority="self", actor_user_id=user_id, taxpayer_id=taxpayer.id)
    return taxpayer


# --- a client's details ----------------------------------------------------------------------------------------


def details_values(taxpayer: Taxpayer, part: DetailsPart) -> dict[str, str]:
    """The part's fields as they stand, as text ("" for none; "yes" or "no" for a yes/no part)."""
    if part in YES_NO_PARTS:
        return {name: "yes" if getattr(taxpayer, name) else "no" for name in DETAILS_FIELDS[part]}
    return {name: str(getattr(taxpayer, name) or "") for name in DETAILS_FIELDS[part]}


def change_details(db: Session, *, authority: Authority, viewer: Viewer, part: DetailsPart,
                   values: Mapping[str, str]) -> None:
    """Saves one part of the details (every one of its fields, already checked) with the old and new values in
    the audit event; the firm is recorded when an agent made the change."""
    if not authority.can_change_details or not has_part(authority.taxpayer, part):
        raise Refused(Refusal.NOT_ALLOWED)
    if set(values) != set(DETAILS_FIELDS[part]):
        raise ValueError(f"the {part} details are {DETAILS_FIELDS[part]}, not {tuple(values)}")
    taxpayer = authority.taxpayer
    old = details_values(taxpayer, part)
    for name, value in values.items():
        setattr(taxpayer, name, YES_NO[value] if part in YES_NO_PARTS else value)
    db.add(taxpayer)
    audit.record(db, DETAILS_AUDIT_ACTIONS[part], authority=authority.kind, actor_user_id=viewer.user_id,
                 firm_id=viewer.firm_id if authority.kind == "agent" else None, taxpayer_id=taxpayer.id,
                 old=old, new=dict(values))
    if authority.kind != "self":  # done on the client's behalf: they hear of it (unless they turned that off)
        notifications.details_changed(db, taxpayer, part=part.value, actor_user_id=viewer.user_id,
                                      firm_id=viewer.firm_id if authority.kind == "agent" else None)
