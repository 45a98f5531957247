"""Issue 10, signing in and account security in Welsh: the sign-in page, its errors (still the same answer for an
unknown address and a wrong password), the second step, recovery codes, the security and team pages, and the
signed-out and timed-out pages. Welsh is asked for as a person's browser keeps it: the `language` cookie."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from functools import cache

import pyotp
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal import i18n
from portal.domain import accounts, two_step
from portal.domain.account_models import SecondFactor
from portal.domain.models import Membership, UserSession
from portal.settings import Settings
from tests import factories
from tests.factories import PASSWORD, World, csrf_from, sign_in
from tests.welsh import choose_welsh, lang_of, title_of

OUR_SOURCES = ("portal/templates/auth/", "portal/areas/accounts/", "portal/domain/accounts.py")


@pytest.fixture
def welsh(client: TestClient) -> TestClient:
    return choose_welsh(client)


@cache
def _our_english() -> tuple[str, ...]:
    """Every sentence of this area's catalogue entries (placeholders and markup left out): none of them may be
    left on a Welsh page."""
    with i18n.CATALOGUES.joinpath("cy", "LC_MESSAGES", "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="cy")
    found = set()
    for message in catalogue:
        if not message.id or not any(path.startswith(OUR_SOURCES) for path, _line in message.locations):
            continue
        msgids: list[str] = list(message.id) if isinstance(message.id, (tuple, list)) else [message.id]
        for msgid in msgids:
            for bit in re.split(r"<[^>]+>|%\(\w+\)[sd]", msgid):
                if len(bit.split()) >= 2:  # two words or more: not a name or a code
                    found.add(bit.strip())
    return tuple(sorted(found))


def _text(page: str) -> str:
    """What a person reads or hears: the text and the title, without the markup."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _no_english_left(page: str) -> None:
    text = _text(page)
    left = [english for english in _our_english() if english in text]
    assert not left, f"English on a Welsh page: {left}"


def _welsh_page(response, heading: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 403, 404, 429), response.text
    assert '<html lang="cy"' in response.text
    assert heading in _text(response.text)
    _no_english_left(response.text)
    return str(response.text)


def _post_sign_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def _without_tokens(page: str) -> str:
    return re.sub(r"[0-9a-f]{64}", "TOKEN", page)


# --- signing in ---------------------------------------------------------------------------------------------------


def test_the_sign_in_page_in_welsh(welsh: TestClient, world: World) -> None:
    page = _welsh_page(welsh.get("/sign-in"), "Mewngofnodi")
    assert '<h1 class="govuk-heading-l">Mewngofnodi</h1>' in page
    assert "<title>Mewngofnodi –" in page
    assert ">Cyfeiriad e-bost</label>" in page and ">Cyfrinair</label>" in page
    assert "Wedi anghofio’ch cyfrinair?" in page
    assert "Dim manylion mewngofnodi eto?" in page and ">Creu manylion mewngofnodi</a>" in page


def test_a_welsh_link_asks_for_welsh_without_the_cookie(client: TestClient, world: World) -> None:
    page = client.get("/sign-in?lang=cy")
    assert '<html lang="cy"' in page.text and '<h1 class="govuk-heading-l">Mewngofnodi</h1>' in page.text


def test_a_failed_sign_in_in_welsh_still_says_nothing_about_who_has_an_account(
    welsh: TestClient, world: World
) -> None:
    wrong_password = _post_sign_in(welsh, "agent@example.com", "not the password")
    unknown_email = _post_sign_in(welsh, "nobody@example.com", "not the password")
    for response in (wrong_password, unknown_email):
        page = _welsh_page(response, "Mewngofnodi")
        assert "<title>Gwall: Mewngofnodi" in page
        assert '<a href="#email">Nodwch gyfeiriad e-bost a chyfrinair cywir</a>' in page
        assert "> Nodwch gyfeiriad e-bost a chyfrinair cywir</p>" in page  # beside the field too
        assert "not the password" not in page
    assert _without_tokens(wrong_password.text).replace('value="agent@example.com"', "") == _without_tokens(
        unknown_email.text).replace('value="nobody@example.com"', "")


def test_a_blank_sign_in_asks_for_each_answer_in_welsh(welsh: TestClient, world: World) -> None:
    page = _welsh_page(_post_sign_in(welsh, "", ""), "Mewngofnodi")
    assert "<title>Gwall: Mewngofnodi" in page
    assert page.index("Nodwch eich cyfeiriad e-bost") < page.index("Nodwch eich cyfrinair")
    too_long = _post_sign_in(welsh, "a" * 250 + "@example.com", PASSWORD)
    assert "Mae’n rhaid i’r cyfeiriad e-bost fod yn 254 o gymeriadau neu lai" in too_long.text


def test_too_many_wrong_passwords_are_refused_in_welsh(welsh: TestClient, world: World) -> None:
    for _ in range(6):
        response = _post_sign_in(welsh, "agent@example.com", "guess")
    page = _welsh_page(response, "Mewngofnodi")
    assert "Rydych wedi ceisio mewngofnodi gormod o weithiau." in page


# --- the second step ----------------------------------------------------------------------------------------------


def test_the_2_step_page_and_its_errors_in_welsh(welsh: TestClient, world: World) -> None:
    asked = _post_sign_in(welsh, "agent@example.com", PASSWORD)
    assert asked.headers["location"].startswith("/sign-in/second-step")
    page = _welsh_page(welsh.get(asked.headers["location"]), "Nodwch y cod 6 digid o’ch ap dilysu")
    assert "<title>Nodwch y cod 6 digid o’ch ap dilysu –" in page
    assert "Mae’r cod yn newid bob 30 eiliad" in page and ">Defnyddio cod adfer</a>" in page
    assert ">Allgofnodi</button>" in page

    wrong = welsh.post(asked.headers["location"], data={"code": "000000", "csrf_token": csrf_from(page)})
    page = _welsh_page(wrong, "Nodwch y cod 6 digid o’ch ap dilysu")
    assert "<title>Gwall: Nodwch y cod 6 digid o’ch ap dilysu" in page
    assert ('<span class="govuk-visually-hidden">Gwall:</span> Nid yw’r cod a nodwyd gennych yn gywir, neu efallai '
            "ei fod wedi dod i ben. Gwiriwch eich ap dilysu a rhowch gynnig arall arni") in page

    letters = welsh.post(asked.headers["location"], data={"code": "abc", "csrf_token": csrf_from(page)})
    assert "Nodwch y cod gan ddefnyddio 6 digid yn unig" in _welsh_page(letters, "Nodwch y cod")


def test_a_wrong_recovery_code_is_refused_in_welsh(welsh: TestClient, world: World) -> None:
    _post_sign_in(welsh, "agent@example.com", PASSWORD)
    page = _welsh_page(welsh.get("/sign-in/recovery-code"), "Nodwch god adfer")
    assert "Er enghraifft, ABCD-EFGH-JKMN" in page
    wrong = welsh.post("/sign-in/recovery-code", data={"recovery_code": "AAAA-BBBB-CCCC",
                                                       "csrf_token": csrf_from(page)})
    page = _welsh_page(wrong, "Cod adfer")
    assert "<title>Gwall: " in page
    assert "Nid yw’r cod adfer a nodwyd gennych yn gywir, neu mae wedi cael ei ddefnyddio" in page


def test_setting_up_2_step_at_sign_in_in_welsh(welsh: TestClient, world: World, engine: Engine,
                                               settings: Settings) -> None:
    with Session(engine) as db:
        person = factories.user(db, settings, "new-agent@example.com")
        db.add(Membership(firm_id=world.firm.id, user_id=person.id, role="standard"))
        db.commit()
    asked = _post_sign_in(welsh, "new-agent@example.com", PASSWORD)
    assert asked.headers["location"].startswith("/sign-in/set-up-2-step")
    page = _welsh_page(welsh.get(asked.headers["location"]), "Sefydlu ap dilysu")
    assert "Mae’n rhaid i bawb mewn cwmni asiant ddefnyddio dilysu dau gam i fewngofnodi." in page
    empty = welsh.post(asked.headers["location"], data={"code": "", "csrf_token": csrf_from(page)})
    assert "Nodwch y cod 6 digid" in _welsh_page(empty, "Sefydlu ap dilysu")
    done, _secret = factories.set_up_authenticator_app(welsh, asked.headers["location"])
    page = _welsh_page(done, "Cadwch eich codau adfer")
    assert ">Rwyf wedi cadw fy nghodau adfer</a>" in page


# --- sign-in and security details ---------------------------------------------------------------------------------


def test_the_security_page_in_welsh(welsh: TestClient, world: World) -> None:
    sign_in(welsh, "agent@example.com")
    page = _welsh_page(welsh.get("/account/security"), "Manylion mewngofnodi a diogelwch")
    assert '<h1 class="govuk-heading-l">Manylion mewngofnodi a diogelwch</h1>' in page
    assert '<h2 class="govuk-heading-m">Dilysu dau gam</h2>' in page
    assert "Mae’n rhaid i bawb mewn cwmni asiant ddefnyddio dilysu dau gam." in page
    assert ">Ap dilysu</dt>" in page and ">0 ar ôl</dd>" in page
    with i18n.using("cy"):
        assert f"Ychwanegwyd {i18n.format_date(factories.utcnow())}" in page  # "Ychwanegwyd 7 Awst 2026"
    assert 'Newid<span class="govuk-visually-hidden"> eich cyfrinair</span>' in page
    assert "Ble rydych wedi mewngofnodi" in page and "Y porwr hwn" in page


def test_changing_the_password_explains_the_rules_in_welsh(welsh: TestClient, world: World) -> None:
    sign_in(welsh, "agent@example.com")
    page = _welsh_page(welsh.get("/account/security/password"), "Newid eich cyfrinair")
    short = welsh.post("/account/security/password", data={
        "current_password": PASSWORD, "password": "short", "confirm_password": "other",
        "csrf_token": csrf_from(page)})
    page = _welsh_page(short, "Newid eich cyfrinair")
    assert "<title>Gwall: Newid eich cyfrinair" in page
    assert "Mae’n rhaid i’r cyfrinair fod yn 12 o gymeriadau neu fwy" in page
    assert "Nid yw’r cyfrineiriau’n cyfateb" in page


def test_the_team_page_in_welsh(welsh: TestClient, world: World) -> None:
    sign_in(welsh, "agent@example.com")
    page = _welsh_page(welsh.get("/account/team"), "Diogelwch mewngofnodi eich tîm")
    assert "Wedi’i sefydlu" in page
    assert 'Ailosod dilysu dau gam<span class="govuk-visually-hidden"> ar gyfer Test Person</span>' in page


# --- signed out ---------------------------------------------------------------------------------------------------


def test_the_signed_out_and_timed_out_pages_in_welsh(welsh: TestClient) -> None:
    page = _welsh_page(welsh.get("/signed-out"), "Rydych wedi allgofnodi")
    assert ">Mewngofnodi eto</a>" in page
    page = _welsh_page(welsh.get("/timed-out"), "Er eich diogelwch, gwnaethom eich allgofnodi")
    assert "Ni wnaethoch unrhyw beth am 15 munud, felly gwnaethom eich allgofnodi." in page


def test_an_expired_link_in_welsh(welsh: TestClient) -> None:
    page = _welsh_page(welsh.get("/password-reset/not-a-token"),
                       "Mae’r ddolen hon wedi dod i ben neu wedi cael ei defnyddio eisoes")
    assert '>Mewngofnodwch</a> neu <a class="govuk-link" href="/password-reset">ailosodwch eich cyfrinair</a>.' in page


# --- the messages themselves --------------------------------------------------------------------------------------


def test_password_rules_are_message_ids_translated_where_they_are_shown() -> None:
    problem = accounts.password_problem("short")
    assert problem == "Password must be 12 characters or more"
    with i18n.using("cy"):
        assert i18n.gettext(problem) == "Mae’n rhaid i’r cyfrinair fod yn 12 o gymeriadau neu fwy"
        assert i18n.gettext(accounts.password_problem("x" * 129) or "") == (
            "Mae’n rhaid i’r cyfrinair fod yn 128 o gymeriadau neu lai")


@pytest.mark.parametrize("count", [0, 1, 2, 3, 6, 10])
def test_recovery_codes_left_reads_right_in_every_welsh_plural_form(count: int) -> None:
    with i18n.using("cy"):
        assert i18n.ngettext("%(count)s left", "%(count)s left", count) % {"count": count} == f"{count} ar ôl"


# --- every other page of the area ---------------------------------------------------------------------------------


def test_resetting_a_forgotten_password_in_welsh(welsh: TestClient, world: World) -> None:
    page = _welsh_page(welsh.get("/password-reset"), "Ailosodwch eich cyfrinair")
    blank = welsh.post("/password-reset", data={"email": "", "csrf_token": csrf_from(page)})
    assert "<title>Gwall: Ailosodwch eich cyfrinair" in _welsh_page(blank, "Nodwch eich cyfeiriad e-bost")
    for address in ("agent@example.com", "nobody@example.com"):  # the same answer either way
        sent = welsh.post("/password-reset", data={"email": address, "csrf_token": csrf_from(page)})
        assert "Os oes gennych fanylion mewngofnodi gyda’r cyfeiriad hwn" in _welsh_page(sent, "Gwiriwch eich e-bost")
        assert f"Rydym wedi anfon e-bost at {address}." in sent.text

    path = factories.EMAILED_LINK.findall(factories.last_email_to(welsh, "agent@example.com").text)[0]
    page = _welsh_page(welsh.get(path), "Creu cyfrinair newydd")
    wrong = welsh.post(path, data={"password": "a brand new password", "confirm_password": "another one",
                                   "csrf_token": csrf_from(page)})
    assert "Nid yw’r cyfrineiriau’n cyfateb" in _welsh_page(wrong, "Creu cyfrinair newydd")
    done = welsh.post(path, data={"password": "a brand new password", "confirm_password": "a brand new password",
                                  "csrf_token": csrf_from(page)})
    factories.second_step(welsh, done)
    # For 48 hours after a reset, how codes are received cannot change: said in Welsh, with a Welsh date.
    wait = _welsh_page(welsh.get("/account/security/authenticator-app"),
                       "Ni allwch newid sut rydych yn cael codau diogelwch eto")
    assert "Gwnaethoch ailosod eich cyfrinair yn ddiweddar." in wait


def test_changing_how_codes_come_in_welsh(welsh: TestClient, world: World, engine: Engine) -> None:
    sign_in(welsh, "agent@example.com")
    page = _welsh_page(welsh.get("/account/security/authenticator-app"), "Sefydlu ap dilysu")
    assert "Mae’n rhaid i bawb mewn cwmni asiant" not in page  # said only at sign-in
    wrong = welsh.post("/account/security/authenticator-app", data={"code": "", "csrf_token": csrf_from(page)})
    assert "Nodwch y cod 6 digid y mae’r ap yn ei ddangos" in _welsh_page(wrong, "Sefydlu ap dilysu")
    _welsh_page(welsh.get("/account/security/passkey"), "Ychwanegu allwedd mynediad neu allwedd ddiogelwch")
    page = _welsh_page(welsh.get("/account/security/recovery-codes"), "Cael codau adfer newydd")
    codes = welsh.post("/account/security/recovery-codes", data={"csrf_token": csrf_from(page)})
    assert "Ni fyddwn yn dangos y codau hyn eto." in _welsh_page(codes, "Cadwch eich codau adfer")
    with engine.connect() as connection:
        factor_id = connection.execute(
            select(col(SecondFactor.id)).where(col(SecondFactor.user_id) == world.agent.id)).scalar_one()
    only = welsh.get(f"/account/security/methods/{factor_id}/remove")
    assert only.status_code == 403
    _welsh_page(only, "Ni allwch dynnu’ch unig ffordd o gael codau diogelwch")
    page = _welsh_page(welsh.get(f"/account/team/{world.staff.id}/reset-2-step"),
                       "Ailosod dilysu dau gam ar gyfer Test Person")
    assert ">Ailosod dilysu dau gam</button>" in page and ">Canslo</a>" in page


def test_confirming_it_is_you_in_welsh(welsh: TestClient, world: World, engine: Engine) -> None:
    sign_in(welsh, "agent@example.com")
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(reauthenticated_at=factories.utcnow() - timedelta(minutes=6)))
    asked = welsh.get("/account/security/authenticator-app")
    page = _welsh_page(welsh.get(asked.headers["location"]), "Cadarnhewch mai chi sydd yno")
    wrong = welsh.post(asked.headers["location"], data={"code": "000000", "csrf_token": csrf_from(page)})
    page = _welsh_page(wrong, "Cadarnhewch mai chi sydd yno")
    assert "<title>Gwall: Cadarnhewch mai chi sydd yno" in page and "Gwiriwch eich ap dilysu" in page


def test_too_many_wrong_codes_lock_the_second_step_in_welsh(welsh: TestClient, world: World) -> None:
    asked = _post_sign_in(welsh, "agent@example.com", PASSWORD)
    for _ in range(6):
        page = welsh.get(asked.headers["location"])
        if page.status_code == 429:
            break
        welsh.post(asked.headers["location"], data={"code": "000000", "csrf_token": csrf_from(page.text)})
    locked = _welsh_page(welsh.get(asked.headers["location"]), "Ni allwch fewngofnodi ar hyn o bryd")
    assert "Er eich diogelwch, arhoswch 2 awr, yna rhowch gynnig arall arni." in locked


# --- the emailed sign-in link, and removing a way to get codes ---------------------------------------------------


def test_the_emailed_sign_in_link_in_welsh(welsh: TestClient, world: World) -> None:
    for _ in range(6):
        _post_sign_in(welsh, "agent@example.com", "guess")
    _post_sign_in(welsh, "agent@example.com", PASSWORD)  # the right password, locked: a link is emailed
    path = factories.EMAILED_LINK.findall(factories.last_email_to(welsh, "agent@example.com").text)[0]
    page = _welsh_page(welsh.get(path), "Gorffen mewngofnodi")
    assert lang_of(page) == "cy" and title_of(page).startswith("Gorffen mewngofnodi –")
    assert '<h1 class="govuk-heading-l">Gorffen mewngofnodi</h1>' in page and "Finish signing in" not in page
    assert "Gwnaethoch ddilyn y ddolen a anfonwyd atoch drwy e-bost." in page
    assert ">Parhau</button>" in page
    followed = welsh.post(path, data={"csrf_token": csrf_from(page)})
    assert followed.headers["location"] == "/sign-in/second-step"
    _welsh_page(welsh.get(followed.headers["location"]), "Nodwch y cod 6 digid o’ch ap dilysu")
    used = welsh.get(path)  # it works once
    assert used.status_code == 404
    _welsh_page(used, "Mae’r ddolen hon wedi dod i ben neu wedi cael ei defnyddio eisoes")


def test_removing_a_way_to_get_codes_in_welsh(welsh: TestClient, world: World, engine: Engine,
                                              settings: Settings) -> None:
    sign_in(welsh, "agent@example.com")
    with Session(engine) as db:  # a second way, so the first may go
        factor_id = two_step.enrol_totp(db, settings, world.agent.id, pyotp.random_base32()).id
        db.commit()
    path = f"/account/security/methods/{factor_id}/remove"
    page = _welsh_page(welsh.get(path), "A ydych yn siŵr eich bod am dynnu hwn?")
    assert lang_of(page) == "cy" and title_of(page).startswith("A ydych yn siŵr eich bod am dynnu hwn? –")
    assert '<h1 class="govuk-heading-l">A ydych yn siŵr eich bod am dynnu hwn?</h1>' in page
    assert "Are you sure you want to remove this?" not in page
    assert ">Tynnu</button>" in page and ">Canslo</a>" in page
    assert "Dyma’ch unig ffordd o gael codau diogelwch" not in page  # not the last way
    removed = welsh.post(path, data={"csrf_token": csrf_from(page)})
    assert removed.headers["location"] == "/account/security?changed=method"
    page = _welsh_page(welsh.get(removed.headers["location"]), "Rydych wedi newid sut rydych yn cael codau diogelwch")
    assert ">Llwyddiant</h2>" in page
    assert "Gwnaethoch dynnu ffordd o gael codau diogelwch ar gyfer dilysu dau gam." in factories.last_email_to(
        welsh, "agent@example.com").text


def test_removing_the_only_way_warns_in_welsh_where_2_step_is_not_required(
    welsh: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    secret = pyotp.random_base32()
    with Session(engine) as db:
        factor_id = two_step.enrol_totp(db, settings, world.client_user.id, secret).id
        db.commit()
    sign_in(welsh, "jane@example.com", secret=secret)
    page = _welsh_page(welsh.get(f"/account/security/methods/{factor_id}/remove"),
                       "A ydych yn siŵr eich bod am dynnu hwn?")
    assert ("Dyma’ch unig ffordd o gael codau diogelwch: hebddo, byddwch yn mewngofnodi gyda’ch cyfrinair yn unig, "
            "a bydd eich codau adfer yn stopio gweithio.") in page
