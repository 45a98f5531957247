"""The tax area in Welsh (issue 10): Income Tax (quarterly updates, the final declaration's tax calculation) and VAT
returns, with Welsh errors and the "Gwall:" title prefix after a failed form."""

from __future__ import annotations

import httpx2 as httpx
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal.domain.models import Taxpayer
from portal.domain.sql import unit_of_work
from tests.factories import World, csrf_from, sign_in
from tests.test_income_tax import _jane_year, _post
from tests.test_vat_returns import VALID, _fill, _return_url, _world_vat_obligation
from tests.welsh import choose_welsh


def _in_welsh(client: TestClient, email: str = "agent@example.com") -> None:
    sign_in(client, email)
    choose_welsh(client)


def _welsh_page(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert '<html lang="cy"' in response.text
    return response.text


# --- Income Tax --------------------------------------------------------------------------------------------------


def test_the_income_tax_overview_is_in_welsh(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    _in_welsh(client)
    page = _welsh_page(client.get(year.home))
    for shown in ('<h1 class="govuk-heading-l">Treth Incwm</h1>', "<title>Treth Incwm – Jane Whitfield",
                  "Blwyddyn dreth 2024 i 2025", "Hunangyflogaeth: diweddariadau chwarterol",
                  "Anfon diweddariad chwarterol", "Gweld y dderbynneb", "Adolygu a chyflwyno’r datganiad terfynol",
                  "Dyddiad dyledus", "Wedi’i gyflwyno", "Hwyr", "ar gyfer blwyddyn dreth 2024 i 2025"):
        assert shown in page, shown
    for english in ("Send quarterly update", "Final declaration", "tax year", "Submitted", "Overdue"):
        assert english not in page, english


def test_the_tax_calculation_is_in_welsh_with_welsh_band_names_and_money(client: TestClient, engine: Engine,
                                                                        world: World) -> None:
    year = _jane_year(engine, world, sent=4)  # £30,000 profit: £3,486.00 Income Tax, £1,045.80 Class 4
    _in_welsh(client)
    page = _welsh_page(client.get(year.declaration_url))
    for shown in ("Datganiad terfynol ar gyfer blwyddyn dreth 2024 i 2025</h1>",
                  "Cyfrifiad treth ar gyfer blwyddyn dreth 2024 i 2025", "Lwfans Personol", "Incwm trethadwy",
                  "Treth Incwm ar elw", ">Cyfradd sylfaenol<", "Yswiriant Gwladol Dosbarth 4", ">Prif gyfradd<",
                  "£30,000.00", "£12,570.00", "£3,486.00", "£1,045.80", "£4,531.80",
                  "Cyfanswm y Dreth Incwm ac Yswiriant Gwladol Dosbarth 4",
                  "Wedi’i gyfrifo gan ddefnyddio cyfraddau 2025 i 2026 ar gyfer Cymru, Lloegr a Gogledd Iwerddon.",
                  "Yr hyn nad yw’r cyfrifiad hwn yn ei gynnwys", "Ad-daliadau benthyciad myfyriwr",
                  "Rwy’n cadarnhau bod yr wybodaeth yn gywir ac yn gyflawn hyd eithaf fy ngwybodaeth",
                  "Cyflwyno’r datganiad terfynol"):
        assert shown in page, shown
    for english in ("Basic rate", "Main rate", "Personal allowance", "Tax calculation", "Total Income Tax",
                    "student loan repayments"):
        assert english not in page, english


def test_scottish_bands_are_named_in_welsh(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    with unit_of_work(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        taxpayer.scottish_taxpayer = True
    _in_welsh(client)
    page = _welsh_page(client.get(year.declaration_url))
    for shown in ("Iawn: cyfraddau’r Alban ar elw", "Treth Incwm ar elw (cyfraddau’r Alban)", ">Cyfradd gychwynnol<",
                  ">Cyfradd sylfaenol<", ">Cyfradd ganolradd<", "£526.89", "£3,482.82"):
        assert shown in page, shown
    assert "Starter rate" not in page and "Intermediate rate" not in page


def test_the_declaration_counts_outstanding_updates_with_welsh_plurals(client: TestClient, engine: Engine,
                                                                      world: World) -> None:
    year = _jane_year(engine, world, sent=2)
    sign_in(client, "agent@example.com")
    assert "2 quarterly updates still to send:" in client.get(year.declaration_url).text
    client.cookies.set("language", "cy")
    page = _welsh_page(client.get(year.declaration_url))
    assert "Ni allwch gyflwyno’r datganiad terfynol eto" in page
    assert "2 ddiweddariad chwarterol i’w hanfon o hyd:" in page


def test_a_failed_quarterly_update_has_welsh_errors_and_a_gwall_title(client: TestClient, engine: Engine,
                                                                      world: World) -> None:
    year = _jane_year(engine, world)
    _in_welsh(client)
    form = _welsh_page(client.get(year.update_url()))
    assert "Diweddariad chwarterol ar gyfer" in form and "Er enghraifft, 12500" in form
    page = _welsh_page(_post(client, year.update_url(), {"income": "", "expenses": "-5"}, page=year.update_url()))
    assert "<title>Gwall: Diweddariad chwarterol ar gyfer Whitfield Joinery – Jane Whitfield" in page
    for message in ("Nodwch incwm y busnes ar gyfer y cyfnod hwn", "Ni all y treuliau fod yn rhif negatif"):
        assert page.count(message) == 2, message  # in the summary and by the field
    assert "Enter the business" not in page and "cannot be a negative number" not in page


def test_a_receipt_stored_in_english_reads_in_welsh(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world, sent=4)
    sign_in(client, "agent@example.com")
    assert _post(client, year.declaration_url, {"confirm": "yes"}).status_code == 303
    client.cookies.set("language", "cy")
    receipt = _welsh_page(client.get(year.declaration_url + "/receipt"))
    for shown in ("Datganiad terfynol wedi’i gyflwyno", "Eich cyfeirnod yw", ">Cyfradd sylfaenol<", ">Prif gyfradd<",
                  "£3,486.00"):
        assert shown in receipt, shown


# --- VAT -----------------------------------------------------------------------------------------------------------


def test_the_vat_return_and_its_check_page_are_in_welsh(client: TestClient, world: World, engine: Engine) -> None:
    granite = world.vat_client.id
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    _in_welsh(client)
    listing = _welsh_page(client.get(f"/clients/{granite}/vat"))
    assert "<title>TAW – Granite Bakery Ltd" in listing and "Ffurflenni i’w hanfon" in listing
    form = _welsh_page(client.get(_return_url(granite, obligation_id)))
    for shown in ("<title>Cyflwyno Ffurflen TAW – Granite Bakery Ltd",
                  "Blwch 1: TAW sy’n ddyledus ar werthiannau ac allbynnau eraill",
                  "Blwch 6: Cyfanswm gwerth gwerthiannau a’r holl allbynnau eraill, heb gynnwys TAW",
                  "Gwerthiannau a phryniadau", "Mewn punnoedd cyfan, er enghraifft 20000."):
        assert shown in form, shown
    assert _fill(client, _return_url(granite, obligation_id)).status_code == 303

    check = _welsh_page(client.get(_return_url(granite, obligation_id, "check")))
    for shown in ("<title>Gwirio’ch Ffurflen TAW – Granite Bakery Ltd", "Blwch 3: Cyfanswm y TAW sy’n ddyledus "
                  "(wedi’i gyfrifo)", "£950.25 i’w dalu", "Bydd angen i Granite Bakery Ltd dalu £950.25 i CThEF.",
                  '<span class="govuk-visually-hidden"> blwch 4, TAW a adenillwyd</span>',
                  "Ni allwch newid Ffurflen TAW unwaith y bydd wedi’i chyflwyno.",
                  "Rwy’n cadarnhau bod yr wybodaeth a roddais yn gywir ac yn gyflawn"):
        assert shown in check, shown
    assert "VAT due on sales" not in check and "to pay" not in check

    refused = _welsh_page(client.post(_return_url(granite, obligation_id, "check"),
                                      data={"csrf_token": csrf_from(check)}))
    assert "<title>Gwall: Gwirio’ch Ffurflen TAW – Granite Bakery Ltd" in refused
    assert refused.count("Dewiswch y blwch i gadarnhau") == 2


def test_a_failed_vat_return_has_welsh_errors_and_a_gwall_title(client: TestClient, world: World,
                                                               engine: Engine) -> None:
    obligation_id = _world_vat_obligation(engine, world.vat_client)
    _in_welsh(client)
    typed = VALID | {"box1": "12.345", "box2": "", "box6": "20000.50"}
    page = _welsh_page(_fill(client, _return_url(world.vat_client.id, obligation_id), typed))
    assert "<title>Gwall: Cyflwyno Ffurflen TAW – Granite Bakery Ltd" in page
    for box, message in (("box1", "Mae’n rhaid i flwch 1 fod yn swm mewn punnoedd a cheiniogau, megis 1250.50"),
                         ("box2", "Nodwch y swm ar gyfer blwch 2. Nodwch 0 os nad oes swm"),
                         ("box6", "Mae’n rhaid i flwch 6 fod yn nifer cyfan o bunnoedd, megis 20000")):
        assert f'<a href="#{box}">{message}</a>' in page, message
        assert page.count(message) == 2, message
    assert "must be" not in page


def test_a_lang_cy_link_opens_the_tax_pages_in_welsh(client: TestClient, engine: Engine, world: World) -> None:
    year = _jane_year(engine, world)
    sign_in(client, "jane@example.com")
    page = _welsh_page(client.get(year.update_url() + "?lang=cy"))
    assert "Nodwch incwm a threuliau’r busnes ar gyfer y cyfnod hwn mewn punnoedd cyfan." in page
    listing = _welsh_page(client.get(f"/clients/{world.itsa_client.id}/vat?lang=cy"))
    assert '<h1 class="govuk-heading-l">TAW</h1>' in listing
