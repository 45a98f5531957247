"""The shared chrome in Welsh (issue 10): the GOV.UK components, the error pages, the help, cookies and accessibility
pages, the start and details pages, form messages and the names of tax services. A page asked for in Welsh
(`?lang=cy`, or the `language` cookie) says `<html lang="cy">` and keeps none of the English chrome."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from portal import i18n
from portal.domain import identifiers, services, tax_years
from portal.domain.sql import unit_of_work
from portal.web.forms import Form, check_uk_address, read_date, too_long
from tests import factories
from tests.factories import World, csrf_from, sign_in
from tests.welsh import lang_of, title_of

# GOV.UK component and layout text that must never be left in English on a Welsh page, as whole words.
ENGLISH_CHROME = ("Skip to main content", "There is a problem", "Back", "Previous", "Next", "Error:", "Change",
                  "Cookies", "Accessibility statement", "Help and contact")


# The toggle's way back to English is English on purpose, marked lang="en" ("ENG – Change the language to English").
LANGUAGE_SWITCHER = re.compile(r'<nav class="hmrc-service-navigation-language-select".*?</nav>', re.S)


def english_chrome_in(html: str) -> list[str]:
    html = LANGUAGE_SWITCHER.sub("", html)
    return [words for words in ENGLISH_CHROME if re.search(rf"(?<![\w-]){re.escape(words)}(?![\w-])", html)]


def assert_welsh(html: str) -> None:
    assert lang_of(html) == "cy", "not a Welsh page"
    assert english_chrome_in(html) == []
    assert "Neidio i’r prif gynnwys" in html



# --- pages anyone can see ------------------------------------------------------------------------------------------


def test_the_start_page_in_welsh(client: TestClient) -> None:
    page = client.get("/?lang=cy")
    assert page.status_code == 200
    assert_welsh(page.text)
    assert '<h1 class="govuk-heading-xl">Hunanwasanaeth Ar-lein i Asiantau</h1>' in page.text
    assert "Defnyddiwch y gwasanaeth hwn os ydych yn:" in page.text
    assert "Mewngofnodi" in page.text


@pytest.mark.parametrize(("path", "heading"), [
    ("/help", "Help a chysylltu"),
    ("/cookies", "Cwcis"),
    ("/accessibility", "Datganiad hygyrchedd"),
])
def test_the_footer_pages_in_welsh_say_the_service_is_in_welsh(client: TestClient, path: str, heading: str) -> None:
    client.cookies.set("language", "cy")
    page = client.get(path)
    assert page.status_code == 200
    assert_welsh(page.text)
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page.text
    assert title_of(page.text).startswith(heading)
    assert "Gymraeg" in page.text  # each says how to use the service in Welsh (cookies: the language cookie)


def test_the_footer_pages_in_english_mention_welsh_too(client: TestClient) -> None:
    assert "Using the service in Welsh" in client.get("/help").text
    assert "use the whole service in English or in Welsh" in client.get("/accessibility").text
    assert "Remembers whether you chose to use the service in English or in Welsh" in client.get("/cookies").text


def test_the_404_page_in_welsh(client: TestClient) -> None:
    page = client.get("/no-such-page?lang=cy")
    assert page.status_code == 404
    assert_welsh(page.text)
    assert "Heb ddod o hyd i’r dudalen" in title_of(page.text)
    assert "Os gwnaethoch deipio’r cyfeiriad gwe, gwiriwch ei fod yn gywir." in page.text
    assert "Page not found" not in page.text


def test_a_client_you_may_not_act_for_is_a_welsh_404(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    client.cookies.set("language", "cy")
    for path in (f"/clients/{world.other_client.id}", f"/clients/{world.other_client.id}/details"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert_welsh(page.text)
        assert '<h1 class="govuk-heading-l">Heb ddod o hyd i’r dudalen</h1>' in page.text


def test_a_refused_form_post_is_a_welsh_400(client: TestClient) -> None:
    page = client.post("/sign-in?lang=cy", data={"email": "a@example.com", "password": "x"})  # no CSRF token
    assert page.status_code in (400, 403)
    assert_welsh(page.text)
    assert "Mae’n ddrwg gennym, mae problem gyda’ch cais" in page.text


# --- the details pages: summary list, back link, a failed form, the panel ------------------------------------------


def test_the_details_page_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/details?lang=cy")
    assert page.status_code == 200
    assert_welsh(page.text)
    assert title_of(page.text).startswith("Eich manylion – Jane Whitfield")
    assert '<h1 class="govuk-heading-l">Eich manylion</h1>' in page.text
    # The summary list's action and its hidden context, in Welsh.
    assert re.findall(r'>Newid<span class="govuk-visually-hidden"> ([^<]+)</span>', page.text) == [
        "cyfeiriad post", "cyfeiriad e-bost", "rhif ffôn", "a yw’n drethdalwr Albanaidd"]
    assert "Unigolyn neu unig fasnachwr" in page.text  # the client type
    assert "Yn ôl i’ch trosolwg" in page.text


def test_a_failed_details_form_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    client.cookies.set("language", "cy")
    base = f"/clients/{world.itsa_client.id}/details/contact"
    question = client.get(base)
    assert_welsh(question.text)
    assert '<a href="/clients/' in question.text and 'class="govuk-back-link">Yn ôl</a>' in question.text
    refused = client.post(base, data={"email": "jane@", "phone": "12", "csrf_token": csrf_from(question.text)})
    assert refused.status_code == 200
    assert_welsh(refused.text)
    assert title_of(refused.text).startswith("Gwall: Beth yw eich manylion cyswllt?")
    assert '<h2 class="govuk-error-summary__title">Mae problem wedi codi</h2>' in refused.text
    hidden_prefix = '<span class="govuk-visually-hidden">Gwall:</span> '
    assert hidden_prefix + "Nodwch gyfeiriad e-bost yn y fformat cywir" in refused.text
    assert refused.text.count("Nodwch rif ffôn, fel 01632 960 001") == 2  # in the summary and by the field
    assert ">Parhau</button>" in refused.text


def test_changing_an_address_in_welsh_to_the_end(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    client.cookies.set("language", "cy")
    base = f"/clients/{world.itsa_client.id}/details/address"
    question = client.get(base)
    assert "Beth yw eich cyfeiriad post?" in question.text
    for label in ("Llinell 1 y cyfeiriad", "Llinell 2 y cyfeiriad (dewisol)", "Tref neu ddinas", "Cod post"):
        assert f">{label}</label>" in question.text
    empty = client.post(base, data={"csrf_token": csrf_from(question.text)})
    assert "Nodwch linell 1 y cyfeiriad, fel arfer yr adeilad a’r stryd" in empty.text
    assert "Nodwch god post" in empty.text
    answered = client.post(base, data={"address_line1": "1 Stryd y Cei", "town": "Caerdydd", "postcode": "cf10 1aa",
                                       "csrf_token": csrf_from(question.text)})
    assert answered.status_code == 303
    check = client.get(f"{base}/check")
    assert_welsh(check.text)
    assert '<h1 class="govuk-heading-l">Gwiriwch eich atebion</h1>' in check.text
    assert "Bydd pawb sy’n delio â’ch treth yn gweld y cyfeiriad post newydd ar unwaith." in check.text
    assert ">Cadw’r cyfeiriad</button>" in check.text
    saved = client.post(f"{base}/check", data={"csrf_token": csrf_from(check.text)})
    assert saved.status_code == 303
    done = client.get(saved.headers["location"])
    assert_welsh(done.text)
    assert '<h1 class="govuk-panel__title">Cyfeiriad wedi’i ddiweddaru</h1>' in done.text
    assert "Mae eich cyfeiriad post wedi’i newid" in done.text
    assert "Beth sy’n digwydd nesaf" in done.text


def test_an_agent_reads_a_clients_details_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/details/scottish-taxpayer?lang=cy")
    assert page.status_code == 200
    assert "A yw Jane Whitfield yn drethdalwr Albanaidd?" in page.text
    assert ">Iawn, mae’r prif gartref yn yr Alban</label>" in page.text and ">Na</label>" in page.text
    refused = client.post(f"/clients/{world.itsa_client.id}/details/scottish-taxpayer",
                          data={"csrf_token": csrf_from(page.text)})
    assert title_of(refused.text).startswith("Gwall: ")
    assert refused.text.count("Dewiswch ‘Iawn’ os yw’r prif gartref yn yr Alban") == 2


# --- a paginated page ------------------------------------------------------------------------------------------------


def test_pagination_in_welsh(client: TestClient, world: World, engine, settings) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        for n in range(45):  # three pages of Your clients
            factories.authorise(db, world.firm, factories.taxpayer(db, f"Cleient Prawf {n:02d}"), "HMRC-MTD-VAT")
    sign_in(client, "agent@example.com")
    client.cookies.set("language", "cy")
    page = client.get("/clients?page=2")
    assert page.status_code == 200
    nav = re.search(r'<nav class="govuk-pagination".*?</nav>', page.text, re.S)
    assert nav, "no pagination"
    pagination = nav.group(0)
    assert 'aria-label="Tudalennau canlyniadau"' in pagination
    assert 'Blaenorol<span class="govuk-visually-hidden"> (tudalen)</span>' in pagination
    assert 'Nesaf<span class="govuk-visually-hidden"> (tudalen)</span>' in pagination
    assert 'aria-label="Tudalen 1"' in pagination and 'aria-label="Tudalen 3"' in pagination
    assert english_chrome_in(pagination) == [] and "Page " not in pagination
    assert lang_of(page.text) == "cy"
    # (the page's own words are the clients area's; the chrome around them is Welsh)
    assert "Skip to main content" not in page.text and "Neidio i’r prif gynnwys" in page.text


# --- the common rules: form messages, tax service names -------------------------------------------------------------


def test_form_messages_are_whole_welsh_sentences() -> None:
    with i18n.using("cy"):
        assert too_long("Phone number", 30) == "Mae’n rhaid i’r maes ‘Rhif ffôn’ fod yn 30 o gymeriadau neu lai"
        form = Form(values={"when-day": "1", "when-month": "", "when-year": ""})
        read_date(form, "when", "the date")
        assert form.errors["when"].endswith(": mae’n rhaid iddo gynnwys mis a blwyddyn")
        form = Form(values={"address_line1": "", "town": "", "postcode": "NOT A CODE"})
        check_uk_address(form)
        assert form.errors == {"address_line1": "Nodwch linell 1 y cyfeiriad, fel arfer yr adeilad a’r stryd",
                               "town": "Nodwch dref neu ddinas", "postcode": "Nodwch god post go iawn"}
        assert identifiers.empty_message(identifiers.IdentifierKind.NINO) == "Nodwch rif Yswiriant Gwladol eich cleient"
    # English is unchanged.
    form = Form(values={"when-day": "1", "when-month": "", "when-year": ""})
    read_date(form, "when", "the date")
    assert form.errors["when"] == "The date must include a month and year"
    assert too_long("Phone number", 30) == "Phone number must be 30 characters or fewer"


def test_tax_service_and_client_type_names_follow_the_language() -> None:
    vat = services.BY_KEY["HMRC-MTD-VAT"]
    assert (vat.name, services.display_name("HMRC-MTD-VAT"), services.display_name("ITSA")) == (
        "VAT", "VAT", "Income Tax (Making Tax Digital)")
    with i18n.using("cy"):
        assert vat.name == "TAW" and services.display_name("HMRC-MTD-VAT") == "TAW"
        assert services.display_name("ITSA") == services.regime_name("ITSA") == "Treth Incwm (Troi Treth yn Ddigidol)"
        assert services.REGIME_NAMES["VAT"] == "TAW" and dict(services.REGIME_NAMES.items())["VAT"] == "TAW"
        assert services.CLIENT_TYPE_LABELS.get("business") == "Cwmni neu bartneriaeth"
        assert identifiers.LABELS[identifiers.IdentifierKind.NINO] == "Rhif Yswiriant Gwladol"
        assert tax_years.BUSINESS_KINDS["uk-property"] == "Eiddo yn y DU"
        assert i18n.gettext(tax_years.QUARTERLY_UPDATE) == "Diweddariad chwarterol"
        # Every service, regime and client type has its Welsh.
        for service in services.SERVICES:
            assert service.name != service.english_name, service.key
        for code, english in services.REGIME_NAMES.english.items():
            assert services.REGIME_NAMES[code] != english, code
    assert services.display_name("NOT-A-SERVICE") == "NOT-A-SERVICE"
    assert tax_years.QUARTERLY_UPDATE == "Quarterly update"  # a code in the database: never translated itself


def test_component_defaults_are_in_the_language_of_the_page(app) -> None:  # type: ignore[no-untyped-def]
    """Every component's GOV.UK text comes through _(), so a page gets the Welsh without passing any."""
    env = app.state.templates.env
    source = ('{% from "components/notification_banner.html" import notification_banner %}'
              '{% from "components/warning_text.html" import warning_text %}'
              '{% from "components/back_link.html" import back_link %}'
              '{% from "components/date_input.html" import date_input %}'
              '{% call notification_banner("done", success=true) %}x{% endcall %}'
              '{% call notification_banner("news") %}y{% endcall %}'
              '{{ warning_text("z") }}{{ back_link("/") }}{{ date_input(form, "when", "When?") }}')
    with i18n.using("cy"):
        html = env.from_string(source).render(form=Form())
    for welsh in (">Llwyddiant</h2>", ">Pwysig</h2>", '<span class="govuk-visually-hidden">Rhybudd</span>',
                  ">Yn ôl</a>", ">Diwrnod</label>", ">Mis</label>", ">Blwyddyn</label>"):
        assert welsh in html, welsh
    english = env.from_string(source).render(form=Form())
    assert ">Success</h2>" in english and ">Important</h2>" in english and ">Back</a>" in english
