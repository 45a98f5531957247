"""A firm's team (domain.md §4.2, accounts.md): administrators change members' roles and remove them; a member
can leave; a firm always keeps at least one administrator. Every change is in the firm's activity with who did it.

Removing a member (or a member leaving) ends their sessions at once, and takes them out of the firm's access
groups, so nothing of the firm is left to them on their next request.

Session first, keyword-only after, never commits; a refusal is `Refused(Refusal.X)`.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from portal.domain import audit
from portal.domain.models import AccessGroup, AccessGroupMember, Membership, UserSession, utcnow
from portal.domain.sql import table_of

ROLES = ("admin", "standard")


class Refusal(StrEnum):
    NOT_A_MEMBER = "not_a_member"  # nobody of that id in this firm
    LAST_ADMIN = "last_admin"  # the firm would have no administrator left
    BAD_ROLE = "bad_role"


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
