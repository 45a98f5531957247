"""The firm's own view of its clients (issue 13): "My clients" / "All clients" for a standard user with access
groups on, an administrator's filters by access group and team member (client list, What's due, its CSV), and the
firm's client reference found from the main search. Every filter narrows what the gate allows, never widens it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient

from portal.domain import firm_access
from portal.domain.sql import unit_of_work
from tests import factories
from tests.factories import World, sign_in


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="/clients/\d+"'
                      r'[^>]*>([^<]+)</a>', html)


@dataclass
class Groups:
    leeds: int  # Granite Bakery Ltd and the staff member
    vat: int  # a tax-service group: every VAT client (Granite; Jane's VAT is not the firm's), nobody in it
    loner: int  # Loner Ltd, in no group


@pytest.fixture
def groups(engine, world: World) -> Groups:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        firm_access.set_access_groups(db, firm_id=world.firm.id, actor_user_id=world.agent.id, enabled=True)
        leeds = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Leeds")
        firm_access.add_member(db, leeds, user_id=world.staff.id, actor_user_id=world.agent.id)
        firm_access.add_clients(db, leeds, actor_user_id=world.agent.id, taxpayer_ids=[world.vat_client.id])
        vat = firm_access.create_tax_service_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id,
                                                   regime="VAT", name="VAT clients")
        loner = factories.taxpayer(db, "Loner Ltd", "business")
        factories.authorise(db, world.firm, loner, "HMRC-MTD-IT")
        factories.obligation(db, loner, "ITSA", date.today() + timedelta(days=3), kind="Quarterly update")
        db.flush()
        return Groups(leeds.id, vat.id, loner.id)


def test_a_standard_user_chooses_my_clients_or_all_clients(client: TestClient, world: World, groups: Groups) -> None:
    sign_in(client, "staff@example.com")
    everything = client.get("/clients").text
    assert _names(everything) == ["Granite Bakery Ltd", "Jane Whitfield", "Loner Ltd"]  # theirs and unassigned
    assert 'id="show" name="show" type="radio" value="all" aria-controls="clients-results" checked' in everything
    assert "change from:#show-choice" in everything  # htmx asks again when the choice changes
    mine = client.get("/clients?show=mine")
    assert _names(mine.text) == ["Granite Bakery Ltd"]
    assert 'value="mine" aria-controls="clients-results" checked' in mine.text
    assert client.get("/clients?show=all").text.count("Loner Ltd") == 1
    # The htmx partial (a search typed) keeps the choice; so does a search without JavaScript.
    partial = client.get("/clients?show=mine&q=", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and _names(partial.text) == ["Granite Bakery Ltd"]
    assert _names(client.get("/clients?show=mine&q=jane").text) == []
    assert "showing all clients, not only the clients in your access groups" in client.get(
        "/clients?show=mine&q=jane").text
    # An administrator's filters are not a standard user's: ignored, and not offered.
    assert 'id="group"' not in everything
    assert _names(client.get(f"/clients?group={groups.loner}&member={world.agent.id}").text) == _names(everything)
    # "My clients" never shows more than the gate allows: a client in someone else's group stays hidden.
    assert client.get(f"/clients/{world.vat_client.id}").status_code == 200


def test_my_clients_pages_keep_the_choice(client: TestClient, world: World, groups: Groups, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        leeds = firm_access.group_of(db, firm_id=world.firm.id, group_id=groups.leeds)
        assert leeds is not None
        ids = []
        for n in range(25):
            taxpayer = factories.taxpayer(db, f"Alder {n:02} Ltd", "business")
            factories.authorise(db, world.firm, taxpayer, "HMRC-MTD-IT")
            db.flush()
            ids.append(taxpayer.id)
        firm_access.add_clients(db, leeds, actor_user_id=world.agent.id, taxpayer_ids=ids)
    sign_in(client, "staff@example.com")
    first = client.get("/clients?show=mine").text
    assert "/clients?show=mine&amp;page=2" in first
    second = client.get("/clients?show=mine&page=2").text
    assert _names(second) == ["Alder 20 Ltd", "Alder 21 Ltd", "Alder 22 Ltd", "Alder 23 Ltd", "Alder 24 Ltd",
                              "Granite Bakery Ltd"]


def test_without_access_groups_there_is_no_choice_to_make(client: TestClient, world: World) -> None:
    sign_in(client, "staff@example.com")
    page = client.get("/clients?show=mine").text
    assert 'name="show"' not in page and _names(page) == ["Granite Bakery Ltd", "Jane Whitfield"]
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "agent@example.com")
    assert 'id="group"' not in admin.get("/clients").text and 'id="member"' not in admin.get("/whats-due").text


def test_an_administrator_filters_the_client_list_by_group_or_member(client: TestClient, world: World,
                                                                     groups: Groups, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    page = client.get("/clients").text
    assert 'name="show"' not in page  # "My clients" is for standard users (issue 13)
    assert '<option value="none">In no group</option>' in page and f'<option value="{groups.leeds}">Leeds' in page
    assert f'<option value="{world.staff.id}">' in page and "change from:#group, change from:#member" in page
    assert _names(page) == ["Granite Bakery Ltd", "Jane Whitfield", "Loner Ltd"]
    assert _names(client.get(f"/clients?group={groups.leeds}").text) == ["Granite Bakery Ltd"]
    assert _names(client.get(f"/clients?group={groups.vat}").text) == ["Granite Bakery Ltd"]
    assert _names(client.get("/clients?group=none").text) == ["Jane Whitfield", "Loner Ltd"]
    chosen = client.get(f"/clients?member={world.staff.id}").text
    assert _names(chosen) == ["Granite Bakery Ltd"] and f'<option value="{world.staff.id}" selected>' in chosen
    empty = client.get(f"/clients?member={world.agent.id}").text  # the administrator is in no group
    assert _names(empty) == [] and "choosing any access group and any team member" in empty
    assert _names(client.get(f"/clients?group=none&member={world.staff.id}").text) == []
    # The htmx partial keeps the filter, with a search.
    partial = client.get(f"/clients?group={groups.leeds}&q=gran", headers={"HX-Request": "true"})
    assert _names(partial.text) == ["Granite Bakery Ltd"]
    # Another firm's group or person, or nonsense, is no filter at all (and reveals nothing).
    with unit_of_work(engine) as db:
        theirs = firm_access.create_group(db, firm_id=world.other_firm.id, actor_user_id=world.other_agent.id,
                                          name="Theirs")
        theirs_id = theirs.id
    for query in (f"group={theirs_id}", f"member={world.other_agent.id}", "group=x", "member=-1", "group=99999999"):
        assert _names(client.get(f"/clients?{query}").text) == _names(page), query


def test_an_administrator_filters_whats_due_and_its_csv(client: TestClient, world: World, groups: Groups) -> None:
    sign_in(client, "agent@example.com")
    due = client.get("/whats-due").text
    assert "Granite Bakery Ltd" in due and "Jane Whitfield" in due and "Loner Ltd" in due
    assert 'id="group"' in due and 'id="member"' in due
    leeds = client.get(f"/whats-due?group={groups.leeds}").text
    assert "Granite Bakery Ltd" in leeds and "Jane Whitfield" not in leeds and "Loner Ltd" not in leeds
    assert f'href="/whats-due.csv?group={groups.leeds}"' in leeds
    nobody = client.get("/whats-due?group=none&status=due").text
    assert "Granite Bakery Ltd" not in nobody and "Loner Ltd" in nobody and "Jane Whitfield" in nobody
    csv = client.get(f"/whats-due.csv?member={world.staff.id}").text.splitlines()
    assert len(csv) == 2 and csv[1].startswith("Granite Bakery Ltd,")
    csv = client.get("/whats-due.csv?group=none").text.splitlines()
    assert sorted(line.split(",")[0] for line in csv[1:]) == ["Jane Whitfield", "Loner Ltd"]
    # A standard user has no such filters: ignored, on the page and in the CSV.
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, "staff@example.com")
    assert 'id="group"' not in staff.get("/whats-due").text
    assert len(staff.get(f"/whats-due.csv?group={groups.leeds}").text.splitlines()) == len(
        staff.get("/whats-due.csv").text.splitlines())


def test_the_firms_client_reference_finds_a_client_from_the_main_search(client: TestClient, world: World,
                                                                         engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        firm_access.set_client_reference(db, firm_id=world.firm.id, taxpayer_id=world.itsa_client.id,
                                         actor_user_id=world.agent.id, reference="  HR-0042   Whitfield ")
        firm_access.set_client_reference(db, firm_id=world.other_firm.id, taxpayer_id=world.other_client.id,
                                         actor_user_id=world.other_agent.id, reference="HR-0043")
    sign_in(client, "agent@example.com")
    assert "your client reference" in client.get("/clients").text  # the hint says so
    for typed in ("HR-0042", "hr-0042", "hr-00", "HR-0042 whitfield", "hr-0042  WHITFIELD"):
        assert _names(client.get("/clients", params={"q": typed}).text) == ["Jane Whitfield"], typed
    assert _names(client.get("/clients", params={"q": "hr-0043"}).text) == []  # another firm's reference
    assert _names(client.get("/clients", params={"q": "hr-1"}).text) == []
    assert _names(client.get("/clients", params={"q": "granite"}).text) == ["Granite Bakery Ltd"]  # names still
    assert _names(client.get("/clients", params={"q": "101747696"}).text) == ["Granite Bakery Ltd"]  # tax refs too
    # A reference that looks like a tax reference is found as either.
    with unit_of_work(engine) as db:
        firm_access.set_client_reference(db, firm_id=world.firm.id, taxpayer_id=world.vat_client.id,
                                         actor_user_id=world.agent.id, reference="AB123456C")  # Jane's NINO
    assert _names(client.get("/clients", params={"q": "AB123456C"}).text) == ["Granite Bakery Ltd", "Jane Whitfield"]
    partial = client.get("/clients", params={"q": "hr-0042"}, headers={"HX-Request": "true"})
    assert _names(partial.text) == ["Jane Whitfield"]
    # Cleared, it no longer matches.
    with unit_of_work(engine) as db:
        firm_access.set_client_reference(db, firm_id=world.firm.id, taxpayer_id=world.itsa_client.id,
                                         actor_user_id=world.agent.id, reference="")
    assert _names(client.get("/clients", params={"q": "hr-0042"}).text) == []


def test_a_reference_search_finds_no_client_the_gate_refuses(client: TestClient, world: World, groups: Groups,
                                                              engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        firm_access.set_client_reference(db, firm_id=world.firm.id, taxpayer_id=groups.loner,
                                         actor_user_id=world.agent.id, reference="LONE-1")
        other = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Other")
        firm_access.add_clients(db, other, actor_user_id=world.agent.id, taxpayer_ids=[groups.loner])
    sign_in(client, "staff@example.com")
    assert _names(client.get("/clients?q=lone-1").text) == []
    assert client.get(f"/clients/{groups.loner}").status_code == 404
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "agent@example.com")
    assert _names(admin.get("/clients?q=lone-1").text) == ["Loner Ltd"]


def test_the_new_controls_in_welsh(client: TestClient, world: World, groups: Groups) -> None:
    sign_in(client, "staff@example.com")
    page = client.get("/clients?show=mine&lang=cy").text
    assert '<html lang="cy"' in page
    assert "Fy nghleientiaid" in page and "Pob cleient" in page and "Dangos" in page
    partial = client.get("/clients?show=mine&q=zzz", headers={"HX-Request": "true"})
    assert "dangos pob cleient" in partial.text
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "agent@example.com")
    admin.cookies.set("language", "cy")
    listing = admin.get("/clients").text
    assert "Grŵp mynediad" in listing and "Aelod o’r tîm" in listing and "Dim grŵp" in listing
    due = admin.get("/whats-due").text
    assert "Grŵp mynediad" in due and "Unrhyw aelod o’r tîm" in due


def test_the_rule_lets_through_clients_in_no_group_or_in_one_of_the_persons_groups(  # type: ignore[no-untyped-def]
        engine, world: World, groups: Groups) -> None:
    """`access.in_no_group_or_mine`, on the clients' kept sets of groups, for a person in a custom group, in a
    tax-service group, in none, and for clients in no group, in both kinds, excluded from one, and in a group with
    nobody in it. (tests/test_group_sets.py proves the kept sets are what the group tables say.)"""
    from sqlalchemy import select

    from portal.domain.access import in_no_group_or_mine
    from portal.domain.models import FirmClient
    from portal.domain.sql import table_of
    fc = table_of(FirmClient)
    with unit_of_work(engine) as db:
        vat = firm_access.group_of(db, firm_id=world.firm.id, group_id=groups.vat)
        leeds = firm_access.group_of(db, firm_id=world.firm.id, group_id=groups.leeds)
        assert vat is not None and leeds is not None
        firm_access.add_member(db, vat, user_id=world.agent.id, actor_user_id=world.agent.id)
        excluded, both = (factories.taxpayer(db, name, "business") for name in ("Excluded Ltd", "Both Ltd"))
        for taxpayer in (excluded, both):
            factories.authorise(db, world.firm, taxpayer, "HMRC-MTD-VAT")
        db.flush()
        firm_access.remove_clients(db, vat, actor_user_id=world.agent.id, taxpayer_ids=[excluded.id])
        firm_access.add_clients(db, leeds, actor_user_id=world.agent.id, taxpayer_ids=[both.id])
        empty = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Empty")
        firm_access.add_clients(db, empty, actor_user_id=world.agent.id, taxpayer_ids=[groups.loner])
    with unit_of_work(engine) as db:
        def visible(user_id: int) -> set[int]:
            rule = in_no_group_or_mine(fc.c.group_set_id, firm_id=world.firm.id, user_id=user_id)
            return set(db.execute(select(fc.c.taxpayer_id).where(fc.c.firm_id == world.firm.id, rule)).scalars())
        seen = {user_id: visible(user_id) for user_id in (world.agent.id, world.staff.id, world.other_agent.id)}
    # The staff member (Leeds) sees Leeds's clients and the excluded one (in no group now),
    # not the VAT group's or the loner's (in a group with nobody in it); the agent (VAT) sees the VAT group's.
    assert seen[world.staff.id] == {world.vat_client.id, both.id, excluded.id, world.itsa_client.id}
    assert both.id in seen[world.agent.id] and groups.loner not in seen[world.agent.id]
