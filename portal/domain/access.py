"""The one gate: what may this person do for this taxpayer?

Every client-scoped request asks `authority_for` once, through `portal.web.gate.require_authority`. The
answer is the set of actions allowed per regime, or None, which the web turns into a 404 that looks exactly
like a taxpayer that does not exist. Handlers, templates and menus read
that answer; nothing re-derives it. Lists of clients apply the same staff-access rule as a query
(`restricted_by_groups` and `in_no_group_or_mine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, not_, or_, select, union_all
from sqlmodel import Session, col

from portal.domain.models import Authorisation, HelperLink, Taxpayer, TaxpayerIdentifier
from portal.domain.people import Authority, Viewer
from portal.domain.services import BY_KEY, SELF_ACTIONS, Action
from portal.domain.sql import table_of
from portal.domain.team_models import AccessGroup, AccessGroupClient, AccessGroupExclusion, AccessGroupMember

# What a trusted helper may do (domain.md §5): personal tax account tasks, never a tax return.
HELPER_REGIMES: Mapping[str, frozenset[Action]] = {"IRV": frozenset({Action.VIEW})}
HELPER_CAN_CHANGE_DETAILS = True

IDENTIFIER_REGIMES = {"nino": ("ITSA", "IRV"), "vrn": ("VAT",), "cgt": ("CGT",), "ppt": ("PPT",),
                      "cbc": ("CBC",), "plr": ("PLR",), "urn": ("TRS",)}


def restricted_by_groups(viewer: Viewer) -> bool:
    """Staff access inside a firm (domain.md §4.3): with access groups on, a standard user sees a client only
    if it is in no group, or in a group they belong to. Administrators see every client."""
    return viewer.access_groups_enabled and not viewer.is_firm_admin


# Its own name: the queries this rule goes into often read authorisation themselves (the gate does), and the
# rule's authorisation must not be mistaken for theirs.
_group_auth = table_of(Authorisation).alias("group_authorisation")
_exclusion = table_of(AccessGroupExclusion)


def _groups(firm_id: object, group_id: object, user_id: object) -> Select[int]:
    """The firm's groups (only `group_id`; only those `user_id` belongs to): a custom group's clients are read from
    these few ids. (Joined the other way, from the groups' clients to their firm and members, PostgreSQL read every
    group's clients once per group of the firm: 5 ms at 13,000 clients, twice a page.)"""
    groups = select(col(AccessGroup.id)).where(col(AccessGroup.firm_id) == firm_id)
    if group_id is not None:
        groups = groups.where(col(AccessGroup.id) == group_id)
    if user_id is not None:
        groups = groups.where(col(AccessGroup.id).in_(
            select(col(AccessGroupMember.group_id)).where(col(AccessGroupMember.user_id) == user_id)))
    return groups.correlate(None)  # uncorrelated: a query that reads access_group itself keeps its own


def _service_memberships(column: ColumnElement[int], *, firm_id: object, group_id: object, user_id: object,
                         client: ColumnElement[int] | None = None) -> Select[int]:
    """`column` of every (client, tax-service group) pair of the firm (only `group_id`; only groups `user_id`
    belongs to; only `client`'s, for the rule client by client): a tax-service group holds every client the firm
    acts for in its regime (a live authorisation), less its exclusions. Worked out here, never copied, so it
    follows clients as they come and go."""
    # Client by client, the exclusion is looked up for the outer query's client, which PostgreSQL reads as a
    # value: matched on the authorisation's client (equal through the join), it planned an anti-join per client
    # and an administrator's "in no group" list took 23 ms, not 11 (100,000 clients).
    excluded = select(_exclusion.c.group_id).where(
        _exclusion.c.group_id == AccessGroup.id,
        _exclusion.c.taxpayer_id == (_group_auth.c.taxpayer_id if client is None else client))
    if client is not None:
        excluded = excluded.correlate_except(_exclusion)
    memberships: Select[int] = select(column).select_from(_group_auth).join(
        AccessGroup, and_(col(AccessGroup.firm_id) == _group_auth.c.firm_id,
                          col(AccessGroup.regime) == _group_auth.c.regime)
    ).where(_group_auth.c.firm_id == firm_id, _group_auth.c.ended_at.is_(None), not_(exists(excluded)))
    if client is not None:
        memberships = memberships.where(_group_auth.c.taxpayer_id == client)
    if group_id is not None:
        memberships = memberships.where(col(AccessGroup.id) == group_id)
    if user_id is not None:
        memberships = memberships.join(AccessGroupMember, col(AccessGroupMember.group_id) == AccessGroup.id
                                       ).where(col(AccessGroupMember.user_id) == user_id)
    return memberships


def _groups_holding(taxpayer_id: ColumnElement[int], *, firm_id: object, group_id: object = None,
                    user_id: object = None) -> tuple[Select[int], Select[int]]:
    """The firm's groups holding the client (only `group_id`; only groups `user_id` belongs to), as two selects of
    group ids: custom groups, from their access_group_client rows; tax-service groups (`_service_memberships`).
    Values or bind parameters alike (for prebuilt queries)."""
    custom: Select[int] = select(col(AccessGroupClient.group_id).label("group_id")).where(
        col(AccessGroupClient.taxpayer_id) == taxpayer_id,
        col(AccessGroupClient.group_id).in_(_groups(firm_id, group_id, user_id)))
    # Driven from the client's own few authorisations (ix_authorisation_taxpayer), then the firm's group for
    # that regime: a handful of index lookups per client, however many clients the firm has.
    by_service = _service_memberships(col(AccessGroup.id).label("group_id"), firm_id=firm_id, group_id=group_id,
                                      user_id=user_id, client=taxpayer_id)
    return custom, by_service


def in_a_group(taxpayer_id: ColumnElement[int], *, firm_id: object, group_id: object = None,
               user_id: object = None) -> ColumnElement[bool]:
    """The client is in one of the firm's groups (only `group_id`, if given; only groups `user_id` belongs to, if
    given), asked client by client (`_groups_holding`)."""
    custom, by_service = _groups_holding(taxpayer_id, firm_id=firm_id, group_id=group_id, user_id=user_id)
    return or_(exists(custom), exists(by_service))


def in_groups_of(taxpayer_id: ColumnElement[int], *, firm_id: object, user_id: object = None,
                 group_id: object = None) -> ColumnElement[bool]:
    """Exactly `in_a_group(..., user_id=..., group_id=...)`, as sets the database works out once per query rather
    than once per client: for lists that keep only the clients of some groups ("My clients", an administrator's
    filter by group or member), where walking a 100,000-client list in name order and asking per client took
    hundreds of milliseconds to find a page (and the capped count) among the few in the groups."""
    custom = select(col(AccessGroupClient.taxpayer_id)).where(
        col(AccessGroupClient.group_id).in_(_groups(firm_id, group_id, user_id)))
    by_service = _service_memberships(_group_auth.c.taxpayer_id, firm_id=firm_id, group_id=group_id, user_id=user_id)
    return or_(taxpayer_id.in_(custom), taxpayer_id.in_(by_service))


def in_no_group_or_mine(taxpayer_id: ColumnElement[int], *, firm_id: object, user_id: object,
                        as_sets: bool = False) -> ColumnElement[bool]:
    """The group rule as SQL; firm_id and user_id may be values or bind parameters (for prebuilt queries).

    Client by client, in one pass over the client's groups: for the gate and for lists that stop after a page or a
    capped count. As sets (`in_groups_of`, the same membership; the two agree, tests/test_client_filters.py): for a
    query that walks thousands of rows on PostgreSQL, such as What's due's capped count, where a few index lookups
    per row cost more than reading the groups' clients once."""
    if as_sets:
        return or_(not_(in_groups_of(taxpayer_id, firm_id=firm_id)),
                   in_groups_of(taxpayer_id, firm_id=firm_id, user_id=user_id))
    return _in_no_group_or_mine(taxpayer_id, firm_id=firm_id, user_id=user_id)


def _in_no_group_or_mine(taxpayer_id: ColumnElement[int], *, firm_id: object, user_id: object) -> ColumnElement[bool]:
    """The rule client by client, in one pass over the groups holding the client: none, or one with this person in
    it. Asked as "in any group?" and then "in one of mine?", the same rows were read twice and PostgreSQL hashed
    every custom group's clients for each question (a restricted user's client list at 100,000 clients: 14 ms, 7 ms
    so)."""
    custom, by_service = _groups_holding(taxpayer_id, firm_id=firm_id)
    # In FROM, a subquery is not correlated by itself: each names the tables it reads, the rest is the caller's.
    holding = union_all(custom.correlate_except(table_of(AccessGroupClient)),
                        by_service.correlate_except(_group_auth, table_of(AccessGroup))).subquery("holding")
    mine = exists(select(col(AccessGroupMember.group_id)).where(
        col(AccessGroupMember.group_id) == holding.c.group_id, col(AccessGroupMember.user_id) == user_id))
    # In no group: no rows, MAX is NULL and the client is visible; else visible if any of its groups has them.
    shared = select(func.max(case((mine, 1), else_=0))).select_from(holding).scalar_subquery()
    return func.coalesce(shared, 1) == 1


# Every client page asks the gate, so its queries are built once and reuse their compiled SQL.
_auth, _ident, _helper = table_of(Authorisation), table_of(TaxpayerIdentifier), table_of(HelperLink)


@cache
def _agent_services_query(restricted: bool) -> Select[str]:
    conditions = [_auth.c.firm_id == bindparam("firm_id"), _auth.c.taxpayer_id == bindparam("taxpayer_id"),
                  _auth.c.ended_at.is_(None)]
    if restricted:
        conditions.append(in_no_group_or_mine(_auth.c.taxpayer_id, firm_id=bindparam("firm_id"),
                                              user_id=bindparam("user_id")))
    return select(_auth.c.service).where(*conditions)


REGISTRATIONS_QUERY = select(_ident.c.kind).where(_ident.c.taxpayer_id == bindparam("taxpayer_id"))
HELPING_QUERY = select(_helper.c.id).where(
    _helper.c.taxpayer_id == bindparam("taxpayer_id"), _helper.c.helper_user_id == bindparam("user_id"),
    _helper.c.status == "active")


def _agent_authority(db: Session, viewer: Viewer, taxpayer: Taxpayer) -> Authority | None:
    services = db.connection().execute(
        _agent_services_query(restricted_by_groups(viewer)),
        {"firm_id": viewer.firm_id, "taxpayer_id": taxpayer.id, "user_id": viewer.user_id},
    ).scalars().all()
    if not services:
        return None
    actions: dict[str, frozenset[Action]] = {}
    for key in services:
        service = BY_KEY[key]
        actions[service.regime] = actions.get(service.regime, frozenset()) | service.actions
    changes_details = any(Action.CHANGE_DETAILS in allowed for allowed in actions.values())
    return Authority("agent", taxpayer, actions, changes_details, tuple(sorted(services)))


def _registered_regimes(db: Session, taxpayer: Taxpayer) -> set[str]:
    kinds = db.connection().execute(REGISTRATIONS_QUERY, {"taxpayer_id": taxpayer.id}).scalars().all()
    regimes = {regime for kind in kinds for regime in IDENTIFIER_REGIMES.get(kind, ())}
    if "utr" in kinds and taxpayer.client_type == "trust":
        regimes.add("TRS")
    return regimes


def authority_for(db: Session, viewer: Viewer, taxpayer_id: int) -> Authority | None:
    taxpayer = db.get(Taxpayer, taxpayer_id)
    if taxpayer is None:
        return None
    if taxpayer.owner_user_id == viewer.user_id:
        regimes = _registered_regimes(db, taxpayer)
        return Authority("self", taxpayer, {regime: SELF_ACTIONS for regime in regimes}, True)
    if viewer.is_agent and (authority := _agent_authority(db, viewer, taxpayer)):
        return authority
    helping = db.connection().execute(HELPING_QUERY, {"taxpayer_id": taxpayer.id, "user_id": viewer.user_id}).first()
    if helping:
        regimes = _registered_regimes(db, taxpayer) & set(HELPER_REGIMES)
        return Authority("helper", taxpayer, {r: HELPER_REGIMES[r] for r in regimes}, HELPER_CAN_CHANGE_DETAILS)
    return None
