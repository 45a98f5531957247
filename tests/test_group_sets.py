"""Each client's kept groups and tax services (firm_client.group_set_id and .regime_bits, portal.domain.group_sets)
are what the group tables and the firm's authorisations say, after every kind of change that can alter them: the
gate's rule and every list read only the kept columns, so a stale one would show a client to someone who may not
see it, or hide one from someone who may."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from portal.domain import firm_access, group_sets, handshake
from portal.domain.models import Authorisation, FirmClient, Taxpayer
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from portal.domain.team_models import (
    AccessGroup,
    AccessGroupClient,
    AccessGroupExclusion,
    AccessGroupSet,
    AccessGroupSetGroup,
)
from tests import factories
from tests.factories import World

Kept = dict[int, tuple[frozenset[int], frozenset[str]]]  # client: (its groups, its regimes)


def truth(db: Session, firm_id: int) -> Kept:
    """Worked out here from the tables, in Python, as domain.md §4.3 says: a custom group's clients are its rows; a
    tax-service group's are every client with a live authorisation in its regime, less those excluded."""
    regimes: dict[int, set[str]] = defaultdict(set)
    for authorisation in db.execute(select(Authorisation).where(
            col(Authorisation.firm_id) == firm_id, col(Authorisation.ended_at).is_(None))).scalars():
        regimes[authorisation.taxpayer_id].add(authorisation.regime)
    firm_groups = {group.id: group for group in db.execute(
        select(AccessGroup).where(col(AccessGroup.firm_id) == firm_id)).scalars()}
    custom = {(row.group_id, row.taxpayer_id) for row in db.execute(select(AccessGroupClient)).scalars()}
    excluded = {(row.group_id, row.taxpayer_id) for row in db.execute(select(AccessGroupExclusion)).scalars()}
    clients = db.execute(select(col(FirmClient.taxpayer_id)).where(col(FirmClient.firm_id) == firm_id)).scalars()
    result: Kept = {}
    for client in clients:
        groups = {gid for gid, group in firm_groups.items()
                  if ((gid, client) in custom if group.regime is None
                      else group.regime in regimes[client] and (gid, client) not in excluded)}
        result[client] = (frozenset(groups), frozenset(regimes[client]))
    return result


def kept(db: Session, firm_id: int) -> Kept:
    """What the rule reads: each client's kept set of groups (only the firm's own sets) and regime bits."""
    sets: dict[int, set[int]] = defaultdict(set)
    for set_id, group_id in db.execute(select(col(AccessGroupSetGroup.set_id), col(AccessGroupSetGroup.group_id))
                                       .join(AccessGroupSet, col(AccessGroupSet.id) == AccessGroupSetGroup.set_id)
                                       .where(col(AccessGroupSet.firm_id) == firm_id)):
        sets[set_id].add(group_id)
    result: Kept = {}
    for row in db.execute(select(FirmClient).where(col(FirmClient.firm_id) == firm_id)).scalars():
        assert row.group_set_id is None or row.group_set_id in sets, "a set of another firm, or an empty one"
        regimes = {regime for regime, bit in group_sets.REGIME_BITS.items() if row.regime_bits & bit}
        result[row.taxpayer_id] = (frozenset(sets.get(row.group_set_id or 0, ())), frozenset(regimes))
    return result


def assert_kept(engine: Engine, world: World) -> Kept:
    with Session(engine) as db:
        for firm in (world.firm, world.other_firm):
            assert kept(db, firm.id) == truth(db, firm.id), firm.name
        return kept(db, world.firm.id)


def _accept(db: Session, firm_id: int, agent_id: int, client_user_id: int, taxpayer_id: int, key: str) -> None:
    taxpayer = db.get(Taxpayer, taxpayer_id)
    assert taxpayer is not None
    request = handshake.create_request(db, firm_id=firm_id, user_id=agent_id, service=BY_KEY[key], taxpayer=taxpayer,
                                       today=date.today())
    handshake.accept_request(db, user_id=client_user_id, request=request, today=date.today())


def _end(db: Session, firm_id: int, taxpayer_id: int, regime: str, actor_user_id: int) -> None:
    authorisation = db.execute(select(Authorisation).where(
        col(Authorisation.firm_id) == firm_id, col(Authorisation.taxpayer_id) == taxpayer_id,
        col(Authorisation.regime) == regime, col(Authorisation.ended_at).is_(None))).scalar_one()
    handshake.end_authorisation(db, authorisation, ended_by="client", actor_user_id=actor_user_id, authority="self")


def test_the_kept_groups_and_tax_services_follow_every_change(engine: Engine, world: World) -> None:
    firm, admin, granite, jane = world.firm.id, world.agent.id, world.vat_client.id, world.itsa_client.id
    assert assert_kept(engine, world) == {granite: (frozenset(), frozenset({"VAT"})),
                                         jane: (frozenset(), frozenset({"ITSA"}))}

    with unit_of_work(engine) as db:  # a custom group, filled
        leeds = firm_access.create_group(db, firm_id=firm, actor_user_id=admin, name="Leeds")
        firm_access.add_clients(db, leeds, actor_user_id=admin, taxpayer_ids=[granite, jane])
        leeds_id = leeds.id
    assert assert_kept(engine, world)[jane] == (frozenset({leeds_id}), frozenset({"ITSA"}))

    with unit_of_work(engine) as db:  # a tax-service group takes in the VAT clients there are
        vat_id = firm_access.create_tax_service_group(db, firm_id=firm, actor_user_id=admin, regime="VAT",
                                                      name="VAT").id
    assert assert_kept(engine, world)[granite] == (frozenset({leeds_id, vat_id}), frozenset({"VAT"}))

    with unit_of_work(engine) as db:  # excluded from it, then added back
        vat = firm_access.group_of(db, firm_id=firm, group_id=vat_id)
        assert vat is not None
        firm_access.remove_clients(db, vat, actor_user_id=admin, taxpayer_ids=[granite])
    assert assert_kept(engine, world)[granite] == (frozenset({leeds_id}), frozenset({"VAT"}))
    with unit_of_work(engine) as db:
        vat = firm_access.group_of(db, firm_id=firm, group_id=vat_id)
        assert vat is not None
        firm_access.add_clients(db, vat, actor_user_id=admin, taxpayer_ids=[granite])
    assert assert_kept(engine, world)[granite] == (frozenset({leeds_id, vat_id}), frozenset({"VAT"}))

    with unit_of_work(engine) as db:  # the firm is authorised for a client's VAT: it joins the VAT group
        _accept(db, firm, admin, world.client_user.id, jane, "HMRC-MTD-VAT")
    assert assert_kept(engine, world)[jane] == (frozenset({leeds_id, vat_id}), frozenset({"ITSA", "VAT"}))

    with unit_of_work(engine) as db:  # and ends it: it leaves the VAT group, and keeps its Income Tax
        _end(db, firm, jane, "VAT", world.client_user.id)
    assert assert_kept(engine, world)[jane] == (frozenset({leeds_id}), frozenset({"ITSA"}))

    with unit_of_work(engine) as db:  # a client of the other firm changes main agent: both firms' rows follow
        _accept(db, firm, admin, world.client_user.id, world.other_client.id, "HMRC-MTD-IT")
    assert assert_kept(engine, world)[world.other_client.id] == (frozenset(), frozenset({"ITSA"}))

    with unit_of_work(engine) as db:  # a group deleted: its clients keep their other groups
        vat = firm_access.group_of(db, firm_id=firm, group_id=vat_id)
        assert vat is not None
        firm_access.delete_group(db, vat, actor_user_id=admin)
    assert assert_kept(engine, world)[granite] == (frozenset({leeds_id}), frozenset({"VAT"}))

    with unit_of_work(engine) as db:  # out of a custom group, and the group deleted: no set names a group now
        leeds = firm_access.group_of(db, firm_id=firm, group_id=leeds_id)
        assert leeds is not None
        firm_access.remove_clients(db, leeds, actor_user_id=admin, taxpayer_ids=[granite])
        assert kept(db, firm)[granite] == (frozenset(), frozenset({"VAT"}))
        firm_access.delete_group(db, leeds, actor_user_id=admin)
    assert all(groups == frozenset() for groups, _ in assert_kept(engine, world).values())
    with Session(engine) as db:
        assert db.execute(select(AccessGroupSetGroup)).first() is None


def test_a_client_who_comes_back_is_in_the_groups_it_was_left_in(engine: Engine, world: World) -> None:
    """A custom group keeps a client that stops being the firm's (its row stays): when the firm is authorised
    again, the client is back in that group, and in the tax-service group for what it now holds."""
    firm, admin, granite = world.firm.id, world.agent.id, world.vat_client.id
    with unit_of_work(engine) as db:
        stays = firm_access.create_group(db, firm_id=firm, actor_user_id=admin, name="Stays")
        firm_access.add_clients(db, stays, actor_user_id=admin, taxpayer_ids=[granite])
        itsa = firm_access.create_tax_service_group(db, firm_id=firm, actor_user_id=admin, regime="ITSA", name="IT")
        stays_id, itsa_id = stays.id, itsa.id
        _end(db, firm, granite, "VAT", admin)
    assert granite not in assert_kept(engine, world)
    with unit_of_work(engine) as db:
        factories.authorise(db, world.firm, db.get(Taxpayer, granite), "HMRC-MTD-IT")  # type: ignore[arg-type]
    assert assert_kept(engine, world)[granite] == (frozenset({stays_id, itsa_id}), frozenset({"ITSA"}))


def test_adding_thousands_of_clients_in_one_action_keeps_each_one(engine: Engine, world: World) -> None:
    """More clients than one statement reads or writes (group_sets works in batches), in two sets of groups."""
    firm, admin = world.firm.id, world.agent.id
    with unit_of_work(engine) as db:
        for n in range(2_300):
            taxpayer = Taxpayer(client_type="business", name=f"Bulk {n:04} Ltd", postcode="LS1 4DY")
            db.add(taxpayer)
            db.flush()
            db.add(Authorisation(firm_id=firm, taxpayer_id=taxpayer.id, service="HMRC-MTD-VAT", regime="VAT"))
            db.add(FirmClient(firm_id=firm, taxpayer_id=taxpayer.id, sort_name=taxpayer.name.lower()))
        db.flush()
        group_sets.refresh_firm(db, firm)
        bulk = firm_access.create_group(db, firm_id=firm, actor_user_id=admin, name="Bulk")
        added = firm_access.add_clients(db, bulk, actor_user_id=admin,
                                        matching=firm_access.ClientChoice(firm, text="bulk"))
        vat = firm_access.create_tax_service_group(db, firm_id=firm, actor_user_id=admin, regime="VAT", name="VAT")
        bulk_id, vat_id = bulk.id, vat.id
    assert added == 2_300
    sets = [groups for groups, _ in assert_kept(engine, world).values()]
    assert sets.count(frozenset({bulk_id, vat_id})) == 2_300
    assert set(sets) == {frozenset({bulk_id, vat_id}), frozenset({vat_id}), frozenset()}  # and Granite, and Jane


def test_every_tax_service_has_its_own_bit() -> None:
    """A regime without a bit would match no client in a tax-service filter, silently: a new regime needs one."""
    from portal.domain.services import REGIME_NAMES, SERVICES

    regimes = {service.regime for service in SERVICES} | set(REGIME_NAMES)
    assert regimes == set(group_sets.REGIME_BITS)
    bits = list(group_sets.REGIME_BITS.values())
    assert len(set(bits)) == len(bits) and all(bit & (bit - 1) == 0 for bit in bits)  # one distinct bit each
