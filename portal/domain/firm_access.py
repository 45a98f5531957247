"""Access groups inside a firm (domain.md §4.3): an administrator turns them on or off, makes custom groups of
clients and team members, and finds the clients nobody has put in a group.

Who may see what is NOT decided here: the gate and every list ask `portal.domain.access` (one rule). This
module only changes the rows that rule reads, so a change takes effect on the person's next request.

Session first, keyword-only after, never commits; each change is audited in the same transaction, and a
refusal is `Refused(Refusal.X)`. Choosing clients among 100,000 is a query (`ClientChoice`): a page of it, its
count, and "every client matching" added to or removed from a group in one INSERT ... SELECT / DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, insert, literal, not_, select
from sqlmodel import Session, col

from portal.domain import audit, group_sets, identifiers
from portal.domain.access import in_a_group
from portal.domain.models import Authorisation, Firm, FirmClient, Membership, Taxpayer, TaxpayerIdentifier, User
from portal.domain.names import name_conditions, name_params, search_words
from portal.domain.numbers import whole_number
from portal.domain.sql import comma_list, contains_pattern, rowcount, table_of
from portal.domain.team_models import AccessGroup, AccessGroupClient, AccessGroupExclusion, AccessGroupMember

MAX_GROUP_NAME_LENGTH = 50  # domain.md §4.3: "under 50 characters"; the column holds 50
MAX_SELECTION = 5000  # clients ticked one by one and kept in a session; more than that is "all matching"
NO_GROUP = "none"  # the group filter meaning "clients in no group" (unassigned)


class Refusal(StrEnum):
    NAME_MISSING = "name_missing"
    NAME_TOO_LONG = "name_too_long"
    NAME_TAKEN = "name_taken"  # unique per firm, compared case-insensitively after trimming
    NOT_A_MEMBER = "not_a_member"  # someone who is not in this firm
    SERVICE_TAKEN = "service_taken"  # one tax-service group per tax service


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


# --- switching groups on and off -------------------------------------------------------------------------------


def set_access_groups(db: Session, *, firm_id: int, actor_user_id: int, enabled: bool) -> None:
    """Turning groups off keeps them (domain.md §4.3): turning them on again restores them as they were."""
    firm = db.get(Firm, firm_id)
    assert firm is not None
    if firm.access_groups_enabled == enabled:
        return  # a second click: nothing changes, nothing to record
    firm.access_groups_enabled = enabled
    audit.record(db, "access_groups_turned_on" if enabled else "access_groups_turned_off", authority="agent",
                 actor_user_id=actor_user_id, firm_id=firm_id)


# --- groups --------------------------------------------------------------------------------------------------------


class GroupSummary(NamedTuple):
    id: int
    name: str
    regime: str | None
    clients: int
    members: int


def groups(db: Session, firm_id: int) -> list[GroupSummary]:
    members = (select(func.count()).where(col(AccessGroupMember.group_id) == AccessGroup.id)
               .correlate(AccessGroup).scalar_subquery())
    rows = db.execute(select(col(AccessGroup.id), col(AccessGroup.name), col(AccessGroup.regime), members)
                      .where(col(AccessGroup.firm_id) == firm_id)
                      .order_by(func.lower(col(AccessGroup.name)), col(AccessGroup.id))).all()
    # Counted by the same rule the gate uses: a tax-service group's clients are not rows to count.
    return [GroupSummary(group_id, name, regime, count_choice(db, ClientChoice(firm_id, group=str(group_id))), n)
            for group_id, name, regime, n in rows]


def group_of(db: Session, *, firm_id: int, group_id: int) -> AccessGroup | None:
    """The firm's group, or None: another firm's group is as absent as one that never existed."""
    group = db.get(AccessGroup, group_id)
    return group if group is not None and group.firm_id == firm_id else None


def _checked_name(db: Session, firm_id: int, raw: str, *, except_id: int | None = None) -> str:
    name = " ".join(raw.split())
    if not name:
        raise Refused(Refusal.NAME_MISSING)
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise Refused(Refusal.NAME_TOO_LONG)
    same = select(col(AccessGroup.id)).where(col(AccessGroup.firm_id) == firm_id,
                                             func.lower(col(AccessGroup.name)) == name.lower())
    if except_id is not None:
        same = same.where(col(AccessGroup.id) != except_id)
    if db.execute(select(exists(same))).scalar():
        raise Refused(Refusal.NAME_TAKEN)
    return name


def create_group(db: Session, *, firm_id: int, actor_user_id: int, name: str) -> AccessGroup:
    group = AccessGroup(firm_id=firm_id, name=_checked_name(db, firm_id, name))
    db.add(group)
    db.flush()
    audit.record(db, "access_group_created", authority="agent", actor_user_id=actor_user_id, firm_id=firm_id,
                 group=group.name)
    return group


GROUP_REGIMES = ("VAT", "ITSA", "TRS", "CGT", "PPT", "CBC", "PLR")  # domain.md §4.3: not Income Record Viewer


def tax_service_group_regimes(db: Session, firm_id: int) -> list[str]:
    """The regimes that have no tax-service group yet: one group per tax service."""
    taken = set(db.execute(select(col(AccessGroup.regime)).where(col(AccessGroup.firm_id) == firm_id,
                                                                  col(AccessGroup.regime).is_not(None))).scalars())
    return [regime for regime in GROUP_REGIMES if regime not in taken]


def create_tax_service_group(db: Session, *, firm_id: int, actor_user_id: int, regime: str, name: str) -> AccessGroup:
    """Every client the firm acts for in `regime`, now and later, less those excluded (remove_clients)."""
    if regime not in tax_service_group_regimes(db, firm_id):
        raise Refused(Refusal.SERVICE_TAKEN)
    group_sets.lock_firms(db, [firm_id])
    group = AccessGroup(firm_id=firm_id, name=_checked_name(db, firm_id, name), regime=regime)
    db.add(group)
    db.flush()
    group_sets.join_group(db, group, [group_sets.holds_regime(regime)])  # a new group: nobody is excluded yet
    audit.record(db, "access_group_created", authority="agent", actor_user_id=actor_user_id, firm_id=firm_id,
                 group=group.name, regime=regime)
    return group


def rename_group(db: Session, group: AccessGroup, *, actor_user_id: int, name: str) -> None:
    new_name = _checked_name(db, group.firm_id, name, except_id=group.id)
    if new_name != group.name:
        audit.record(db, "access_group_renamed", authority="agent", actor_user_id=actor_user_id,
                     firm_id=group.firm_id, group=new_name, was=group.name)
        group.name = new_name


def delete_group(db: Session, group: AccessGroup, *, actor_user_id: int) -> None:
    """Its clients become visible to everyone again, unless they are in another group (domain.md §4.3)."""
    group_sets.forget_group(db, group)
    for table in (table_of(AccessGroupClient), table_of(AccessGroupMember), table_of(AccessGroupExclusion)):
        db.execute(delete(table).where(table.c.group_id == group.id))
    audit.record(db, "access_group_deleted", authority="agent", actor_user_id=actor_user_id, firm_id=group.firm_id,
                 group=group.name)
    db.delete(group)
    db.flush()


# --- team members in a group ---------------------------------------------------------------------------------------


class Person(NamedTuple):
    user_id: int
    name: str
    email: str
    role: str


def firm_members(db: Session, firm_id: int) -> list[Person]:
    rows = db.execute(select(col(User.id), col(User.name), col(User.email), col(Membership.role))
                      .join(Membership, col(Membership.user_id) == User.id)
                      .where(col(Membership.firm_id) == firm_id).order_by(col(User.name), col(User.id))).all()
    return [Person(*row) for row in rows]


def group_members(db: Session, group: AccessGroup) -> list[Person]:
    rows = db.execute(select(col(User.id), col(User.name), col(User.email), col(Membership.role))
                      .join(Membership, col(Membership.user_id) == User.id)
                      .join(AccessGroupMember, col(AccessGroupMember.user_id) == User.id)
                      .where(col(AccessGroupMember.group_id) == group.id, col(Membership.firm_id) == group.firm_id)
                      .order_by(col(User.name), col(User.id))).all()
    return [Person(*row) for row in rows]


def add_member(db: Session, group: AccessGroup, *, user_id: int, actor_user_id: int) -> None:
    membership = db.execute(select(Membership).where(col(Membership.user_id) == user_id)).scalar_one_or_none()
    if membership is None or membership.firm_id != group.firm_id:
        raise Refused(Refusal.NOT_A_MEMBER)
    if db.get(AccessGroupMember, (group.id, user_id)) is not None:
        return
    db.add(AccessGroupMember(group_id=group.id, user_id=user_id))
    audit.record(db, "access_group_member_added", authority="agent", actor_user_id=actor_user_id,
                 firm_id=group.firm_id, group=group.name, member_user_id=user_id)


def remove_member(db: Session, group: AccessGroup, *, user_id: int, actor_user_id: int) -> None:
    """Takes effect on the member's next request: the gate reads these rows on every request."""
    members = table_of(AccessGroupMember)
    removed = db.execute(delete(members).where(members.c.group_id == group.id, members.c.user_id == user_id))
    if rowcount(removed):
        audit.record(db, "access_group_member_removed", authority="agent", actor_user_id=actor_user_id,
                     firm_id=group.firm_id, group=group.name, member_user_id=user_id)


# --- choosing clients ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientChoice:
    """Which of a firm's clients: text (a tax reference, the firm's client reference, or words of the name),
    a regime ("VAT", "ITSA", ...), and a group: "" any, NO_GROUP in no group, or a group's id as a string."""

    firm_id: int
    text: str = ""
    regime: str = ""
    group: str = ""

    def conditions(self) -> tuple[list[ColumnElement[bool]], dict[str, object]]:
        taxpayer_id = cast(ColumnElement[int], col(FirmClient.taxpayer_id))
        group_set_id = cast(ColumnElement[int | None], col(FirmClient.group_set_id))
        conditions: list[ColumnElement[bool]] = [col(FirmClient.firm_id) == self.firm_id]
        params: dict[str, object] = {}
        if self.text:
            kind = identifiers.detect_kind(self.text)
            by_reference = col(FirmClient.client_reference).is_not(None) & func.lower(
                col(FirmClient.client_reference)).like(contains_pattern(self.text), escape="\\")
            if kind is not None:
                conditions.append(taxpayer_id.in_(select(col(TaxpayerIdentifier.taxpayer_id)).where(
                    col(TaxpayerIdentifier.kind) == str(kind),
                    col(TaxpayerIdentifier.value) == identifiers.normalise(kind, self.text))) | by_reference)
            else:
                words = search_words(self.text)
                by_name = name_conditions(taxpayer_id, len(words))
                params |= name_params(words)
                conditions.append(and_(*by_name) | by_reference)
        if self.regime:  # the regimes and groups kept on the client's row (portal.domain.group_sets)
            conditions.append(group_sets.holds_regime(self.regime))
        if self.group == NO_GROUP:
            conditions.append(not_(in_a_group(group_set_id, firm_id=self.firm_id)))
        elif (group_id := whole_number(self.group)) is not None:
            conditions.append(in_a_group(group_set_id, firm_id=self.firm_id, group_id=group_id))
        return conditions, params


class ChoiceRow(NamedTuple):
    taxpayer_id: int
    name: str
    client_reference: str | None
    regimes: str
    groups: str


def count_choice(db: Session, choice: ClientChoice) -> int:
    conditions, params = choice.conditions()
    return cast(int, db.execute(select(func.count()).select_from(FirmClient).where(*conditions), params).scalar_one())


def choice_page(db: Session, choice: ClientChoice, *, limit: int, offset: int) -> list[ChoiceRow]:
    conditions, params = choice.conditions()
    page = (select(col(FirmClient.taxpayer_id), col(FirmClient.sort_name), col(FirmClient.client_reference))
            .where(*conditions).order_by(col(FirmClient.sort_name), col(FirmClient.taxpayer_id))
            .limit(limit).offset(offset).subquery("page"))
    regimes = (select(comma_list(col(Authorisation.regime)))
               .where(col(Authorisation.firm_id) == choice.firm_id,
                      col(Authorisation.taxpayer_id) == page.c.taxpayer_id,
                      col(Authorisation.ended_at).is_(None)).scalar_subquery())
    group_names = (select(comma_list(col(AccessGroup.name)))
                   .join(AccessGroupClient, col(AccessGroupClient.group_id) == AccessGroup.id)
                   .where(col(AccessGroup.firm_id) == choice.firm_id,
                          col(AccessGroupClient.taxpayer_id) == page.c.taxpayer_id).scalar_subquery())
    rows = db.execute(select(page.c.taxpayer_id, col(Taxpayer.name), page.c.client_reference, regimes, group_names)
                      .join(Taxpayer, col(Taxpayer.id) == page.c.taxpayer_id)
                      .order_by(page.c.sort_name, page.c.taxpayer_id), params).all()
    return [ChoiceRow(tid, name, ref, regs or "", grps or "") for tid, name, ref, regs, grps in rows]


def add_clients(db: Session, group: AccessGroup, *, actor_user_id: int, taxpayer_ids: list[int] | None = None,
                matching: ClientChoice | None = None) -> int:
    """Adds the given clients (only the firm's own) or every client matching, in one statement; returns how many
    were added (those already in the group are not counted twice)."""
    conditions, params = _which(group, taxpayer_ids, matching)
    group_sets.lock_firms(db, [group.firm_id])
    if group.regime is not None:  # a tax-service group: adding a client back is ending its exclusion
        exclusions = table_of(AccessGroupExclusion)
        ended = db.execute(delete(exclusions).where(
            exclusions.c.group_id == group.id, exclusions.c.taxpayer_id.in_(_chosen(conditions))), params)
        # Back in the group, if the firm (still) acts for them in its tax service.
        group_sets.join_group(db, group, [*conditions, group_sets.holds_regime(group.regime)], params)
        return _recorded(db, group, "access_group_clients_added", rowcount(ended), actor_user_id)
    chosen = select(literal(group.id), col(FirmClient.taxpayer_id)).where(*conditions).where(~exists(
        select(col(AccessGroupClient.taxpayer_id)).where(col(AccessGroupClient.group_id) == group.id,
                                                        col(AccessGroupClient.taxpayer_id) == FirmClient.taxpayer_id)))
    # RETURNING counts the rows: psycopg reports no rowcount (-1) for an INSERT ... SELECT run this way.
    inserted = insert(table_of(AccessGroupClient)).from_select(["group_id", "taxpayer_id"], chosen)
    added = len(db.execute(inserted.returning(table_of(AccessGroupClient).c.taxpayer_id), params).all())
    group_sets.join_group(db, group, conditions, params)
    return _recorded(db, group, "access_group_clients_added", added, actor_user_id)


def remove_clients(db: Session, group: AccessGroup, *, actor_user_id: int, taxpayer_ids: list[int] | None = None,
                   matching: ClientChoice | None = None) -> int:
    conditions, params = _which(group, taxpayer_ids, matching)
    group_sets.lock_firms(db, [group.firm_id])
    if group.regime is not None:  # a tax-service group: removing a client is excluding it (new clients still join)
        in_group = in_a_group(cast(ColumnElement[int | None], col(FirmClient.group_set_id)), firm_id=group.firm_id,
                              group_id=group.id)
        excluded = select(literal(group.id), col(FirmClient.taxpayer_id)).where(*conditions, in_group)
        exclusions = table_of(AccessGroupExclusion)
        inserted = insert(exclusions).from_select(["group_id", "taxpayer_id"], excluded)
        removed = len(db.execute(inserted.returning(exclusions.c.taxpayer_id), params).all())  # as in add_clients
    else:
        # Core tables: bulk changes the session need not mirror (no group row it holds changes).
        clients = table_of(AccessGroupClient)
        removed = rowcount(db.execute(delete(clients).where(
            clients.c.group_id == group.id, clients.c.taxpayer_id.in_(_chosen(conditions))), params))
    group_sets.leave_group(db, group, conditions, params)
    return _recorded(db, group, "access_group_clients_removed", removed, actor_user_id)


def _recorded(db: Session, group: AccessGroup, action: str, count: int, actor_user_id: int) -> int:
    if count:
        audit.record(db, action, authority="agent", actor_user_id=actor_user_id, firm_id=group.firm_id,
                     group=group.name, count=count)
    return count


def _chosen(conditions: list[ColumnElement[bool]]) -> Select[int]:
    return select(col(FirmClient.taxpayer_id)).where(*conditions)


def _which(group: AccessGroup, taxpayer_ids: list[int] | None,
           matching: ClientChoice | None) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
    if matching is not None:
        assert matching.firm_id == group.firm_id
        return matching.conditions()
    return [col(FirmClient.firm_id) == group.firm_id,
            col(FirmClient.taxpayer_id).in_(list(taxpayer_ids or [])[:MAX_SELECTION])], {}


# --- the firm's client reference ----------------------------------------------------------------------------------

MAX_CLIENT_REFERENCE_LENGTH = 80  # domain.md §4.3: "under 80 characters"


def set_client_reference(db: Session, *, firm_id: int, taxpayer_id: int, actor_user_id: int, reference: str) -> bool:
    """The firm's own name or code for a client; empty clears it. False if the taxpayer is not the firm's client."""
    record = db.get(FirmClient, (firm_id, taxpayer_id))
    if record is None:
        return False
    value = " ".join(reference.split())[:MAX_CLIENT_REFERENCE_LENGTH] or None
    if value != record.client_reference:
        record.client_reference = value
        audit.record(db, "client_reference_changed", authority="agent", actor_user_id=actor_user_id,
                     firm_id=firm_id, taxpayer_id=taxpayer_id)
    return True

