"""Welsh (issue 10) for the agent's client switcher and overviews: the client list and its htmx partials, a
client's overview, What's due and its CSV, and the activity pages, whose descriptions are read from audit codes."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal import i18n
from portal.domain import audit
from portal.domain.sql import unit_of_work
from tests.factories import World, csrf_from, sign_in
from tests.welsh import choose_welsh

HTMX = {"HX-Request": "true"}


def _in_welsh(client: TestClient, email: str = "agent@example.com") -> None:
    sign_in(client, email)
    choose_welsh(client)


def _cells(page: str) -> list[list[str]]:
    """The cells of the page's table body, tags stripped."""
    body = page.split('<tbody class="govuk-table__body"', 1)[-1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


# --- the client list ---------------------------------------------------------------------------------------------


def test_the_client_list_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client)
    page = client.get("/clients")
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    assert "<title>Eich cleientiaid – " in page.text
    assert '<h1 class="govuk-heading-l">Eich cleientiaid</h1>' in page.text
    assert "Chwilio yn ôl enw neu gyfeirnod treth" in page.text and ">Pob gwasanaeth treth</option>" in page.text
    assert 'role="status">2 gleient</p>' in page.text  # two: the soft mutation of Welsh's own plural form
    with i18n.using("cy"):
        overdue_since = i18n.format_date(date.today() - timedelta(days=3))  # "26 Tachwedd 2026"
    assert _cells(page.text)[0] == ["Granite Bakery Ltd", "Cwmni neu bartneriaeth", "TAW", f"{overdue_since} Hwyr"]
    assert 'data-label="Math o gleient"' in page.text and ">Hwyr</strong>" in page.text
    for english in ("Your clients", "Search by name", "Client type", "Overdue", "Company or partnership"):
        assert english not in page.text, english


def test_lang_cy_in_the_address_asks_for_welsh_too(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/clients?lang=cy")
    assert '<html lang="cy"' in page.text and "Eich cleientiaid" in page.text


def test_a_welsh_htmx_search_returns_the_results_and_the_count_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client)
    partial = client.get("/clients?q=granite", headers=HTMX)
    assert "<html" not in partial.text and 'id="clients-results"' in partial.text
    assert partial.text.lstrip().startswith("<title>Eich cleientiaid – ")
    assert 'id="clients-count" data-hx-swap-oob="innerHTML">Canfuwyd 1 cleient</p>' in partial.text
    assert '<th scope="col" class="govuk-table__header">Dyddiad cau nesaf</th>' in partial.text
    none = client.get("/clients?q=nobody+at+all", headers=HTMX)
    assert 'data-hx-swap-oob="innerHTML">Ni chanfuwyd unrhyw gleientiaid</p>' in none.text
    assert "Nid oes unrhyw gleientiaid yn cyfateb i’ch chwiliad" in none.text
    assert "Gwella’ch canlyniadau drwy wneud y canlynol:" in none.text and "Clirio’ch chwiliad" in none.text


def test_a_welsh_search_too_long_is_a_welsh_error(client: TestClient, world: World) -> None:
    _in_welsh(client)
    page = client.get("/clients", params={"q": "a" * 101})
    assert page.text.count("Mae’n rhaid i’r chwiliad fod yn 100 o gymeriadau neu lai") == 2
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in page.text


def test_switching_client_with_htmx_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client)
    partial = client.get(f"/clients/{world.vat_client.id}", headers=HTMX)
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith("<title>Trosolwg – Granite Bakery Ltd – ")
    assert "Rydych yn gweithredu ar ran <strong>Granite Bakery Ltd</strong>" in partial.text
    assert '">Newid cleient</a>' in partial.text
    assert '<span class="govuk-caption-l">Cwmni neu bartneriaeth</span>' in partial.text
    assert "Rhif cofrestru TAW" in partial.text and "Eich cyfeirnod cleient" in partial.text
    assert "TAW: Ffurflen TAW" in partial.text and ">Hwyr</strong>" in partial.text
    assert "Beth sy’n ddyledus" in partial.text and "Rhagor ar gyfer Granite Bakery Ltd" in partial.text
    assert "Gwasanaethau treth y gallwch weithredu ar eu cyfer" in partial.text
    assert "Rhoi’r gorau i weithredu ar ran y cleient hwn" in partial.text
    for english in ("You are acting for", "Change client", "What is due", "More for", "VAT return"):
        assert english not in partial.text, english


def test_the_client_reference_question_in_welsh_with_its_error(client: TestClient, world: World) -> None:
    _in_welsh(client)
    url = f"/clients/{world.vat_client.id}/client-reference"
    form = client.get(url)
    assert "Beth yw eich cyfeirnod cleient ar gyfer Granite Bakery Ltd?" in form.text
    assert "Cadw cyfeirnod cleient" in form.text
    refused = client.post(url, data={"reference": "x" * 81, "csrf_token": csrf_from(form.text)})
    assert refused.status_code == 400
    assert refused.text.count("Mae’n rhaid i’r cyfeirnod cleient fod yn 80 o gymeriadau neu lai") == 2
    assert "<title>Gwall: Cyfeirnod cleient – Granite Bakery Ltd – " in refused.text


def test_a_taxpayers_own_overview_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client, "jane@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}")
    assert '<html lang="cy"' in page.text and "<title>Trosolwg – Jane Whitfield – " in page.text
    assert '<span class="govuk-caption-l">Unigolyn neu unig fasnachwr</span>' in page.text
    assert "Rhif Yswiriant Gwladol" in page.text and "Rydych yn gweithredu" not in page.text
    assert '<h2 class="govuk-heading-m">Eich cyfrif</h2>' in page.text
    assert ">Eich manylion</a>" in page.text and ">Gweithgarwch ar eich cyfrif</a>" in page.text
    assert "Treth Incwm (Troi Treth yn Ddigidol): Diweddariad chwarterol" in page.text
    assert ">Yn ddyledus</strong>" in page.text and '<th scope="col" class="govuk-table__header">Dyddiad dyledus</th>' \
        in page.text


# --- What's due and its CSV --------------------------------------------------------------------------------------


def test_whats_due_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client)
    page = client.get("/whats-due")
    assert '<html lang="cy"' in page.text and '<h1 class="govuk-heading-l">Beth sy’n ddyledus</h1>' in page.text
    assert 'role="status">2 rwymedigaeth</p>' in page.text
    rows = _cells(page.text)
    assert [row[:2] for row in rows] == [["Granite Bakery Ltd", "TAW"],
                                         ["Jane Whitfield", "Treth Incwm (Troi Treth yn Ddigidol)"]]
    assert rows[0][2].startswith("Ffurflen TAW") and rows[1][2].startswith("Diweddariad chwarterol")
    assert [row[-1] for row in rows] == ["Hwyr", "Yn ddyledus"]
    assert '<option value="overdue">Hwyr</option>' in page.text and "Lawrlwytho fel CSV" in page.text
    for english in ("What’s due", "Quarterly update", "Download as CSV", "Apply filters"):
        assert english not in page.text, english


def test_whats_due_filter_errors_in_welsh(client: TestClient, world: World) -> None:
    _in_welsh(client)
    page = client.get("/whats-due?within=soon")
    assert page.text.count("Mae’n rhaid i nifer y diwrnodau fod yn rhif cyfan, fel 30") == 2
    assert "<title>Gwall: Beth sy’n ddyledus – " in page.text
    assert "Mae’n rhaid i nifer y diwrnodau fod rhwng 1 a 366" in client.get("/whats-due?within=400").text


def test_the_csv_has_welsh_headings_and_words(client: TestClient, world: World) -> None:
    _in_welsh(client)
    [header, *rows] = list(csv.reader(io.StringIO(client.get("/whats-due.csv").text)))
    assert header == ["Cleient", "Cyfeirnod cleient", "Gwasanaeth treth", "Rhwymedigaeth", "Dechrau’r cyfnod",
                      "Diwedd y cyfnod", "Dyddiad dyledus", "Statws"]
    assert [(row[0], row[2], row[3], row[7]) for row in rows] == [
        ("Granite Bakery Ltd", "TAW", "Ffurflen TAW", "Hwyr"),
        ("Jane Whitfield", "Treth Incwm (Troi Treth yn Ddigidol)", "Diweddariad chwarterol", "Yn ddyledus")]
    # English stays the default.
    client.cookies.set("language", "en")
    assert client.get("/whats-due.csv").text.startswith("Client,Client reference,Tax service,Obligation,")


# --- activity: codes read in either language ---------------------------------------------------------------------


def _events(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        audit.record(db, "authorisation_request_created", authority="agent", actor_user_id=world.agent.id,
                     firm_id=world.firm.id, taxpayer_id=world.itsa_client.id, service="HMRC-MTD-IT")
    with unit_of_work(engine) as db:
        audit.record(db, "address_changed", authority="self", actor_user_id=world.client_user.id,
                     taxpayer_id=world.itsa_client.id)


def test_the_taxpayers_activity_reads_in_welsh_from_the_same_codes(
        client: TestClient, world: World, engine: Engine) -> None:
    _events(engine, world)
    sign_in(client, "jane@example.com")
    url = f"/clients/{world.itsa_client.id}/activity"
    english = [row[1:] for row in _cells(client.get(url).text)]
    assert english == [["You", "Changed your postal address"],
                       ["Test Person, Harbour Tax",
                        "Asked for your authorisation for Making Tax Digital for Income Tax (main agent)"]]
    client.cookies.set("language", "cy")
    page = client.get(url)
    assert '<html lang="cy"' in page.text
    assert '<h1 class="govuk-heading-l">Gweithgarwch ar eich cyfrif</h1>' in page.text
    assert [row[1:] for row in _cells(page.text)] == [
        ["Chi", "Wedi newid eich cyfeiriad post"],
        ["Test Person, Harbour Tax",
         "Wedi gofyn am eich awdurdodiad ar gyfer Troi Treth yn Ddigidol ar gyfer Treth Incwm (prif asiant)"]]
    assert 'data-label="Pwy"' in page.text and "Yn ôl i’ch trosolwg" in page.text


def test_the_firms_activity_in_welsh(client: TestClient, world: World, engine: Engine) -> None:
    _events(engine, world)
    with unit_of_work(engine) as db:
        audit.record(db, "authorisation_request_accepted", authority="self", actor_user_id=world.client_user.id,
                     firm_id=world.firm.id, taxpayer_id=world.itsa_client.id)
    with unit_of_work(engine) as db:
        audit.record(db, "access_group_clients_added", authority="agent", actor_user_id=world.agent.id,
                     firm_id=world.firm.id, group="Leeds office", count=3)
    _in_welsh(client)
    page = client.get("/activity")
    assert '<h1 class="govuk-heading-l">Beth mae eich cwmni wedi’i wneud</h1>' in page.text
    assert [row[1:] for row in _cells(page.text)] == [
        ["Test Person", "Dim cleient", "Wedi ychwanegu cleientiaid at grŵp mynediad (Leeds office, 3 chleient)"],
        ["Jane Whitfield (cleient)", "Jane Whitfield", "Wedi derbyn cais y cwmni am awdurdodiad"],
        ["Test Person", "Jane Whitfield",
         "Wedi gofyn i’r cleient am awdurdodiad ar gyfer Troi Treth yn Ddigidol ar gyfer Treth Incwm (prif asiant)"]]
    too_long = client.get("/activity?client=" + "a" * 101)
    assert too_long.text.count("Mae’n rhaid i enw’r cleient fod yn 100 o gymeriadau neu lai") == 2


# --- Welsh plural forms ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "welsh"), [
    (0, "0 o gleientiaid"), (1, "1 cleient"), (2, "2 gleient"), (3, "3 chleient"), (6, "6 chleient"),
    (7, "7 o gleientiaid"), (320, "320 o gleientiaid"),
])
def test_client_counts_take_each_of_welshs_six_plural_forms(count: int, welsh: str) -> None:
    with i18n.using("cy"):
        assert i18n.ngettext("%(number)s client", "%(number)s clients", count) % {"number": count} == welsh


def test_an_overview_in_english_is_unchanged(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get(f"/clients/{world.vat_client.id}")
    assert '<html lang="en"' in page.text and "You are acting for <strong>Granite Bakery Ltd</strong>" in page.text
    assert "VAT: VAT return" in page.text and "Company or partnership" in page.text
