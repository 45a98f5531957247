"""Getting in, in Welsh (issue 10): signing up, creating an agent services account, trusted helpers and the
emails a person gets, with Welsh chosen by `?lang=cy` or the language cookie; and a person who signs up in Welsh
gets their emails in Welsh."""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain.models import User
from portal.settings import Settings
from tests.factories import World, csrf_from, emails_to, follow_emailed_link, last_email_to, sign_in
from tests.test_helpers import _accept, _client, _invite, _person, _post, _user
from tests.welsh import choose_welsh as _welsh
from tests.welsh import title_of

WELSH_PAGE = '<html lang="cy"'


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def _title(response) -> str:  # type: ignore[no-untyped-def]
    return title_of(_text(response))


def _errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', _text(response))


# --- signing up and creating an agent services account ---------------------------------------------------------------


def test_the_start_page_of_an_agent_services_account_in_welsh(client: TestClient) -> None:
    page = client.get("/register?lang=cy")
    assert page.status_code == 200 and WELSH_PAGE in page.text
    text = _text(page)
    assert '<h1 class="govuk-heading-xl">Creu cyfrif gwasanaethau asiant</h1>' in text
    assert "Cyn i chi ddechrau" in text and "cyfeiriad eich cwmni yn y DU" in text
    assert "Creu manylion mewngofnodi" in text and ">mewngofnodwch</a>." in text
    assert "Create an agent services account" not in text


def test_a_refused_sign_up_in_welsh_says_what_is_wrong_in_welsh(client: TestClient, engine: Engine) -> None:
    _welsh(client)
    page = client.get("/sign-up")
    assert WELSH_PAGE in page.text and "<h1 class=\"govuk-heading-l\">Creu eich manylion mewngofnodi</h1>" in page.text
    assert "Enw llawn" in page.text and "Cadarnhau’r cyfrinair" in page.text
    refused = client.post("/sign-up", data={"name": "", "email": "", "password": "", "confirm_password": "",
                                            "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 200 and WELSH_PAGE in refused.text
    assert _title(refused).startswith("Gwall: Creu eich manylion mewngofnodi")
    errors = _errors(refused)
    assert "Nodwch eich enw llawn" in errors and "Nodwch eich cyfeiriad e-bost" in errors
    assert "Nodwch eich cyfrinair eto" in errors
    too_long = client.post("/sign-up", data={"name": "n" * 121, "email": "nia@example.com", "password": "",
                                             "confirm_password": "", "csrf_token": csrf_from(page.text)})
    assert "Mae’n rhaid i’r enw llawn fod yn 120 o gymeriadau neu lai" in _errors(too_long)
    with engine.connect() as connection:
        assert connection.execute(select(User.id)).first() is None


def test_creating_an_agent_services_account_in_welsh(client: TestClient, engine: Engine,
                                                      settings: Settings) -> None:
    _user(engine, settings, "nia@example.com", "Nia Evans")
    sign_in(client, "nia@example.com")
    _welsh(client)
    refused = _post(client, "/register/firm-name", {"firm_name": ""})
    assert refused.status_code == 200 and WELSH_PAGE in refused.text
    assert _title(refused).startswith("Gwall: Beth yw enw’ch cwmni?")
    assert _errors(refused) == ["Nodwch enw’ch cwmni"]
    assert "Bydd cleientiaid yn gweld yr enw hwn pan fyddwch yn gofyn iddynt eich awdurdodi" in _text(refused)

    supervision = client.get("/register/supervision")
    text = _text(supervision)
    assert "Eich goruchwyliaeth gwrth-wyngalchu arian" in text and "Dewiswch eich corff goruchwylio" in text
    # HMRC's name is Welsh, the value sent is the name as stored; the other bodies keep their English names.
    assert '<option value="HM Revenue and Customs (HMRC)">Cyllid a Thollau EF (CThEF)</option>' in text
    assert ">Law Society of Scotland</option>" in text
    refused = _post(client, "/register/supervision", {"amls_body": "", "amls_number": ""})
    assert _errors(refused) == ["Dewiswch eich corff goruchwylio gwrth-wyngalchu arian",
                                "Nodwch eich rhif cofrestru ar gyfer goruchwyliaeth gwrth-wyngalchu arian"]


def test_linking_a_tax_account_in_welsh(client: TestClient, engine: Engine, settings: Settings) -> None:
    _user(engine, settings, "nia@example.com", "Nia Evans")
    sign_in(client, "nia@example.com")
    page = client.get("/account/link-tax-account?lang=cy")
    text = _text(page)
    assert WELSH_PAGE in page.text and '<h1 class="govuk-heading-l">Cysylltu’ch cyfrif treth</h1>' in text
    assert "Rhif Yswiriant Gwladol" in text and "Cyfeirnod Unigryw y Trethdalwr" in text
    _welsh(client)
    refused = _post(client, "/account/link-tax-account", {"kind": "nino", "reference": "", "postcode": ""})
    assert _title(refused).startswith("Gwall: Cysylltu’ch cyfrif treth")
    assert _errors(refused) == ["Nodwch eich rhif Yswiriant Gwladol", "Nodwch eich cod post"]


# --- trusted helpers ------------------------------------------------------------------------------------------------


def test_asking_someone_to_help_in_welsh(client: TestClient, engine: Engine, settings: Settings) -> None:
    _person(engine, settings)
    sign_in(client, "mary@example.com")
    _welsh(client)
    manage = client.get("/trusted-helpers")
    assert WELSH_PAGE in manage.text
    assert "Pobl sy’n eich helpu gyda’ch treth" in _text(manage) and "Nid oes neb yn eich helpu" in _text(manage)

    refused = _post(client, "/trusted-helpers/invite", {"email": ""})
    assert _title(refused).startswith("Gwall: Beth yw cyfeiriad e-bost y person rydych am iddo eich helpu?")
    assert _errors(refused) == ["Nodwch gyfeiriad e-bost y person rydych am iddo eich helpu"]
    refused = _post(client, "/trusted-helpers/invite", {"email": "mary@example.com"})
    assert _errors(refused) == ["Nodwch gyfeiriad e-bost rhywun arall. Ni allwch ofyn i chi’ch hun eich helpu"]

    _post(client, "/trusted-helpers/invite", {"email": "helen@example.com"})
    check = _text(client.get("/trusted-helpers/invite/check"))
    assert "Rydych yn gofyn i <strong>helen@example.com</strong> eich helpu gyda’ch treth." in check
    assert "Byddant yn gallu:" in check and "Ni fyddant yn gallu:" in check
    assert "delio â’ch Ffurflenni Treth" in check
    assert "Newid<span class=\"govuk-visually-hidden\"> y cyfeiriad e-bost</span>" in check
    _post(client, "/trusted-helpers/invite/check")
    sent = _text(client.get("/trusted-helpers/invite/sent"))
    assert "Gwahoddiad yn barod i’w anfon" in sent and "Anfonwch y ddolen hon at helen@example.com" in sent
    manage = _text(client.get("/trusted-helpers"))
    assert "Gwahoddiad wedi’i anfon" in manage and "Tynnu’r gwahoddiad yn ôl" in manage
    assert "a anfonwyd at helen@example.com" in manage


def test_helping_someone_in_welsh(client: TestClient, app, engine: Engine,  # type: ignore[no-untyped-def]
                                  settings: Settings) -> None:
    _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "helen@example.com")
    with _client(app) as helper:
        _welsh(helper)
        signed_out = _text(helper.get(path))
        assert "Mae Mary Jones wedi gofyn i chi eu helpu gyda’u treth" in signed_out
        assert "Mae Mary Jones am i chi fod yn gynorthwyydd dibynadwy iddynt." in signed_out
        sign_in(helper, "helen@example.com")
        offer = helper.get(path)
        text = _text(offer)
        assert WELSH_PAGE in offer.text and "A ydych am helpu Mary Jones?" in text
        assert "Byddwch yn gallu:" in text and "gweld trosolwg o gyfrif treth Mary Jones" in text
        assert ">Derbyn</button>" in text and ">Gwrthod</button>" in text
        assert _accept(helper, path).headers["location"] == "/helping"
        helping = _text(helper.get("/helping"))
        assert "Pobl rydych yn eu helpu" in helping and "Yn helpu ers" in helping
        assert "Gallwch helpu hyd at 5 person." in helping
        assert "Rhoi’r gorau i helpu" in helping


# --- emails you get, and emails in Welsh ------------------------------------------------------------------------


def test_emails_you_get_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    page = client.get("/account/emails?lang=cy")
    text = _text(page)
    assert WELSH_PAGE in page.text and '<h1 class="govuk-heading-l">E-byst rydych yn eu cael</h1>' in text
    assert ">Iawn</label>" in text and ">Na</label>" in text and ">Cadw</button>" in text
    _welsh(client)
    refused = client.post("/account/emails", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 200 and _title(refused).startswith("Gwall: E-byst rydych yn eu cael")
    assert _errors(refused) == [
        "Dewiswch ‘Iawn’ os ydych am gael e-bost pan fydd rhywun sy’n gweithredu ar eich rhan yn gwneud rhywbeth"]

    client.cookies.clear()
    sign_in(client, "agent@example.com")
    _welsh(client)
    assert (f"A ddylai {world.firm.email} gael copi o’r e-byst am geisiadau eich cwmni am awdurdodiad?"
            in _text(client.get("/account/emails")))


def test_someone_who_signs_up_in_welsh_gets_their_emails_in_welsh(client: TestClient, app, engine: Engine,  # type: ignore[no-untyped-def]
                                                                    settings: Settings) -> None:
    _welsh(client)
    page = client.get("/sign-up")
    client.post("/sign-up", data={"name": "Heledd Huws", "email": "heledd@example.com",
                                  "password": "a long enough password", "confirm_password": "a long enough password",
                                  "csrf_token": csrf_from(page.text)})
    confirm = last_email_to(client, "heledd@example.com")
    assert confirm.subject == "Cadarnhewch eich cyfeiriad e-bost" and '<html lang="cy">' in confirm.html
    assert follow_emailed_link(client, "heledd@example.com").status_code == 303
    with Session(engine) as db:
        heledd = db.execute(select(User).where(User.email == "heledd@example.com")).scalar_one()
        assert heledd.language == "cy"

    # Later, someone using the portal in English asks her to help: the email is in her language, not theirs.
    _person(engine, settings)
    with _client(app) as mary:
        sign_in(mary, "mary@example.com")
        _invite(mary, "heledd@example.com")
    invitation = emails_to(client, "heledd@example.com")[-1]
    assert invitation.subject == "Mae Mary Jones wedi gofyn i chi eu helpu gyda’u treth"
    assert "gynorthwyydd dibynadwy" in invitation.text and '<html lang="cy">' in invitation.html
