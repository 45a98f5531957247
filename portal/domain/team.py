"""A firm's team (domain.md §4.2, accounts.md): administrators change members' roles and remove them; a member
can leave; a firm always keeps at least one administrator. Every change is in the firm's activity with who did it.

Removing a member (or a member leaving) ends their sessions at once, and takes them out of the firm's access
groups, so nothing of the firm is left to them on their next request.

Session first, keyword-only after, never commits; a refusal is `Refused(Refusal.X)`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from portal.domain import audit, notifications
from portal.domain.accounts import email_confirmed, token_hash
from portal.domain.models import Firm, Membership, User, UserSession, utcnow
from portal.domain.sql import table_of
from portal.domain.team_models import AccessGroup, AccessGroupMember, FirmInvitation
from portal.domain.times import aware

ROLES = ("admin", "standard")
INVITATION_LIFETIME = timedelta(days=14)
MAX_TOKEN_LENGTH = 100


class Refusal(StrEnum):
    NOT_A_MEMBER = "not_a_member"  # nobody of that id in this firm
    LAST_ADMIN = "last_admin"  # the firm would have no administrator left
    BAD_ROLE = "bad_role"
    ALREADY_MEMBER = "already_member"  # the address already belongs to someone in this firm
    ALREADY_INVITED = "already_invited"  # an open invitation to that address exists: resend it instead
    WRONG_PERSON = "wrong_person"  # signed in with another address than the one invited
    IN_ANOTHER_FIRM = "in_another_firm"  # a person belongs to one firm
    NOT_OPEN = "not_open"  # used, withdrawn or expired
    ADDRESS_NOT_CONFIRMED = "address_not_confirmed"  # only a proved address joins a firm


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


def _membership(db: Session, firm_id: int, user_id: int) -> Membership:
    # Locked, so two administrators demoting each other at once cannot leave the firm with none.
    membership: Membership | None = db.execute(
        select(Membership).where(col(Membership.user_id) == user_id).with_for_update()).scalar_one_or_none()
    if membership is None or membership.firm_id != firm_id:
        raise Refused(Refusal.NOT_A_MEMBER)
    return membership


def _other_admins(db: Session, firm_id: int, user_id: int) -> int:
    rows = db.execute(select(col(Membership.user_id)).where(col(Membership.firm_id) == firm_id,
                                                            col(Membership.role) == "admin").with_for_update()
                      ).scalars().all()
    return len([admin for admin in rows if admin != user_id])


def change_role(db: Session, *, firm_id: int, user_id: int, role: str, actor_user_id: int) -> None:
    if role not in ROLES:
        raise Refused(Refusal.BAD_ROLE)
    membership = _membership(db, firm_id, user_id)
    if membership.role == role:
        return
    if membership.role == "admin" and _other_admins(db, firm_id, user_id) == 0:
        raise Refused(Refusal.LAST_ADMIN)
    audit.record(db, "team_member_role_changed", authority="agent", actor_user_id=actor_user_id, firm_id=firm_id,
                 member_user_id=user_id, role=role, was=membership.role)
    membership.role = role


def remove(db: Session, *, firm_id: int, user_id: int, actor_user_id: int) -> None:
    """An administrator removes a member, or (actor = the member) a member leaves. Their sessions end now."""
    membership = _membership(db, firm_id, user_id)
    if membership.role == "admin" and _other_admins(db, firm_id, user_id) == 0:
        raise Refused(Refusal.LAST_ADMIN)
    groups = select(col(AccessGroup.id)).where(col(AccessGroup.firm_id) == firm_id)
    members = table_of(AccessGroupMember)
    db.execute(delete(members).where(members.c.user_id == user_id, members.c.group_id.in_(groups)))
    db.delete(membership)
    sessions = table_of(UserSession)
    db.execute(update(sessions).where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
               .values(ended_at=utcnow(), journeys={}))
    audit.record(db, "team_member_left" if actor_user_id == user_id else "team_member_removed", authority="agent",
                 actor_user_id=actor_user_id, firm_id=firm_id, member_user_id=user_id)
    db.flush()


def admin_count(db: Session, firm_id: int) -> int:
    return int(db.execute(select(func.count()).select_from(Membership).where(
        col(Membership.firm_id) == firm_id, col(Membership.role) == "admin")).scalar_one())


# --- invitations ---------------------------------------------------------------------------------------------------


def is_open(invitation: FirmInvitation, now: datetime | None = None) -> bool:
    return (invitation.accepted_at is None and invitation.withdrawn_at is None
            and aware(invitation.expires_at) > (now or utcnow()))


def open_invitations(db: Session, firm_id: int) -> list[FirmInvitation]:
    """Invitations not used or withdrawn, newest first; expired ones stay listed (to resend or withdraw)."""
    return list(db.execute(select(FirmInvitation).where(
        col(FirmInvitation.firm_id) == firm_id, col(FirmInvitation.accepted_at).is_(None),
        col(FirmInvitation.withdrawn_at).is_(None)).order_by(col(FirmInvitation.created_at).desc(),
                                                             col(FirmInvitation.id).desc())).scalars())


def invitation_of(db: Session, *, firm_id: int, invitation_id: int) -> FirmInvitation | None:
    invitation = db.get(FirmInvitation, invitation_id)
    return invitation if invitation is not None and invitation.firm_id == firm_id else None


def invitation_by_token(db: Session, token: str) -> FirmInvitation | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    found: FirmInvitation | None = db.execute(select(FirmInvitation).where(
        col(FirmInvitation.token_hash) == token_hash(token))).scalar_one_or_none()
    return found


def invite(db: Session, *, firm_id: int, email: str, role: str, actor_user_id: int) -> FirmInvitation:
    """An invitation by email, its single-use link sent through the outbox with this change."""
    email = email.strip().lower()
    if role not in ROLES:
        raise Refused(Refusal.BAD_ROLE)
    member = db.execute(select(col(Membership.id)).join(User, col(User.id) == Membership.user_id).where(
        col(Membership.firm_id) == firm_id, func.lower(col(User.email)) == email)).first()
    if member is not None:
        raise Refused(Refusal.ALREADY_MEMBER)
    if any(invitation.email == email for invitation in open_invitations(db, firm_id)):
        raise Refused(Refusal.ALREADY_INVITED)
    invitation = FirmInvitation(firm_id=firm_id, email=email, role=role, invited_by_user_id=actor_user_id,
                                expires_at=utcnow() + INVITATION_LIFETIME)
    db.add(invitation)
    db.flush()
    audit.record(db, "team_member_invited", authority="agent", actor_user_id=actor_user_id, firm_id=firm_id,
                 email=email, role=role)
    _send(db, invitation)
    return invitation


def _send(db: Session, invitation: FirmInvitation) -> None:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    firm = db.get(Firm, invitation.firm_id)
    inviter = db.get(User, invitation.invited_by_user_id)
    assert firm is not None and inviter is not None
    notifications.team_invitation(db, email=invitation.email, firm_name=firm.name, inviter_name=inviter.name,
                                  role=invitation.role, token=token, expires_at=aware(invitation.expires_at))


def resend(db: Session, invitation: FirmInvitation, *, actor_user_id: int) -> None:
    """A fresh link (the old one stops working) and a fresh expiry."""
    if invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise Refused(Refusal.NOT_OPEN)
    invitation.expires_at = utcnow() + INVITATION_LIFETIME
    audit.record(db, "team_invitation_resent", authority="agent", actor_user_id=actor_user_id,
                 firm_id=invitation.firm_id, email=invitation.email)
    _send(db, invitation)


def withdraw(db: Session, invitation: FirmInvitation, *, actor_user_id: int) -> None:
    if invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise Refused(Refusal.NOT_OPEN)
    invitation.withdrawn_at, invitation.token_hash = utcnow(), None
    audit.record(db, "team_invitation_withdrawn", authority="agent", actor_user_id=actor_user_id,
                 firm_id=invitation.firm_id, email=invitation.email)


def join(db: Session, invitation: FirmInvitation, *, user_id: int, email: str) -> None:
    """The invited person, signed in with the invited address (a confirmed one), joins the firm in the invited role.
    From then on `two_step.required` holds for them: the page that calls this sends them to set it up."""
    if not is_open(invitation):
        raise Refused(Refusal.NOT_OPEN)
    if email.strip().lower() != invitation.email:
        raise Refused(Refusal.WRONG_PERSON)
    if not email_confirmed(db, user_id):
        raise Refused(Refusal.ADDRESS_NOT_CONFIRMED)
    if db.execute(select(col(Membership.id)).where(col(Membership.user_id) == user_id)).first() is not None:
        raise Refused(Refusal.IN_ANOTHER_FIRM)
    db.add(Membership(firm_id=invitation.firm_id, user_id=user_id, role=invitation.role))
    invitation.accepted_at, invitation.accepted_user_id, invitation.token_hash = utcnow(), user_id, None
    audit.record(db, "team_member_joined", authority="agent", actor_user_id=user_id, firm_id=invitation.firm_id,
                 role=invitation.role, invited_by_user_id=invitation.invited_by_user_id)
    db.flush()
