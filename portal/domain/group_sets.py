"""Each of a firm's clients' kept access groups and live tax services (firm_client.group_set_id and .regime_bits).

Which groups hold a client is decided by the group tables and the firm's authorisations (domain.md §4.3): a custom
group's access_group_client rows, and a tax-service group's regime (every client with a live authorisation in it,
less its exclusions). Working that out for each client of a list cost a few index lookups per client: a restricted
user's list filtered by VAT at 100,000 clients took 600 ms on PostgreSQL. So it is worked out here, when a
membership or an authorisation changes, and kept on the client's firm_client row as the id of the set of groups
holding it (`AccessGroupSet`: a firm has a handful). The gate's rule and every list then read one column
(`portal.domain.access`). The regimes the firm acts for the client in are kept the same way, as bits, so a list
filtered by tax service tests a column, not the firm's authorisations.

Kept in the same transaction as every change that alters them: `portal.domain.firm_access` moves the clients a
group change touches set by set (`join_group`, `leave_group`, `forget_group`: exact, as such a change adds or takes
away just that group), and `portal.domain.handshake` works a client out again from the tables when an authorisation
starts or ends (`refresh`). Team members do not come into it: a person's groups are read on every request.
tests/test_group_sets.py proves the kept columns equal what the tables say after each kind of change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    insert,
    not_,
    select,
    union,
    update,
)
from sqlmodel import Session, col

from portal.domain.models import Authorisation, Firm, FirmClient
from portal.domain.sql import table_of
from portal.domain.team_models import (
    AccessGroup,
    AccessGroupClient,
    AccessGroupExclusion,
    AccessGroupSet,
    AccessGroupSetGroup,
)

# Stored in firm_client.regime_bits: a regime's bit may never change or be reused (a migration would have to
# rewrite every row). A new regime takes the next unused bit.
REGIME_BITS: Mapping[str, int] = {"ITSA": 1, "IRV": 2, "VAT": 4, "TRS": 8, "CGT": 16, "PPT": 32, "CBC": 64,
                                  "PLR": 128}

_fc, _auth, _group = table_of(FirmClient), table_of(Authorisation), table_of(AccessGroup)
_custom, _excluded = table_of(AccessGroupClient), table_of(AccessGroupExclusion)
_sets, _set_groups = table_of(AccessGroupSet), table_of(AccessGroupSetGroup)


def regime_bit(regime: str) -> int:
    """The regime's bit in firm_client.regime_bits; 0 (matches nothing) for a regime nobody can hold."""
    return REGIME_BITS.get(regime, 0)


def regime_bits(regimes: Iterable[str]) -> int:
    bits = 0
    for regime in regimes:
        bits |= regime_bit(regime)
    return bits


# Clients written by one statement: well inside SQLite's limit on bound values (32,766).
_BATCH = 1_000

def refresh(db: Session, firm_id: int, clients: Select[int] | Sequence[int]) -> None:
    """Works out again the kept groups and regimes of these clients of the firm (any that are not its clients are
    skipped), from the tables, after a change to them in this transaction. Only rows whose values change are
    written. `clients`: a query of taxpayer ids, or a few ids. Many clients come as a query, not a list: read with
    thousands of bound values, PostgreSQL spent longer taking the values in than doing the work. (A whole
    100,000-client firm whose every row changes: 4.2 s on PostgreSQL, 1.4 s on SQLite; the handshake asks for one
    client.)"""
    lock_firms(db, [firm_id])
    if isinstance(clients, Select):
        which = clients.correlate(None)
    else:
        which = select(_fc.c.taxpayer_id).where(_fc.c.firm_id == firm_id, _fc.c.taxpayer_id.in_(list(clients)))
    current = db.execute(select(_fc.c.taxpayer_id, _fc.c.group_set_id, _fc.c.regime_bits).where(
        _fc.c.firm_id == firm_id, _fc.c.taxpayer_id.in_(which))).all()
    groups, regimes = _holding(db, firm_id, which)
    known = _known_sets(db, firm_id)
    changes: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for taxpayer_id, set_id, bits in current:
        wanted = (_set_for(db, firm_id, groups.get(taxpayer_id, frozenset()), known),
                  regime_bits(regimes.get(taxpayer_id, ())))
        if wanted != (set_id, bits):
            changes[wanted].append(taxpayer_id)
    # One statement for each new value and batch of clients: a firm has a handful of sets.
    for (set_id, bits), ids in changes.items():
        for start in range(0, len(ids), _BATCH):
            db.execute(update(_fc).where(_fc.c.firm_id == firm_id, _fc.c.taxpayer_id.in_(ids[start:start + _BATCH]))
                       .values(group_set_id=set_id, regime_bits=bits))


def refresh_firm(db: Session, firm_id: int) -> None:
    """Every client of the firm (data made in bulk: the demo and the scale firm)."""
    refresh(db, firm_id, select(_fc.c.taxpayer_id).where(_fc.c.firm_id == firm_id))


def holds_regime(regime: str | BindParameter[int]) -> ColumnElement[bool]:
    """The firm acts for the client (a firm_client row) in `regime`, by its kept bits: a regime's name, or a bind
    parameter holding its bit (`regime_bit`) for a prebuilt query."""
    bit = regime if isinstance(regime, BindParameter) else regime_bit(regime)
    return _fc.c.regime_bits.op("&")(bit) != 0


def join_group(db: Session, group: AccessGroup, clients: list[ColumnElement[bool]],
               params: Mapping[str, object] | None = None) -> None:
    """The firm's clients matching `clients` (conditions on firm_client) are now in `group` too: each moves from its
    set of groups to that set with the group. One statement a set, however many clients."""
    _regroup(db, group, clients, params, lambda groups: groups | {group.id})


def leave_group(db: Session, group: AccessGroup, clients: list[ColumnElement[bool]],
                params: Mapping[str, object] | None = None) -> None:
    """The firm's clients matching `clients` are no longer in `group`."""
    _regroup(db, group, clients, params, lambda groups: groups - {group.id})


def _regroup(db: Session, group: AccessGroup, clients: list[ColumnElement[bool]],
             params: Mapping[str, object] | None, change: Callable[[frozenset[int]], frozenset[int]]) -> None:
    # Exact for a change that adds or takes away just this group, as the change to the tables did; and safe to
    # apply set by set, as applying it twice changes nothing (a client already moved is not moved again).
    lock_firms(db, [group.firm_id])
    known = _known_sets(db, group.firm_id)
    groups_of = {set_id: groups for groups, set_id in known.items()}
    firm_clients = [_fc.c.firm_id == group.firm_id, *clients]
    bound = dict(params or {})
    for old in db.execute(select(_fc.c.group_set_id).distinct().where(*firm_clients), bound).scalars().all():
        new = _set_for(db, group.firm_id, change(groups_of.get(old, frozenset()) if old else frozenset()), known)
        if new != old:
            same_set = _fc.c.group_set_id.is_(None) if old is None else _fc.c.group_set_id == old
            db.execute(update(_fc).where(same_set, *firm_clients).values(group_set_id=new), bound)


def forget_group(db: Session, group: AccessGroup) -> None:
    """Before a group is deleted: every client in a set of groups naming it moves to the same set without it (made
    if new; no set if it was the only one), and the set goes. Exact, and one statement a set whatever the number of
    clients: deleting a group changes nothing else about anyone's groups."""
    lock_firms(db, [group.firm_id])
    known = _known_sets(db, group.firm_id)
    for groups, set_id in list(known.items()):
        if group.id in groups:
            rest = _set_for(db, group.firm_id, groups - {group.id}, known)
            db.execute(update(_fc).where(_fc.c.firm_id == group.firm_id, _fc.c.group_set_id == set_id)
                       .values(group_set_id=rest))
            db.execute(delete(_set_groups).where(_set_groups.c.set_id == set_id))
            db.execute(delete(_sets).where(_sets.c.id == set_id))
            del known[groups]


# --- what the tables say ---------------------------------------------------------------------------------------------


def _holding(db: Session, firm_id: int, which: Select[int]) -> tuple[dict[int, frozenset[int]], dict[int, set[str]]]:
    """The firm's groups holding each client of `which` (custom groups by their rows; tax-service groups by the
    client's live authorisations, less exclusions), and the regimes the firm holds a live authorisation for."""
    live = and_(_auth.c.firm_id == firm_id, _auth.c.taxpayer_id.in_(which), _auth.c.ended_at.is_(None))
    custom = select(_custom.c.taxpayer_id, _custom.c.group_id).join(_group, _group.c.id == _custom.c.group_id).where(
        _group.c.firm_id == firm_id, _custom.c.taxpayer_id.in_(which))
    by_service = select(_auth.c.taxpayer_id, _group.c.id).join(
        _group, and_(_group.c.firm_id == _auth.c.firm_id, _group.c.regime == _auth.c.regime)
    ).where(live, not_(exists().where(_excluded.c.group_id == _group.c.id,
                                      _excluded.c.taxpayer_id == _auth.c.taxpayer_id)))
    groups: dict[int, set[int]] = defaultdict(set)
    for taxpayer_id, group_id in db.execute(union(custom, by_service)):
        groups[taxpayer_id].add(group_id)
    regimes: dict[int, set[str]] = defaultdict(set)
    for taxpayer_id, regime in db.execute(select(_auth.c.taxpayer_id, _auth.c.regime).where(live)):
        regimes[taxpayer_id].add(regime)
    return {tid: frozenset(ids) for tid, ids in groups.items()}, regimes


# --- the firm's sets of groups ---------------------------------------------------------------------------------------


def _known_sets(db: Session, firm_id: int) -> dict[frozenset[int], int]:
    members: dict[int, set[int]] = defaultdict(set)
    for set_id, group_id in db.execute(select(_set_groups.c.set_id, _set_groups.c.group_id)
                                       .join(_sets, _sets.c.id == _set_groups.c.set_id)
                                       .where(_sets.c.firm_id == firm_id)):
        members[set_id].add(group_id)
    return {frozenset(groups): set_id for set_id, groups in members.items()}


def _set_for(db: Session, firm_id: int, groups: frozenset[int], known: dict[frozenset[int], int]) -> int | None:
    """The id of the firm's set of exactly these groups, made if new; None for no group."""
    if not groups:
        return None
    if groups not in known:
        set_id = db.execute(insert(_sets).values(firm_id=firm_id).returning(_sets.c.id)).scalar_one()
        db.execute(insert(_set_groups), [{"set_id": set_id, "group_id": group_id} for group_id in sorted(groups)])
        known[groups] = set_id
    return known[groups]


def lock_firms(db: Session, firm_ids: Iterable[int]) -> None:
    """One change to a firm's kept sets at a time: each works out what the tables say after the other's commit
    (PostgreSQL, read committed), so two changes at once (an administrator's, a client's accepting) cannot leave a
    client's set stale. Taken before the change's first write, in id order, after any client's lock
    (`handshake.lock_client`), so that two changes never wait for each other. SQLite already runs one writing
    request at a time."""
    for firm_id in sorted(set(firm_ids)):
        db.execute(select(col(Firm.id)).where(col(Firm.id) == firm_id).with_for_update())
