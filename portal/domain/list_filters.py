"""The firm's own views of its clients (issue 13): "My clients" / "All clients" for a standard user with access
groups on, an administrator's filters by access group and by team member (the client list, What's due and its CSV),
and finding a client by the firm's own client reference.

Who may see a client is NOT decided here: the gate and every list ask `portal.domain.access` (one rule), and these
filters only ever narrow that answer further, through the rule's own `in_a_group`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, not_, select
from sqlmodel import Session, col

from portal.domain.access import in_a_group
from portal.domain.firm_access import NO_GROUP, Person, firm_members
from portal.domain.models import FirmClient, reference_key
from portal.domain.numbers import whole_number
from portal.domain.people import Viewer
from portal.domain.services import REGIME_NAMES
from portal.domain.sql import table_of
from portal.domain.team_models import AccessGroup

SHOW_MINE, SHOW_ALL = "mine", "all"  # the client list's ?show=: "My clients" or "All clients"


@dataclass(frozen=True)
class ListFilter:
    """How a member of a firm narrows the client list or What's due, on top of what they may see (the gate's one
    rule, `portal.domain.access`, still applies to every row; this only ever removes rows):

    - mine: "My clients", the clients in a group the person belongs to (a standard user with access groups on; "All
      clients" is every client they may act for, unassigned ones included);
    - group: an administrator's access group filter: a group's id as a string, or NO_GROUP (clients in no group);
    - member: an administrator's team member filter: the clients in that member's groups.

    Read with `list_filter`, which keeps only what the person may use."""

    mine: bool = False
    group: str = ""
    member: int | None = None

    def shape(self) -> tuple[bool, str, bool]:
        """Which conditions (for queries built once per shape): mine, "" / "none" / "id", by member."""
        return self.mine, ("none" if self.group == NO_GROUP else "id" if self.group else ""), self.member is not None

    def params(self) -> dict[str, object]:
        return {"filter_group_id": whole_number(self.group),
                "filter_member_id": self.member}

    def query(self) -> dict[str, str]:
        """The filter as the URL says it (absent: no filter)."""
        values = {"show": SHOW_MINE if self.mine else "", "group": self.group,
                  "member": "" if self.member is None else str(self.member)}
        return {key: value for key, value in values.items() if value}

    @property
    def any(self) -> bool:
        return bool(self.query())


def list_filter_conditions(group_set_id: ColumnElement[int | None],
                           shape: tuple[bool, str, bool]) -> list[ColumnElement[bool]]:
    """The filter as SQL on the firm client's kept set of groups and bind parameters firm_id, user_id,
    filter_group_id and filter_member_id (prebuilt per shape). Every condition is the group rule's own membership
    (`access.in_a_group`), so a filter and the gate never disagree about who is in a group."""
    mine, group, by_member = shape
    firm_id: BindParameter[int] = bindparam("firm_id")
    conditions: list[ColumnElement[bool]] = []
    if mine:
        conditions.append(in_a_group(group_set_id, firm_id=firm_id, user_id=bindparam("user_id")))
    if group == "none":
        conditions.append(not_(in_a_group(group_set_id, firm_id=firm_id)))
    elif group == "id":
        conditions.append(in_a_group(group_set_id, firm_id=firm_id, group_id=bindparam("filter_group_id")))
    if by_member:
        conditions.append(in_a_group(group_set_id, firm_id=firm_id, user_id=bindparam("filter_member_id")))
    return conditions


def implies_the_rule(shape: tuple[bool, str, bool]) -> bool:
    """"My clients" keeps only clients in the person's own groups, which the group rule always allows
    (`access.in_no_group_or_mine`): a list may then leave the rule's per-client test out, as it adds nothing."""
    return shape[0]


def offers_my_clients(viewer: Viewer) -> bool:
    """"My clients" / "All clients" (issue 13): for a standard user, with access groups on."""
    return viewer.access_groups_enabled and viewer.firm_id is not None and not viewer.is_firm_admin


def offers_admin_filters(viewer: Viewer) -> bool:
    """Filtering by access group or team member: for an administrator, with access groups on."""
    return viewer.access_groups_enabled and viewer.is_firm_admin


class FilterOptions(NamedTuple):
    groups: list[tuple[int, str]]  # (id, name), by name
    members: list[Person]


def filter_options(db: Session, viewer: Viewer) -> FilterOptions:
    """The groups and members an administrator may filter by (none for anyone else): names only, no counts, so a
    100,000-client firm's list does not count its groups on every view."""
    if not offers_admin_filters(viewer) or viewer.firm_id is None:
        return FilterOptions([], [])
    rows = db.execute(select(col(AccessGroup.id), col(AccessGroup.name), col(AccessGroup.regime))
                      .where(col(AccessGroup.firm_id) == viewer.firm_id)).all()
    # A tax service group goes by its tax service's name in the reader's language ("TAW"), as on its own page.
    named = [(group_id, REGIME_NAMES[regime] if regime is not None and regime in REGIME_NAMES else name)
             for group_id, name, regime in rows]
    return FilterOptions(sorted(named, key=lambda option: (option[1].lower(), option[0])),
                         firm_members(db, viewer.firm_id))


def list_filter(viewer: Viewer, options: FilterOptions, *, show: str = "", group: str = "",
                member: str = "") -> ListFilter:
    """The filter from what the URL asks, keeping only what this person may use: "My clients" for a standard user
    with access groups on; a group (one of the firm's, or NO_GROUP) and a team member (of the firm) for an
    administrator with groups on. Anything else is ignored, as a filter that is not offered."""
    mine = offers_my_clients(viewer) and show == SHOW_MINE
    if not offers_admin_filters(viewer):
        return ListFilter(mine=mine)
    chosen_group = group if group == NO_GROUP or whole_number(group) in {gid for gid, _ in options.groups} else ""
    member_id = whole_number(member)
    chosen_member = member_id if member_id in {p.user_id for p in options.members} else None
    return ListFilter(group=chosen_group, member=chosen_member)


# --- the firm's client reference, searched -------------------------------------------------------------------------

_by_reference = table_of(FirmClient).alias("by_reference")


def client_reference_matches() -> Select[tuple[int]]:
    """The firm's clients whose own reference starts with what was typed, case and spacing aside ("hr-00" finds
    "HR-0042"): one range of ix_firm_client_reference, however many clients the firm has. Bind parameters firm_id,
    reference_from and reference_to (`reference_params`). A set of ids, for a search to add to its own matches in
    one `IN (... UNION ALL ...)`: an OR of two IN conditions made PostgreSQL read every client of the firm."""
    return select(_by_reference.c.taxpayer_id).where(
        _by_reference.c.firm_id == bindparam("firm_id"),
        _by_reference.c.client_reference_key >= bindparam("reference_from"),
        _by_reference.c.client_reference_key < bindparam("reference_to")).correlate(None)


def reference_params(text: str) -> dict[str, str]:
    """The range of keys starting with `text`: from it, to it with its last character's successor (binary order
    on both databases). Nothing searchable typed: an empty range."""
    key = reference_key(text) or ""
    return {"reference_from": key, "reference_to": key[:-1] + chr(min(ord(key[-1]) + 1, 0x10FFFF)) if key else ""}
