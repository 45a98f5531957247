from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal.domain import audit
from portal.domain.models import AuditEvent, HelperLink, User, utcnow
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in


def _rows(page: str) -> list[list[str]]:
    """The cells of the activity table, tags stripped."""
    if "<tbody" not in page:
        return []
    body = page.split('<tbody class="govuk-table__body">', 1)[-1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    cells = (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row] for row in cells]


def _event(engine: Engine, action: str, *, minutes_ago: int = 0, **fields: object) -> None:
    with unit_of_work(engine) as db:
        audit.record(db, action, **fields)  # type: ignore[arg-type]
    if minutes_ago:
        with unit_of_work(engine) as db:
            newest = db.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
            newest.at = utcnow() - timedelta(minutes=minutes_ago)


def _change_address(client: TestClient, taxpayer_id: int) -> None:
    base = f"/clients/{taxpayer_id}/details/address"
    data = {"address_line1": "1 Quay Street", "address_line2": "", "town": "Leeds", "postcode": "LS2 7EQ"}
    token = csrf_from(client.get(base).text)
    assert client.post(base, data={**data, "csrf_token": token}).status_code == 303
    assert client.post(f"{base}/check", data={"csrf_token": token}).status_code == 303


# --- the taxpayer's own activity -----------------------------------------------------------------------------------


def test_the_client_sees_what_their_agent_did_with_the_firms_name(
        client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    _change_address(client, world.itsa_client.id)
    sign_in(client, "jane@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/activity")
    assert page.status_code == 200
    assert "<title>Activity on your account – Jane Whitfield" in page.text
    [(when, who, what)] = _rows(page.text)
    assert who == "Test Person, Harbour Tax"
    assert what == "Changed your postal address"
    assert " at " in when


def test_the_client_sees_who_did_each_thing_newest_first(
        client: TestClient, world: World, engine: Engine, settings: Settings) -> None:
    with unit_of_work(engine) as db:
        helper = factories.user(db, settings, "helper@example.com", "Harriet Helper")
        db.add(HelperLink(taxpayer_id=world.itsa_client.id, invited_email=helper.email, helper_user_id=helper.id,
                          status="active"))
    jane = world.itsa_client.id
    _event(engine, "authorisation_request_created", minutes_ago=30, authority="agent", actor_user_id=world.agent.id,
           firm_id=world.firm.id, taxpayer_id=jane, service="HMRC-MTD-IT")
    _event(engine, "authorisation_request_accepted", minutes_ago=20, authority="self",
           actor_user_id=world.client_user.id, firm_id=world.firm.id, taxpayer_id=jane, service="HMRC-MTD-IT")
    _event(engine, "contact_details_changed", minutes_ago=10, authority="helper", actor_user_id=helper.id,
           taxpayer_id=jane)
    _event(engine, "something_new_happened", authority="system", taxpayer_id=jane)
    _event(engine, "address_changed", authority="agent", actor_user_id=world.other_agent.id,
           firm_id=world.other_firm.id, taxpayer_id=world.other_client.id)  # someone else's account
    sign_in(client, "jane@example.com")
    rows = _rows(client.get(f"/clients/{jane}/activity").text)
    assert [row[1:] for row in rows] == [
        ["HMRC", "Something new happened"],
        ["Harriet Helper (trusted helper)", "Changed your contact details"],
        ["You", "Accepted an agent's request for authorisation for Making Tax Digital for Income Tax (main agent)"],
        ["Test Person, Harbour Tax",
         "Asked for your authorisation for Making Tax Digital for Income Tax (main agent)"],
    ]


def test_the_client_activity_has_twenty_to_a_page(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        for n in range(23):
            audit.record(db, "address_changed", authority="self", actor_user_id=world.client_user.id,
                         taxpayer_id=world.itsa_client.id, n=n)
    sign_in(client, "jane@example.com")
    first = client.get(f"/clients/{world.itsa_client.id}/activity")
    assert len(_rows(first.text)) == 20
    assert "(page 1 of 2)" in first.text and 'rel="next"' in first.text
    second = client.get(f"/clients/{world.itsa_client.id}/activity?page=2")
    assert len(_rows(second.text)) == 3 and "(page 2 of 2)" in second.text
    assert len(_rows(client.get(f"/clients/{world.itsa_client.id}/activity?page=99").text)) == 3  # the last page


def test_a_client_with_no_activity_is_told_so(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/activity")
    assert "Nothing has been done on your account yet" in page.text and _rows(page.text) == []


def test_only_the_taxpayer_sees_their_activity(
        client: TestClient, world: World, engine: Engine, settings: Settings) -> None:
    with unit_of_work(engine) as db:
        helper = factories.user(db, settings, "helper@example.com", "Harriet Helper")
        db.add(HelperLink(taxpayer_id=world.itsa_client.id, invited_email=helper.email, helper_user_id=helper.id,
                          status="active"))
    url = f"/clients/{world.itsa_client.id}/activity"
    for email in ("agent@example.com", "staff@example.com", "other@example.com", "helper@example.com"):
        sign_in(client, email)
        assert client.get(url).status_code == 404, email
    assert client.get(f"/clients/{2**31}/activity").status_code == 404


# --- the firm's activity -------------------------------------------------------------------------------------------


def _firm_events(engine: Engine, world: World) -> None:
    _event(engine, "authorisation_request_created", minutes_ago=3, authority="agent", actor_user_id=world.agent.id,
           firm_id=world.firm.id, taxpayer_id=world.vat_client.id, service="HMRC-MTD-VAT")
    _event(engine, "address_changed", minutes_ago=2, authority="agent", actor_user_id=world.staff.id,
           firm_id=world.firm.id, taxpayer_id=world.itsa_client.id)
    _event(engine, "address_changed", minutes_ago=1, authority="agent", actor_user_id=world.other_agent.id,
           firm_id=world.other_firm.id, taxpayer_id=world.other_client.id)


def _rename(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        for user, name in ((world.agent, "Ada Admin"), (world.staff, "Sid Staff"), (world.other_agent, "Olly Other")):
            record = db.get(User, user.id)
            assert record is not None
            record.name = name


def test_a_firm_administrator_sees_what_the_firms_people_did(client: TestClient, world: World, engine: Engine) -> None:
    _rename(engine, world)
    _firm_events(engine, world)
    sign_in(client, "agent@example.com")
    page = client.get("/activity")
    assert page.status_code == 200 and "<title>What your firm has done" in page.text
    assert [row[1:] for row in _rows(page.text)] == [
        ["Sid Staff", "Jane Whitfield", "Changed the client's postal address"],
        ["Ada Admin", "Granite Bakery Ltd", "Asked the client for authorisation for VAT"],
    ]
    assert f'href="/clients/{world.itsa_client.id}"' in page.text
    assert "Oscar Pennine" not in page.text and "Olly Other" not in page.text  # another firm's events


def test_the_firm_activity_filters_by_client_and_by_person(client: TestClient, world: World, engine: Engine) -> None:
    _rename(engine, world)
    _firm_events(engine, world)
    sign_in(client, "agent@example.com")
    assert [row[2] for row in _rows(client.get("/activity?client=GRANITE").text)] == ["Granite Bakery Ltd"]
    by_staff = client.get(f"/activity?person={world.staff.id}")
    assert [row[1] for row in _rows(by_staff.text)] == ["Sid Staff"]
    assert f'<option value="{world.staff.id}" selected>Sid Staff</option>' in by_staff.text
    assert "Olly Other" not in by_staff.text  # the person list is the firm's own people
    assert _rows(client.get(f"/activity?client=granite&person={world.staff.id}").text) == []
    # Another firm's person is not a choice, so the filter is ignored rather than showing their events.
    assert "Oscar Pennine" not in client.get(f"/activity?person={world.other_agent.id}").text
    # Wildcards are plain text.
    nothing = client.get("/activity?client=%25")
    assert _rows(nothing.text) == [] and "Nothing matches your filters" in nothing.text


def test_an_over_long_client_filter_is_an_error(client: TestClient, world: World, engine: Engine) -> None:
    _firm_events(engine, world)
    sign_in(client, "agent@example.com")
    page = client.get("/activity?client=" + "a" * 101)
    assert page.status_code == 200 and "<title>Error:" in page.text
    assert page.text.count("Client name must be 100 characters or fewer") == 2
    assert len(_rows(page.text)) == 2  # unfiltered


def test_the_firm_activity_has_twenty_to_a_page(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        for n in range(41):
            audit.record(db, "address_changed", authority="agent", actor_user_id=world.staff.id,
                         firm_id=world.firm.id, taxpayer_id=world.itsa_client.id, n=n)
    sign_in(client, "agent@example.com")
    first = client.get(f"/activity?person={world.staff.id}")
    assert len(_rows(first.text)) == 20 and "(page 1 of 3)" in first.text
    assert f'href="/activity?person={world.staff.id}&amp;page=2"' in first.text  # pages keep the filter
    assert len(_rows(client.get(f"/activity?person={world.staff.id}&page=3").text)) == 1


def test_only_firm_administrators_see_the_firm_activity(client: TestClient, world: World) -> None:
    for email in ("staff@example.com", "jane@example.com"):
        sign_in(client, email)
        assert client.get("/activity").status_code == 404, email


def test_a_new_firm_is_told_it_has_done_nothing_yet(client: TestClient, world: World) -> None:
    sign_in(client, "other@example.com")
    page = client.get("/activity")
    assert "Your firm has not done anything yet" in page.text
