"""Each of a firm's clients' kept access groups and live tax services (firm_client.group_set_id and .regime_bits).

Which groups hold a client is decided by the group tables and the firm's authorisations (domain.md §4.3): a custom
group's access_group_client rows, and a tax-service group's regime (every client with a live authorisation in it,
less its exclusions). Working that out for each client of a list cost a few index lookups per client: a restricted
user's list filtered by VAT at 100,000 clients took 600 ms on PostgreSQL. So it is worked out here, when a
membership or an authorisation changes, and kept on the client's firm_client row as the id of the set of groups
holding it (`AccessGroupSet`: a firm has a handful). The gate's rule and every list then read one column
(`portal.domain.access`). The regimes the firm acts for the client in are kept the same way, as bits, so a list
filtered by tax service tests a column, not the firm's authorisations.

`refresh` is called, in the same transaction, by everything that changes what it reads: `portal.domain.firm_access`
(clients added to or removed from a group, a tax-service group made or deleted) and `portal.domain.handshake` (an
authorisation starting or ending). Team members do not come into it: a person's groups are read on every request.
tests/test_group_sets.py proves the kept columns equal what the tables say after each kind of change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, delete, exists, insert, not_, select, union, update
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

# Clients read or written per statement: well inside SQLite's limit on bound parameters (32,766).
_BATCH = 2_000

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


def refresh(db: Session, firm_id: int, taxpayer_ids: Iterable[int]) -> None:
    """Works out again the kept groups and regimes of these clients of the firm (ids that are not its clients are
    skipped), from the tables, after a change to them in this transaction. Only rows whose values change are
    written."""
    lock_firms(db, [firm_id])
    known = _known_sets(db, firm_id)
    changes: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for batch in _batches(sorted(set(taxpayer_ids))):
        current = {tid: (set_id, bits) for tid, set_id, bits in db.execute(
            select(_fc.c.taxpayer_id, _fc.c.group_set_id, _fc.c.regime_bits)
            .where(_fc.c.firm_id == firm_id, _fc.c.taxpayer_id.in_(batch)))}
        groups, regimes = _holding(db, firm_id, list(current))
        for tid, now in current.items():
            wanted = (_set_for(db, firm_id, groups.get(tid, frozenset()), known), regime_bits(regimes.get(tid, ())))
            if wanted != now:
                changes[wanted].append(tid)
    for (set_id, bits), tids in changes.items():
        for batch in _batches(tids):
            db.execute(update(_fc).where(_fc.c.firm_id == firm_id, _fc.c.taxpayer_id.in_(batch))
                       .values(group_set_id=set_id, regime_bits=bits))


def refresh_firm(db: Session, firm_id: int) -> None:
    """Every client of the firm (data made in bulk: the demo and the scale firm)."""
    refresh(db, firm_id, db.execute(select(_fc.c.taxpayer_id).where(_fc.c.firm_id == firm_id)).scalars().all())


def clients_of_regime(db: Session, firm_id: int, regime: str) -> list[int]:
    """The clients a tax-service group for `regime` takes in: the firm's live authorisations in it."""
    return list(db.execute(select(_auth.c.taxpayer_id).distinct().where(
        _auth.c.firm_id == firm_id, _auth.c.regime == regime, _auth.c.ended_at.is_(None))).scalars())


def forget_group(db: Session, group: AccessGroup) -> list[int]:
    """Before a group is deleted: no set may name it, so its clients are put in no set for now, and the sets that
    name it go. Returns those clients, for `refresh` once the group's rows are gone."""
    lock_firms(db, [group.firm_id])
    naming = select(_set_groups.c.set_id).where(_set_groups.c.group_id == group.id)
    held = list(db.execute(select(_fc.c.taxpayer_id).where(
        _fc.c.firm_id == group.firm_id, _fc.c.group_set_id.in_(naming))).scalars())
    doomed = list(db.execute(naming).scalars())
    if doomed:
        db.execute(update(_fc).where(_fc.c.firm_id == group.firm_id, _fc.c.group_set_id.in_(doomed))
                   .values(group_set_id=None))
        db.execute(delete(_set_groups).where(_set_groups.c.set_id.in_(doomed)))
        db.execute(delete(_sets).where(_sets.c.id.in_(doomed)))
    return held


# --- what the tables say ---------------------------------------------------------------------------------------------


def _holding(db: Session, firm_id: int, taxpayer_ids: Sequence[int]) -> tuple[dict[int, frozenset[int]],
                                                                              dict[int, set[str]]]:
    """The firm's groups holding each client (custom groups by their rows; tax-service groups by the client's live
    authorisations, less exclusions), and the regimes the firm holds a live authorisation for."""
    live = and_(_auth.c.firm_id == firm_id, _auth.c.taxpayer_id.in_(taxpayer_ids), _auth.c.ended_at.is_(None))
    custom = select(_custom.c.taxpayer_id, _custom.c.group_id).join(_group, _group.c.id == _custom.c.group_id).where(
        _group.c.firm_id == firm_id, _custom.c.taxpayer_id.in_(taxpayer_ids))
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


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _BATCH):
        yield list(ids[start:start + _BATCH])
