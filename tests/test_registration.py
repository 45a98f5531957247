from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import identifiers
from portal.domain.firms import LINK_UID_ALPHABET
from portal.domain.models import AuditEvent, Firm, Membership, Taxpayer, User
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import csrf_from, follow_emailed_link, last_email_to, sign_in

NEW_PASSWORD = "a long enough password"
HMRC = "HM Revenue and Customs (HMRC)"
ANSWERS = {
    "firm-name": {"firm_name": "Riverside Tax Ltd"},
    "contact-email": {"contact_email": "office@riverside.example"},
    "address": {"address_line1": "1 River Street", "address_line2": "", "town": "Leeds", "postcode": "ls14dy"},
    "supervision": {"amls_body": HMRC, "amls_number": "xaml00000123456"},
}


def _post(client: TestClient, url: str, data: dict[str, str], page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def _sign_up(client: TestClient, email: str = "new@example.com", *, name: str = "Nina Patel",
             password: str = NEW_PASSWORD, confirm: str | None = None, next_url: str = ""):  # type: ignore[no-untyped-def]
    """Signs up and, when the form is accepted, follows the link emailed to confirm the address (issue 12):
    returns the form's answer if it was refused, else the confirmation's."""
    url = "/sign-up" + (f"?next={next_url}" if next_url else "")
    response = _post(client, url, {"name": name, "email": email, "password": password,
                                   "confirm_password": password if confirm is None else confirm})
    if response.status_code == 200 and "Check your email" in response.text:
        return follow_emailed_link(client, email.strip().lower())
    return response


def _answer_everything(client: TestClient) -> None:
    for slug, data in ANSWERS.items():
        response = _post(client, f"/register/{slug}", data)
        assert response.status_code == 303, response.text


def _register(client: TestClient):  # type: ignore[no-untyped-def]
    """Registers the firm and, as a new member of it must, sets up 2-step verification; returns the answer."""
    _answer_everything(client)
    response = _post(client, "/register/check-your-answers", {})
    if response.headers.get("location", "").startswith("/sign-in/set-up-2-step"):
        factories.set_up_authenticator_app(client, response.headers["location"])
    return response


def _actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(AuditEvent.action)).scalars())


def _error_summary(html: str) -> list[str]:
    return re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', html)


# --- signing up ----------------------------------------------------------------------------------------------------


def test_signing_up_creates_the_account_and_signs_the_person_in(client: TestClient, engine: Engine) -> None:
    response = _sign_up(client, "Nina@Example.com")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200 and "nina@example.com" in account.text and "Nina Patel" in account.text
    assert "signed_up" in _actions(engine)
    with engine.connect() as connection:
        stored = connection.execute(select(User.password_hash)).scalar_one()
    assert NEW_PASSWORD not in stored


def test_the_new_sign_in_details_work_after_signing_out(client: TestClient) -> None:
    _sign_up(client)
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
    sign_in(client, "new@example.com", NEW_PASSWORD)
    assert client.get("/account").status_code == 200


def test_signing_up_returns_to_a_page_on_this_site_only(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    assert _sign_up(client, next_url="/register/firm-name").headers["location"] == "/register/firm-name"
    with TestClient(app, follow_redirects=False) as other:
        assert _sign_up(other, "two@example.com", next_url="//evil.example").headers["location"] == "/account"


def test_the_password_hint_says_how_long_it_must_be(client: TestClient) -> None:
    assert "at least 12 characters" in client.get("/sign-up").text


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "Enter your full name"),
    ({"name": "n" * 121}, "Full name must be 120 characters or fewer"),
    ({"email": ""}, "Enter your email address"),
    ({"email": "not-an-email"}, "Enter an email address in the correct format, like name@example.com"),
    ({"email": "a@b"}, "Enter an email address in the correct format, like name@example.com"),
    ({"email": "x" * 250 + "@example.com"}, "Email address must be 254 characters or fewer"),
    ({"password": ""}, "Enter a password"),
    ({"password": "short pass1"}, "Password must be 12 characters or more"),
    ({"confirm": ""}, "Enter your password again"),
    ({"confirm": "a different password"}, "The passwords do not match"),
])
def test_sign_up_errors_are_shown_and_nothing_is_created(
    client: TestClient, engine: Engine, fields: dict[str, str], message: str
) -> None:
    response = _sign_up(client, **fields)
    assert response.status_code == 200 and "<title>Error: Create your sign-in details" in response.text
    assert message in _error_summary(response.text)
    assert NEW_PASSWORD not in response.text  # a password is never echoed back
    with engine.connect() as connection:
        assert connection.execute(select(User.id)).first() is None


def test_an_email_that_already_has_an_account_gets_the_same_page_and_its_owner_an_email(
    client: TestClient, db: Session, settings: Settings, engine: Engine
) -> None:
    """Issue 12 (was: refused with "An account with this email address already exists"): the page says nothing
    about whether the address has an account; its owner is emailed a way to sign in or reset their password."""
    factories.user(db, settings, "taken@example.com")
    db.commit()
    token = csrf_from(client.get("/sign-up").text)
    data = {"name": "Someone", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "csrf_token": token}
    taken = client.post("/sign-up?next=/register/firm-name", data={**data, "email": "TAKEN@example.com"})
    fresh = client.post("/sign-up?next=/register/firm-name", data={**data, "email": "fresh@example.com"})
    assert taken.status_code == fresh.status_code == 200
    assert taken.text.replace("taken@example.com", "X") == fresh.text.replace("fresh@example.com", "X")
    assert "already" not in taken.text
    owner_email = last_email_to(client, "taken@example.com")
    assert "Someone tried to create sign-in details" in owner_email.subject and "/password-reset" in owner_email.text
    assert "/sign-up/confirm/" in last_email_to(client, "fresh@example.com").text
    with engine.connect() as connection:  # nothing is made until the new address is confirmed
        assert connection.execute(select(User.email)).scalars().all() == ["taken@example.com"]


# --- linking your own tax account ----------------------------------------------------------------------------------


def _unlinked_taxpayer(engine: Engine, name: str = "Amir Khan", **references: str) -> int:
    with unit_of_work(engine) as db:
        return factories.taxpayer(db, name, **references).id  # postcode LS1 4DY


def _link(client: TestClient, kind: str, reference: str, postcode: str = "ls1 4dy"):  # type: ignore[no-untyped-def]
    return _post(client, "/account/link-tax-account", {"kind": kind, "reference": reference, "postcode": postcode})


def test_a_person_links_their_tax_account_with_a_reference_and_postcode(client: TestClient, engine: Engine) -> None:
    taxpayer_id = _unlinked_taxpayer(engine, nino="AA123456A")
    _sign_up(client)
    response = _link(client, "nino", "aa 12 34 56")  # without the suffix letter
    assert response.status_code == 303
    assert response.headers["location"] == f"/account/link-tax-account/linked/{taxpayer_id}"
    confirmation = client.get(response.headers["location"])
    assert "Tax account linked" in confirmation.text and "Amir Khan" in confirmation.text
    assert "Amir Khan" in client.get("/account").text
    assert client.get(f"/clients/{taxpayer_id}").status_code == 200
    assert "tax_account_linked" in _actions(engine)


def test_linking_by_utr_and_by_vat_number_works_too(client: TestClient, engine: Engine) -> None:
    utr = identifiers.make_utr(987654321)
    first = _unlinked_taxpayer(engine, "Sole Trader", utr=utr)
    second = _unlinked_taxpayer(engine, "Shop Owner", vrn="101747696")
    _sign_up(client)
    assert _link(client, "utr", utr).headers["location"].endswith(f"/{first}")
    assert _link(client, "vrn", "101 747 696").headers["location"].endswith(f"/{second}")


@pytest.mark.parametrize(("kind", "reference", "postcode", "field", "message"), [
    ("", "AA123456A", "LS1 4DY", "kind", "Select which tax reference you want to use"),
    ("nino", "", "LS1 4DY", "reference", "Enter your National Insurance number"),
    ("nino", "123", "LS1 4DY", "reference", identifiers.NINO_FORMAT_MESSAGE),
    ("utr", "1234", "LS1 4DY", "reference", "Enter a Unique Taxpayer Reference in the correct format"),
    ("nino", "AA123456A", "", "postcode", "Enter your postcode"),
    ("nino", "AA123456A", "NOT A CODE", "postcode", "Enter a real postcode"),
])
def test_link_tax_account_form_errors(client: TestClient, kind: str, reference: str, postcode: str,
                                      field: str, message: str) -> None:
    _sign_up(client)
    response = _link(client, kind, reference, postcode)
    assert response.status_code == 200 and f'<a href="#{field}">{message}</a>' in response.text


def test_a_wrong_postcode_unknown_reference_or_claimed_account_all_get_one_message(
    client: TestClient, engine: Engine, db: Session, settings: Settings
) -> None:
    _unlinked_taxpayer(engine, nino="AA123456A")
    owner = factories.user(db, settings, "owner@example.com")
    factories.taxpayer(db, "Claimed Person", owner=owner, nino="AB123456C")
    db.commit()
    _sign_up(client)
    for kind, reference, postcode in (("nino", "AA123456A", "SW1A 1AA"), ("nino", "CE111111A", "LS1 4DY"),
                                      ("nino", "AB123456C", "LS1 4DY")):
        response = _link(client, kind, reference, postcode)
        assert response.status_code == 200
        assert _error_summary(response.text) == ["We could not find a tax account with those details"]
    with engine.connect() as connection:
        owners = dict(connection.execute(select(Taxpayer.name, Taxpayer.owner_user_id)).all())
    assert owners["Amir Khan"] is None and owners["Claimed Person"] == owner.id


def test_five_failed_links_stop_further_tries_even_on_another_worker(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _unlinked_taxpayer(engine, nino="AA123456A")
    _sign_up(client)
    for _ in range(5):
        assert _link(client, "nino", "AA123456A", "SW1A 1AA").status_code == 200
    cookies = dict(client.cookies)
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False,
                    cookies=cookies) as other_worker:
        page = other_worker.get("/account/link-tax-account")
        assert page.status_code == 429 and "Wait 15 minutes" in page.text
        # The right details are refused too while the limit holds.
        refused = other_worker.post("/account/link-tax-account", data={
            "kind": "nino", "reference": "AA123456A", "postcode": "LS1 4DY",
            "csrf_token": csrf_from(other_worker.get("/account").text)})
    assert refused.status_code == 429
    with engine.connect() as connection:
        assert connection.execute(select(Taxpayer.owner_user_id)).scalar_one() is None


def test_the_linked_confirmation_is_only_for_the_owner(client: TestClient, engine: Engine, db: Session,
                                                       settings: Settings) -> None:
    owner = factories.user(db, settings, "owner@example.com")
    taxpayer = factories.taxpayer(db, "Someone Else", owner=owner, nino="AB123456C")
    db.commit()
    _sign_up(client)
    assert client.get(f"/account/link-tax-account/linked/{taxpayer.id}").status_code == 404
    assert client.get("/account/link-tax-account/linked/99999999999").status_code == 404


# --- registering an agent services account -------------------------------------------------------------------------


def test_a_signed_out_person_is_offered_sign_up_before_registering(client: TestClient) -> None:
    page = client.get("/register")
    assert page.status_code == 200 and "Create an agent services account" in page.text
    assert 'href="/sign-up?next=%2Fregister%2Ffirm-name"' in page.text
    assert client.get("/register/firm-name").headers["location"].startswith("/sign-in")


def test_the_whole_registration_creates_a_firm_with_a_valid_arn_and_an_administrator(
    client: TestClient, engine: Engine
) -> None:
    _sign_up(client, next_url="/register/firm-name")
    _answer_everything(client)
    check = client.get("/register/check-your-answers")
    assert check.status_code == 200
    for text in ("Riverside Tax Ltd", "office@riverside.example", "LS1 4DY", HMRC, "XAML00000123456",
                 'Change<span class="govuk-visually-hidden"> firm name</span>'):
        assert text in check.text
    response = _post(client, "/register/check-your-answers", {})
    # A new member of an agent firm sets up 2-step verification first (tests/test_joining_a_firm.py).
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in/set-up-2-step?next=%2Fregister%2Fcomplete"
    factories.set_up_authenticator_app(client, response.headers["location"])
    with engine.connect() as connection:
        firm = connection.execute(select(Firm)).one()
        membership = connection.execute(select(Membership)).one()
    assert identifiers.is_valid(identifiers.IdentifierKind.ARN, firm.arn)
    assert len(firm.link_uid) == 8 and set(firm.link_uid) <= set(LINK_UID_ALPHABET)
    # The typed contact address is not proved yet: the firm uses the administrator's own until its link is followed
    # (tests/test_firm_contact.py follows it).
    assert (firm.name, firm.email, firm.postcode, firm.amls_number) == (
        "Riverside Tax Ltd", "new@example.com", "LS1 4DY", "XAML00000123456")
    assert "Confirm your firm’s contact email address" == last_email_to(client, "office@riverside.example").subject
    assert membership.role == "admin" and membership.firm_id == firm.id
    complete = client.get("/register/complete")
    assert "Agent services account created" in complete.text and firm.arn in complete.text
    assert 'href="/authorisation-requests/new/client-type"' in complete.text
    assert client.get("/clients").status_code == 200
    assert "Administrator" in client.get("/account").text
    assert "agent_services_account_created" in _actions(engine)


def test_the_answers_are_forgotten_once_the_account_is_created(client: TestClient) -> None:
    _sign_up(client)
    _register(client)
    assert client.get("/register/check-your-answers").headers["location"] == "/register"


def test_a_second_registration_by_the_same_person_is_refused(client: TestClient, engine: Engine) -> None:
    _sign_up(client)
    _register(client)
    start = client.get("/register")
    assert "You already have an agent services account" in start.text
    assert client.get("/register/firm-name").headers["location"] == "/register"
    with engine.connect() as connection:
        assert len(connection.execute(select(Firm.id)).all()) == 1


def test_an_existing_agent_is_told_they_already_have_an_account(client: TestClient, world) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    page = client.get("/register")
    assert "You already have an agent services account" in page.text and "Harbour Tax" in page.text


def test_a_double_submitted_create_makes_one_firm(client: TestClient, engine: Engine) -> None:
    _sign_up(client)
    _answer_everything(client)
    token = csrf_from(client.get("/register/check-your-answers").text)
    first = client.post("/register/check-your-answers", data={"csrf_token": token})
    second = client.post("/register/check-your-answers", data={"csrf_token": token})
    assert first.status_code == 303 and second.status_code in (303, 403)
    factories.set_up_authenticator_app(client, first.headers["location"])  # a new member's 2-step, first
    third = client.post("/register/check-your-answers", data={"csrf_token": csrf_from(client.get("/account").text)})
    assert third.status_code == 303 and third.headers["location"] == "/register"
    with engine.connect() as connection:
        assert len(connection.execute(select(Firm.id)).all()) == 1


def test_a_new_arn_never_reuses_one_that_is_taken(client: TestClient, engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        taken = factories.firm(db, "Existing Firm")
    serials = iter([int(taken.arn[4:]), 1234567])
    monkeypatch.setattr("portal.domain.firms.secrets.randbelow", lambda _n: next(serials))
    _sign_up(client)
    _register(client)
    with engine.connect() as connection:
        arns = set(connection.execute(select(Firm.arn)).scalars())
    assert arns == {taken.arn, identifiers.make_arn(1234567)}


@pytest.mark.parametrize(("slug", "data", "field", "message"), [
    ("firm-name", {"firm_name": ""}, "firm_name", "Enter your firm's name"),
    ("firm-name", {"firm_name": "f" * 161}, "firm_name", "Your firm's name must be 160 characters or fewer"),
    ("contact-email", {"contact_email": ""}, "contact_email", "Enter your firm's contact email address"),
    ("contact-email", {"contact_email": "office"}, "contact_email",
     "Enter an email address in the correct format, like name@example.com"),
    ("address", {"address_line1": "", "town": "Leeds", "postcode": "LS1 4DY"}, "address_line1",
     "Enter address line 1, typically the building and street"),
    ("address", {"address_line1": "a" * 101, "town": "Leeds", "postcode": "LS1 4DY"}, "address_line1",
     "Address line 1 must be 100 characters or fewer"),
    ("address", {"address_line1": "1 Street", "address_line2": "b" * 101, "town": "Leeds", "postcode": "LS1 4DY"},
     "address_line2", "Address line 2 must be 100 characters or fewer"),
    ("address", {"address_line1": "1 Street", "town": "", "postcode": "LS1 4DY"}, "town", "Enter town or city"),
    ("address", {"address_line1": "1 Street", "town": "t" * 61, "postcode": "LS1 4DY"}, "town",
     "Town or city must be 60 characters or fewer"),
    ("address", {"address_line1": "1 Street", "town": "Leeds", "postcode": ""}, "postcode", "Enter postcode"),
    ("address", {"address_line1": "1 Street", "town": "Leeds", "postcode": "12345"}, "postcode",
     "Enter a real postcode"),
    ("supervision", {"amls_body": "", "amls_number": "ABC"}, "amls_body",
     "Select your anti-money laundering supervisory body"),
    ("supervision", {"amls_body": "Made-up Institute", "amls_number": "ABC"}, "amls_body",
     "Select your anti-money laundering supervisory body"),
    ("supervision", {"amls_body": HMRC, "amls_number": ""}, "amls_number",
     "Enter your anti-money laundering supervision registration number"),
    ("supervision", {"amls_body": HMRC, "amls_number": "12345"}, "amls_number",
     "Enter your HMRC anti-money laundering supervision registration number in the correct format, "
     "like XAML00000123456"),
    ("supervision", {"amls_body": "Chartered Institute of Taxation (CIOT)", "amls_number": "n" * 41}, "amls_number",
     "Registration number must be 40 characters or fewer"),
])
def test_each_registration_question_shows_its_errors(
    client: TestClient, slug: str, data: dict[str, str], field: str, message: str
) -> None:
    _sign_up(client)
    response = _post(client, f"/register/{slug}", data)
    assert response.status_code == 200 and "<title>Error: " in response.text
    assert f'<a href="#{field}">{message}</a>' in html.unescape(response.text)
    assert f'id="{field}-error"' in response.text


def test_another_body_accepts_its_own_registration_number_format(client: TestClient) -> None:
    _sign_up(client)
    response = _post(client, "/register/supervision",
                     {"amls_body": "Association of Chartered Certified Accountants (ACCA)", "amls_number": "1234567"})
    assert response.status_code == 303


def test_the_supervisory_bodies_are_listed_once_each(client: TestClient) -> None:
    _sign_up(client)
    options = re.findall(r'<option value="([^"]*)"', client.get("/register/supervision").text)
    assert len(options) == len(set(options)) and HMRC in options
    assert "Institute of Chartered Accountants in England and Wales (ICAEW)" in options


def test_skipping_ahead_sends_the_person_to_the_first_unanswered_question(client: TestClient) -> None:
    _sign_up(client)
    _post(client, "/register/firm-name", ANSWERS["firm-name"])
    assert client.get("/register/check-your-answers").headers["location"] == "/register/contact-email"


def test_changing_an_answer_returns_to_check_your_answers(client: TestClient) -> None:
    _sign_up(client)
    _answer_everything(client)
    page = client.get("/register/firm-name")
    assert 'value="Riverside Tax Ltd"' in page.text
    response = _post(client, "/register/firm-name", {"firm_name": "Riverside Accountants"})
    assert response.headers["location"] == "/register/check-your-answers"
    assert "Riverside Accountants" in client.get("/register/check-your-answers").text


def test_an_unknown_question_is_not_found(client: TestClient) -> None:
    _sign_up(client)
    assert client.get("/register/favourite-colour").status_code == 404


def test_the_new_administrator_can_sign_in_again_and_land_on_their_clients(client: TestClient) -> None:
    _sign_up(client)
    _answer_everything(client)
    created = _post(client, "/register/check-your-answers", {})
    _done, secret = factories.set_up_authenticator_app(client, created.headers["location"])
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
    sign_in(client, "new@example.com", NEW_PASSWORD, secret)
    assert client.get("/").headers["location"] == "/clients"


def test_someone_already_signed_in_is_not_offered_a_second_set_of_sign_in_details(client: TestClient) -> None:
    _sign_up(client)
    assert client.get("/sign-up?next=/register").headers["location"] == "/register"
