"""The one gate: what may this person do for this taxpayer?

Every client-scoped request asks `authority_for` once, through `portal.web.gate.require_authority`. The
answer is the set of actions allowed per regime, or None, which the web turns into a 404 that looks exactly
like a taxpayer that does not exist. Handlers, templates and menus read
that answer; nothing re-derives it. Lists of clients apply the same staff-access rule as a query
(`restricted_by_groups` and `in_no_group_or_mine`), on the client's kept set of groups (`portal.domain.group_sets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, exists, or_, select
from sqlmodel import Session

from portal.domain.models import Authorisation, FirmClient, HelperLink, Taxpayer, TaxpayerIdentifier
from portal.domain.people import Authority, Viewer
from portal.domain.services import BY_KEY, SELF_ACTIONS, Action
from portal.domain.sql import table_of
from portal.domain.team_models import AccessGroupMember, AccessGroupSet, AccessGroupSetGroup

# What a trusted helper may do (domain.md §5): personal tax account tasks, never a tax return.
HELPER_REGIMES: Mapping[str, frozenset[Action]] = {"IRV": frozenset({Action.VIEW})}
HELPER_CAN_CHANGE_DETAILS = True

IDENTIFIER_REGIMES = {"nino": ("ITSA", "IRV"), "vrn": ("VAT",), "cgt": ("CGT",), "ppt": ("PPT",),
                      "cbc": ("CBC",), "plr": ("PLR",), "urn": ("TRS",)}


def restricted_by_groups(viewer: Viewer) -> bool:
    """Staff access inside a firm (domain.md §4.3): with access groups on, a standard user sees a client only
    if it is in no group, or in a group they belong to. Administrators see every client."""
    return viewer.access_groups_enabled and not viewer.is_firm_admin


_set_groups, _sets, _members = table_of(AccessGroupSetGroup), table_of(AccessGroupSet), table_of(AccessGroupMember)


def _sets_holding(*, firm_id: object, group_id: object = None, user_id: object = None) -> Select[int]:
    """The firm's sets of groups (`AccessGroupSet`, a handful) holding `group_id`, or one of `user_id`'s groups.
    Uncorrelated: read once per query, however many clients it tests."""
    sets = select(_set_groups.c.set_id).join(_sets, _sets.c.id == _set_groups.c.set_id).where(
        _sets.c.firm_id == firm_id)
    if group_id is not None:
        sets = sets.where(_set_groups.c.group_id == group_id)
    if user_id is not None:
        sets = sets.where(_set_groups.c.group_id.in_(
            select(_members.c.group_id).where(_members.c.user_id == user_id)))
    return sets.correlate(None)


def in_a_group(group_set_id: ColumnElement[int | None], *, firm_id: object, group_id: object = None,
               user_id: object = None) -> ColumnElement[bool]:
    """The firm client (by its kept firm_client.group_set_id, `portal.domain.group_sets`) is in one of the firm's
    groups (only `group_id`, if given; only groups `user_id` belongs to, if given). Values or bind parameters."""
    if group_id is None and user_id is None:
        return group_set_id.is_not(None)
    return group_set_id.in_(_sets_holding(firm_id=firm_id, group_id=group_id, user_id=user_id))


def in_no_group_or_mine(group_set_id: ColumnElement[int | None], *, firm_id: object,
                        user_id: object) -> ColumnElement[bool]:
    """The group rule, on a firm_client row's kept set of groups: in no group, or in one `user_id` belongs to.
    firm_id and user_id may be values or bind parameters (for prebuilt queries). A person's groups are read
    afresh by every query, so leaving a group takes effect on their next request."""
    return or_(group_set_id.is_(None), group_set_id.in_(_sets_holding(firm_id=firm_id, user_id=user_id)))


_rule_client = table_of(FirmClient).alias("rule_client")


def visible_client(taxpayer_id: ColumnElement[int], *, firm_id: object, user_id: object) -> ColumnElement[bool]:
    """The group rule for a query that does not read the firm's client row itself (the gate, the API's lists)."""
    return exists(select(_rule_client.c.taxpayer_id).where(
        _rule_client.c.firm_id == firm_id, _rule_client.c.taxpayer_id == taxpayer_id,
        in_no_group_or_mine(_rule_client.c.group_set_id, firm_id=firm_id, user_id=user_id)))


# Every client page asks the gate, so its queries are built once and reuse their compiled SQL.
_auth, _ident, _helper = table_of(Authorisation), table_of(TaxpayerIdentifier), table_of(HelperLink)


@cache
def _agent_services_query(restricted: bool) -> Select[str]:
    conditions = [_auth.c.firm_id == bindparam("firm_id"), _auth.c.taxpayer_id == bindparam("taxpayer_id"),
                  _auth.c.ended_at.is_(None)]
    if restricted:
        conditions.append(visible_client(_auth.c.taxpayer_id, firm_id=bindparam("firm_id"),
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
