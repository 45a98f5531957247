"""Lists counted only so far (issue 13's restricted standard user): the client list stops counting at
RESTRICTED_COUNT_CAP clients and What's due at COUNT_CAP obligations, and both cut their pages from the same walk
as the count. A page far in, the last page offered and a page past it must still show exactly the next rows of
the list, in order, and never a client the gate would refuse.

The caps are lowered here (and the prebuilt queries rebuilt), so a few dozen rows reach them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient

from portal.areas import clients
from portal.domain import client_search, firm_access, whats_due
from portal.domain.sql import unit_of_work
from tests import factories
from tests.factories import World, sign_in

TODAY = date.today()


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="/clients/\d+"'
                      r'[^>]*>([^<]+)</a>', html)


@pytest.fixture
def low_caps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Caps of 40 (two pages of 20) and What's due's far-page path from the third page on."""
    monkeypatch.setattr(client_search, "RESTRICTED_COUNT_CAP", 40)
    monkeypatch.setattr(whats_due, "COUNT_CAP", 40)
    monkeypatch.setattr(whats_due, "DEEP_OFFSET", 20)
    built = (clients._page_query, client_search.count_query)  # built with the cap in them: rebuilt before and after
    for cache in built:
        cache.cache_clear()
    yield
    for cache in built:
        cache.cache_clear()


@pytest.fixture
def restricted_world(engine, world: World) -> World:  # type: ignore[no-untyped-def]
    """Access groups on; the staff member in "Mine" with 25 clients; 25 clients in no group; 25 clients in
    "Theirs", which the staff member is not in. Every client has one VAT return, due on interleaved days."""
    with unit_of_work(engine) as db:
        firm_access.set_access_groups(db, firm_id=world.firm.id, actor_user_id=world.agent.id, enabled=True)
        mine = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Mine")
        theirs = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Theirs")
        firm_access.add_member(db, mine, user_id=world.staff.id, actor_user_id=world.agent.id)
        for kind, group in (("Mine", mine), ("Free", None), ("Hidden", theirs)):
            ids = []
            for n in range(25):
                taxpayer = factories.taxpayer(db, f"{kind} {n:02} Ltd", "business")
                factories.authorise(db, world.firm, taxpayer, "HMRC-MTD-VAT")
                factories.obligation(db, taxpayer, "VAT", TODAY + timedelta(days=10 + n), kind="VAT return")
                db.flush()
                ids.append(taxpayer.id)
            if group is not None:
                firm_access.add_clients(db, group, actor_user_id=world.agent.id, taxpayer_ids=ids)
    return world


def test_a_restricted_users_client_list_pages_to_its_cap_and_no_further(
        client: TestClient, restricted_world: World, low_caps: None) -> None:
    sign_in(client, "staff@example.com")
    # What the staff member may see, in the list's order: their group's, the ungrouped, and the world's own two.
    first, second = client.get("/clients").text, client.get("/clients?page=2").text
    shown = _names(first) + _names(second)
    assert len(shown) == 40 and shown == sorted(shown, key=str.lower)
    assert not [name for name in shown if name.startswith("Hidden")]
    assert shown[:3] == ["Free 00 Ltd", "Free 01 Ltd", "Free 02 Ltd"] and "Mine 00 Ltd" in shown
    assert "of more than 40 clients" in second
    # Page 3 is past the cap: it shows the last page offered, not the 41st client.
    assert _names(client.get("/clients?page=3").text) == _names(second)
    assert _names(client.get("/clients?page=999").text) == _names(second)
    # My clients: their group's 25, paged the same way.
    mine = _names(client.get("/clients?show=mine").text) + _names(client.get("/clients?show=mine&page=2").text)
    assert mine == [f"Mine {n:02} Ltd" for n in range(25)]


def test_a_restricted_users_whats_due_pages_far_in_follow_the_list(
        client: TestClient, restricted_world: World, low_caps: None) -> None:
    sign_in(client, "staff@example.com")
    download = list(csv.reader(io.StringIO(client.get("/whats-due.csv").text)))[1:]
    expected = [row[0] for row in download]  # the CSV: every row they may see, in the list's order, uncapped
    assert len(expected) == 52 and not [name for name in expected if name.startswith("Hidden")]
    pages = [_names(client.get(f"/whats-due?page={number}").text) for number in (1, 2)]
    assert pages[0] + pages[1] == expected[:40]
    last = client.get("/whats-due?page=2").text
    assert "of more than 40 obligations" in last
    # Past the cap: the last page offered, not the rows beyond it.
    assert _names(client.get("/whats-due?page=3").text) == pages[1]
    # Filtered to fewer than the cap, a page far in comes from the same walk as its count.
    within = client.get("/whats-due?within=30&page=2").text
    due_within = [row[0] for row in download if date.fromisoformat(row[6]) <= TODAY + timedelta(days=30)]
    assert _names(within) == due_within[20:40]


def test_whats_due_far_pages_past_the_end_show_the_last_page(
        client: TestClient, restricted_world: World, low_caps: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whats_due, "COUNT_CAP", 100)  # five pages offered, the third on the far-page path
    sign_in(client, "staff@example.com")
    everything = [_names(client.get(f"/whats-due?page={number}").text) for number in (1, 2, 3)]
    assert [len(page) for page in everything] == [20, 20, 12]  # 52 in all
    assert _names(client.get("/whats-due?page=5").text) == everything[2]
    assert "Showing 41 to 52 of 52 obligations" in client.get("/whats-due?page=4").text
