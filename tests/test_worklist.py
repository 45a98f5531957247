"""What's due: the worklist across a firm's clients, its filters, pages and CSV download."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from portal.areas import worklist
from portal.domain.models import Firm
from portal.domain.people import Viewer
from portal.domain.sql import unit_of_work
from portal.domain.team_models import AccessGroup, AccessGroupMember
from tests import factories

TODAY = date.today()


def _rows(html: str) -> list[str]:
    """The client names of the table's rows, in order."""
    return re.findall(
        r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="/clients/\d+">([^<]+)</a>', html)


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_worklist_shows_only_the_firms_clients_in_the_regimes_it_is_authorised_for(client, world) -> None:  # type: ignore[no-untyped-def]
    factories.sign_in(client, "agent@example.com")
    page = client.get("/whats-due")
    assert page.status_code == 200
    # Jane's VAT return is hidden: the firm is only her Income Tax agent. Oscar belongs to another firm.
    assert _rows(page.text) == ["Granite Bakery Ltd", "Jane Whitfield"]
    assert "Quarterly update" in page.text and "Oscar Pennine" not in page.text
    assert page.text.count("VAT return") == 1


def test_another_firm_sees_only_its_own_clients(client, world) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(client.app.state.engine) as db:
        factories.obligation(db, world.other_client, "ITSA", TODAY + timedelta(days=9), kind="Quarterly update")
    factories.sign_in(client, "other@example.com")
    assert _rows(client.get("/whats-due").text) == ["Oscar Pennine"]


def test_overdue_comes_first_then_soonest_and_fulfilled_or_ended_work_is_left_out(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        harbour = db.get(Firm, world.firm.id)
        later, sooner, done = (factories.taxpayer(db, name) for name in ("Later Ltd", "Sooner Ltd", "Done Ltd"))
        for record in (later, sooner, done):
            factories.authorise(db, harbour, record, "HMRC-MTD-VAT")
        factories.obligation(db, later, "VAT", TODAY + timedelta(days=60), kind="VAT return")
        factories.obligation(db, sooner, "VAT", TODAY + timedelta(days=1), kind="VAT return")
        factories.obligation(db, sooner, "VAT", TODAY - timedelta(days=30), kind="VAT return")
        factories.obligation(db, done, "VAT", TODAY - timedelta(days=40), kind="VAT return", fulfilled=TODAY)
    factories.sign_in(client, "agent@example.com")
    page = client.get("/whats-due").text
    assert _rows(page) == ["Sooner Ltd", "Granite Bakery Ltd", "Sooner Ltd", "Jane Whitfield", "Later Ltd"]
    assert page.count("govuk-tag--red\">Overdue") == 2


def test_a_staff_member_restricted_by_access_groups_sees_only_their_clients(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        harbour = db.get(Firm, world.firm.id)
        harbour.access_groups_enabled = True
        mine, theirs = AccessGroup(firm_id=harbour.id, name="Mine"), AccessGroup(firm_id=harbour.id, name="Theirs")
        db.add_all([mine, theirs])
        db.flush()
        db.add(AccessGroupMember(group_id=mine.id, user_id=world.staff.id))
        factories.in_group(db, theirs, world.vat_client)
        ungrouped = factories.taxpayer(db, "Ungrouped Ltd")
        factories.authorise(db, harbour, ungrouped, "HMRC-MTD-VAT")
        factories.obligation(db, ungrouped, "VAT", TODAY + timedelta(days=2), kind="VAT return")
    factories.sign_in(client, "staff@example.com")
    assert _rows(client.get("/whats-due").text) == ["Ungrouped Ltd", "Jane Whitfield"]
    assert "Granite Bakery" not in client.get("/whats-due.csv").text
    client.cookies.clear()
    factories.sign_in(client, "agent@example.com")  # an administrator sees every client
    assert "Granite Bakery Ltd" in _rows(client.get("/whats-due").text)


@pytest.mark.parametrize(("query", "expected"), [
    ("service=VAT", ["Granite Bakery Ltd"]),
    ("service=ITSA", ["Jane Whitfield"]),
    ("status=overdue", ["Granite Bakery Ltd"]),
    ("status=due", ["Jane Whitfield"]),
    ("within=10", ["Granite Bakery Ltd"]),  # overdue is within any number of days
    ("within=20", ["Granite Bakery Ltd", "Jane Whitfield"]),
    ("status=due&within=10", []),
    ("client=JANE", ["Jane Whitfield"]),
    ("client=%25", []),
    ("service=NOPE&status=nope", ["Granite Bakery Ltd", "Jane Whitfield"]),
])
def test_each_filter_narrows_the_list(client, world, query: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    factories.sign_in(client, "agent@example.com")
    page = client.get(f"/whats-due?{query}")
    assert page.status_code == 200 and _rows(page.text) == expected
    if not expected:
        assert "Nothing matches your filters" in page.text
        assert "Download as CSV" not in page.text


@pytest.mark.parametrize(("within", "message"), [
    ("0", "Number of days must be between 1 and 366"),
    ("367", "Number of days must be between 1 and 366"),
    ("ten", "Number of days must be a whole number, like 30"),
    ("-5", "Number of days must be a whole number, like 30"),
    ("1.5", "Number of days must be a whole number, like 30"),
    ("٣", "Number of days must be a whole number, like 30"),
    ("9" * 40, "Number of days must be between 1 and 366"),
])
def test_a_number_of_days_out_of_range_is_a_govuk_error_and_is_not_applied(  # type: ignore[no-untyped-def]
        client, world, within: str, message: str) -> None:
    factories.sign_in(client, "agent@example.com")
    page = client.get("/whats-due", params={"within": within})
    assert page.status_code == 200
    assert "<title>Error: What’s due" in page.text
    assert f'<a href="#within">{message}</a>' in page.text and 'id="within-error"' in page.text
    assert _rows(page.text) == ["Granite Bakery Ltd", "Jane Whitfield"]
    csv_download = client.get("/whats-due.csv", params={"within": within})
    assert csv_download.status_code == 303 and csv_download.headers["location"].startswith("/whats-due?within=")


def test_a_client_name_over_100_characters_is_an_error(client, world) -> None:  # type: ignore[no-untyped-def]
    factories.sign_in(client, "agent@example.com")
    page = client.get("/whats-due", params={"client": "x" * 101})
    assert "Client name must be 100 characters or fewer" in page.text


def _many(engine: Engine, world, count: int) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        harbour = db.get(Firm, world.firm.id)
        for n in range(count):
            record = factories.taxpayer(db, f"Client {n:03d}")
            factories.authorise(db, harbour, record, "HMRC-MTD-VAT")
            factories.obligation(db, record, "VAT", TODAY + timedelta(days=30 + n), kind="VAT return")


def test_the_list_pages_twenty_at_a_time(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    _many(engine, world, 43)  # 45 in all with the world's two
    factories.sign_in(client, "agent@example.com")
    first = client.get("/whats-due").text
    assert len(_rows(first)) == 20 and "Showing 1 to 20 of 45 obligations" in first
    assert 'href="/whats-due?page=3"' in first and 'rel="next"' in first
    last = client.get("/whats-due?page=3").text
    assert _rows(last) == [f"Client {n:03d}" for n in range(38, 43)]
    assert "<title>What’s due (page 3 of 3)" in last and 'rel="prev"' in last
    assert len(_rows(client.get("/whats-due?page=99").text)) == 5  # past the end shows the last page
    assert len(_rows(client.get("/whats-due?page=abc").text)) == 20
    filtered = client.get("/whats-due?service=VAT&page=2").text
    assert 'href="/whats-due?service=VAT&amp;page=3"' in filtered


def test_the_csv_has_every_matching_row_beyond_one_page(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    _many(engine, world, 43)
    factories.sign_in(client, "agent@example.com")
    response = client.get("/whats-due.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="whats-due-{TODAY.isoformat()}.csv"'
    rows = _csv(response.content.decode("utf-8"))
    assert rows[0] == list(worklist.CSV_HEADER)
    assert len(rows) == 1 + 45
    assert rows[1] == ["Granite Bakery Ltd", "", "VAT", "VAT return", (TODAY - timedelta(days=123)).isoformat(),
                       (TODAY - timedelta(days=33)).isoformat(), (TODAY - timedelta(days=3)).isoformat(), "Overdue"]
    assert [row[0] for row in _csv(client.get("/whats-due.csv?service=ITSA").text)[1:]] == ["Jane Whitfield"]


def test_the_csv_pages_through_the_rows_by_keyset_without_losing_or_repeating_any(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    _many(engine, world, 10)
    with unit_of_work(engine) as db:  # several obligations on one day, so the keyset's tie-breaks matter
        harbour = db.get(Firm, world.firm.id)
        for n in range(6):
            record = factories.taxpayer(db, f"Same Day {n}")
            factories.authorise(db, harbour, record, "HMRC-MTD-VAT")
            factories.obligation(db, record, "VAT", TODAY + timedelta(days=31), kind="VAT return")
    agent = Viewer(world.agent.id, "A", "agent@example.com", 0, firm_id=world.firm.id, role="admin")
    batched = [row.obligation_id for row in worklist.iter_due(engine, agent, worklist.Filters(), TODAY, batch=3)]
    whole = [row.obligation_id for row in worklist.iter_due(engine, agent, worklist.Filters(), TODAY, batch=1000)]
    assert batched == whole and len(whole) == len(set(whole)) == 18


def test_the_csv_quotes_properly_and_defuses_spreadsheet_formulas(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    names = ['=HYPERLINK("http://evil.example","Click")', "+44 Trading", "-1 Ltd", "@SUM(A1)", 'Smith, "Jones" & Co',
             "Zoë Ångström"]
    with unit_of_work(engine) as db:
        harbour = db.get(Firm, world.firm.id)
        for n, name in enumerate(names):
            record = factories.taxpayer(db, name)
            factories.authorise(db, harbour, record, "HMRC-MTD-VAT")
            factories.obligation(db, record, "VAT", TODAY + timedelta(days=100 + n), kind="VAT return")
    factories.sign_in(client, "agent@example.com")
    body = client.get("/whats-due.csv").content.decode("utf-8")
    clients = [row[0] for row in _csv(body)[3:]]
    assert clients == ["'" + names[0], "'+44 Trading", "'-1 Ltd", "'@SUM(A1)", 'Smith, "Jones" & Co', "Zoë Ångström"]
    assert '"Smith, ""Jones"" & Co"' in body


def test_a_firm_with_nothing_due_is_told_so(client, settings, engine) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        factories.member(db, settings, factories.firm(db, "Quiet Ltd"), "quiet@example.com")
    factories.sign_in(client, "quiet@example.com")
    page = client.get("/whats-due").text
    assert "Nothing is due" in page and "Download as CSV" not in page and _rows(page) == []
    assert _csv(client.get("/whats-due.csv").text) == [list(worklist.CSV_HEADER)]


def test_people_who_are_not_agents_are_sent_to_their_account(client, world) -> None:  # type: ignore[no-untyped-def]
    factories.sign_in(client, "jane@example.com")
    for path in ("/whats-due", "/whats-due.csv"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/account"


def test_signed_out_visitors_are_asked_to_sign_in(client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/whats-due", "/whats-due.csv"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
