"""Trusted helpers' rules (domain.md §5): a person asks a friend or relative to help with their tax.

This module manages the link between the two people: the invitation, accepting or declining it, and either side
ending it. What a helper may then see is portal.domain.access's business. Like portal.domain.handshake, every
change is a compare-and-set on the link's status (of two clicks racing, only the first changes anything), writes
its audit event in the same transaction, never commits, and says no with `Refused(Refusal.X)`.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, func, select, update
from sqlmodel import Session, col

from portal.domain import accounts, audit, notifications
from portal.domain.accounts import token_hash
from portal.domain.models import HelperLink, Taxpayer, User, utcnow

MAX_PEOPLE_HELPED = 5  # domain.md §5: a helper can help up to five people
MAX_TOKEN_LENGTH = 100
INVITED, ACTIVE = "invited", "active"
OPEN = (INVITED, ACTIVE)


class Refusal(StrEnum):
    """Why a change to a helper link cannot be made: the pages word each one their own way."""

    OWN_EMAIL = "own_email"  # nobody can be their own helper
    ALREADY_HELPING = "already_helping"
    ALREADY_INVITED = "already_invited"
    WRONG_PERSON = "wrong_person"  # only someone signed in with the invited email can answer
    LIMIT_REACHED = "limit_reached"  # the helper already helps MAX_PEOPLE_HELPED people
    NOT_OPEN = "not_open"  # answered, withdrawn or ended meanwhile (a double click, another tab, the other side)
    EMAIL_UNCONFIRMED = "email_unconfirmed"  # the invitee has not yet proved the address the invitation went to


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


# --- queries -----------------------------------------------------------------------------------------------------


def personal_taxpayer(db: Session, user_id: int) -> Taxpayer | None:
    """The person's own individual tax account; with several, the first one linked."""
    return db.execute(
        select(Taxpayer).where(col(Taxpayer.owner_user_id) == user_id, col(Taxpayer.client_type) == "personal")
        .order_by(col(Taxpayer.id)).limit(1)
    ).scalar_one_or_none()


def open_link_for(db: Session, taxpayer_id: int, email: str) -> HelperLink | None:
    return db.execute(
        select(HelperLink).where(col(HelperLink.taxpayer_id) == taxpayer_id, col(HelperLink.invited_email) == email,
                                 col(HelperLink.status).in_(OPEN))
    ).scalars().first()


def people_helped(db: Session, user_id: int) -> int:
    query = select(func.count()).select_from(HelperLink).where(
        col(HelperLink.helper_user_id) == user_id, col(HelperLink.status) == ACTIVE)
    return int(db.execute(query).scalar_one())


def link_by_token(db: Session, token: str) -> HelperLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.execute(
        select(HelperLink).where(col(HelperLink.invite_token_hash) == token_hash(token))
    ).scalar_one_or_none()


# --- changes -----------------------------------------------------------------------------------------------------


def _move(db: Session, link: HelperLink, from_status: str, **values: object) -> bool:
    """A conditional update: of two clicks racing, only the first changes anything. The link is read again, so
    the caller sees what won."""
    # An UPDATE's result is a CursorResult, which has the row count; Session.execute is typed for any statement.
    result = cast(CursorResult[Any], db.execute(
        update(HelperLink).where(col(HelperLink.id) == link.id, col(HelperLink.status) == from_status)
        .values(**values).execution_options(synchronize_session=False)
    ))
    db.refresh(link)
    return result.rowcount == 1


def check_can_invite(db: Session, *, taxpayer_id: int, inviter_email: str, email: str) -> None:
    """Raises Refused if this person may not ask `email` to help them now."""
    email = email.lower()
    if email == inviter_email.lower():
        raise Refused(Refusal.OWN_EMAIL)
    if (existing := open_link_for(db, taxpayer_id, email)) is not None:
        raise Refused(Refusal.ALREADY_HELPING if existing.status == ACTIVE else Refusal.ALREADY_INVITED)


def invite(db: Session, *, taxpayer_id: int, inviter_user_id: int, inviter_email: str,
           email: str) -> tuple[HelperLink, str]:
    """A new invitation, and the token for the link the person passes on (only its hash is kept)."""
    email = email.lower()
    check_can_invite(db, taxpayer_id=taxpayer_id, inviter_email=inviter_email, email=email)
    token = secrets.token_urlsafe(32)
    link = HelperLink(taxpayer_id=taxpayer_id, invited_email=email, invite_token_hash=token_hash(token))
    db.add(link)
    db.flush()
    audit.record(db, "helper_invited", authority="self", actor_user_id=inviter_user_id, taxpayer_id=taxpayer_id,
                 helper_link_id=link.id, email=email)
    notifications.helper_invited(db, link, token=token)
    return link, token


def _check_invitee(link: HelperLink, email: str) -> None:
    if email.lower() != link.invited_email:
        raise Refused(Refusal.WRONG_PERSON)


def check_address_confirmed(db: Session, user_id: int) -> None:
    """Only someone who has proved the invited address may answer the invitation (issue 12): an account made
    for that address, but never confirmed, could belong to anybody."""
    if not accounts.email_confirmed(db, user_id):
        raise Refused(Refusal.EMAIL_UNCONFIRMED)


def accept(db: Session, *, link: HelperLink, user_id: int, email: str) -> None:
    """The invited person agrees to help, unless they already help MAX_PEOPLE_HELPED people."""
    _check_invitee(link, email)
    check_address_confirmed(db, user_id)
    # Lock the helper's row, so two acceptances at once cannot both squeeze under the limit.
    db.execute(select(col(User.id)).where(col(User.id) == user_id).with_for_update())
    if people_helped(db, user_id) >= MAX_PEOPLE_HELPED:
        raise Refused(Refusal.LIMIT_REACHED)
    if not _move(db, link, INVITED, status=ACTIVE, helper_user_id=user_id, accepted_at=utcnow(),
                 invite_token_hash=None):
        raise Refused(Refusal.NOT_OPEN)
    audit.record(db, "helper_accepted", authority="helper", actor_user_id=user_id, taxpayer_id=link.taxpayer_id,
                 helper_link_id=link.id)


def decline(db: Session, *, link: HelperLink, user_id: int, email: str) -> None:
    _check_invitee(link, email)
    check_address_confirmed(db, user_id)
    if not _move(db, link, INVITED, status="declined", ended_at=utcnow(), ended_by="helper"):
        raise Refused(Refusal.NOT_OPEN)
    audit.record(db, "helper_declined", authority="helper", actor_user_id=user_id, taxpayer_id=link.taxpayer_id,
                 helper_link_id=link.id)


def withdraw(db: Session, *, link: HelperLink, actor_user_id: int) -> None:
    """The person takes back an invitation nobody has answered yet."""
    if not _move(db, link, INVITED, status="withdrawn", ended_at=utcnow(), ended_by="client"):
        raise Refused(Refusal.NOT_OPEN)
    audit.record(db, "helper_invitation_withdrawn", authority="self", actor_user_id=actor_user_id,
                 taxpayer_id=link.taxpayer_id, helper_link_id=link.id, email=link.invited_email)


def end(db: Session, *, link: HelperLink, ended_by: Literal["client", "helper"], actor_user_id: int) -> None:
    """Ends an active link, from either side; the helper's access ends with it (portal.domain.access reads the
    link's status). The person's ending records who was removed by user id: the helper is a person with a sign-in
    by now, and the invited email is already on the link (helper_invited recorded it)."""
    ended_by_client = ended_by == "client"
    if not _move(db, link, ACTIVE, status="ended", ended_at=utcnow(), ended_by=ended_by):
        raise Refused(Refusal.NOT_OPEN)
    if ended_by_client:
        audit.record(db, "helper_removed", authority="self", actor_user_id=actor_user_id,
                     taxpayer_id=link.taxpayer_id, helper_link_id=link.id, helper_user_id=link.helper_user_id)
    else:
        audit.record(db, "helper_ended", authority="helper", actor_user_id=actor_user_id,
                     taxpayer_id=link.taxpayer_id, helper_link_id=link.id)
    notifications.helper_ended(db, link, ended_by=ended_by)
