"""The ENG/CYM toggle and the language of each page (issue 10): chosen, kept, remembered, and never a redirect
off the site."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal import i18n
from portal.domain.models import User
from portal.web.formatting import govuk_date, govuk_datetime, pounds
from tests.factories import World, sign_in
from tests.welsh import lang_of


def test_a_newcomer_reads_english_with_a_link_to_welsh(client: TestClient) -> None:
    page = client.get("/help")
    assert lang_of(page.text) == "en"
    assert "Skip to main content" in page.text
    assert '<span aria-current="true">ENG</span>' in page.text
    # A plain link (no JavaScript), saying in Welsh what it does, back to this page.
    assert 'href="/language/cy?to=/help" hreflang="cy" lang="cy"' in page.text
    assert "Newid yr iaith i’r Gymraeg" in page.text


def test_the_toggle_switches_to_welsh_and_back_on_the_same_page(client: TestClient) -> None:
    chosen = client.get("/language/cy?to=/help")
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/help"
    assert "language=cy" in chosen.headers["set-cookie"]
    page = client.get("/help")
    assert lang_of(page.text) == "cy"
    assert "Neidio i’r prif gynnwys" in page.text and "Skip to main content" not in page.text
    assert '<span aria-current="true">CYM</span>' in page.text
    assert 'href="/language/en?to=/help" hreflang="en" lang="en"' in page.text
    assert client.get("/language/en?to=/help").headers["location"] == "/help"
    assert lang_of(client.get("/help").text) == "en"


def test_the_toggle_comes_back_to_the_page_in_the_referer_with_its_query(client: TestClient) -> None:
    chosen = client.get("/language/cy", headers={"referer": "http://testserver/help?x=1&lang=en"})
    assert chosen.headers["location"] == "/help?x=1"


def test_the_toggle_never_sends_anyone_off_the_site(client: TestClient) -> None:
    for to in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil"):
        assert client.get("/language/cy", params={"to": to}).headers["location"] == "/"
    elsewhere = client.get("/language/cy", headers={"referer": "https://evil.example/phish"})
    assert elsewhere.headers["location"] == "/"


def test_only_the_two_languages_are_offered(client: TestClient) -> None:
    assert client.get("/language/fr").status_code == 404
    assert client.get("/language/CY").status_code == 404


def test_a_lang_link_opens_in_welsh_and_is_remembered(client: TestClient) -> None:
    page = client.get("/help?lang=cy")
    assert lang_of(page.text) == "cy"
    assert "language=cy" in page.headers["set-cookie"]
    assert lang_of(client.get("/cookies").text) == "cy"
    # The toggle's way back leaves the lang= out, or it would undo the choice.
    assert 'href="/language/en?to=/help"' in page.text


def test_an_unknown_language_reads_english(client: TestClient) -> None:
    assert lang_of(client.get("/help?lang=fr").text) == "en"
    client.cookies.set("language", "xx")
    assert lang_of(client.get("/help").text) == "en"


def test_a_signed_in_persons_choice_is_kept_with_their_account(client: TestClient, world: World,
                                                               engine: Engine, app) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    client.get("/language/cy", headers={"referer": "http://testserver/clients"})
    with Session(engine) as db:
        assert db.exec(select(User.language).where(User.email == "agent@example.com")).one() == "cy"
    # Another browser, which never chose, reads the account's language from sign-in on.
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as elsewhere:
        sign_in(elsewhere, "agent@example.com")
        assert lang_of(elsewhere.get("/clients").text) == "cy"


def test_a_choice_made_before_signing_in_wins_over_the_account(client: TestClient, world: World,
                                                               engine: Engine) -> None:
    with Session(engine) as db:
        user = db.exec(select(User).where(User.email == "agent@example.com")).one()
        user.language = "cy"
        db.add(user)
        db.commit()
    client.get("/language/en")
    sign_in(client, "agent@example.com")
    assert lang_of(client.get("/clients").text) == "en"
    with Session(engine) as db:
        assert db.exec(select(User.language).where(User.email == "agent@example.com")).one() == "en"


def test_dates_times_and_money_follow_the_language() -> None:
    moment = datetime(2026, 8, 7, 13, 5, tzinfo=UTC)  # 2:05pm in London (BST)
    assert govuk_date(date(2026, 8, 7)) == "7 August 2026"
    assert govuk_datetime(moment) == "7 August 2026 at 2:05pm"
    with i18n.using("cy"):
        assert govuk_date(date(2026, 8, 7)) == "7 Awst 2026"
        assert govuk_date(date(2026, 1, 1)) == "1 Ionawr 2026"
        assert govuk_datetime(moment) == "7 Awst 2026 am 2:05yh"
        assert pounds(123456) == "£1,234.56"
