"""Issue 12: an unconfirmed address cannot become a firm's contact. Registration and the contact page send a
single-use, expiring link to the new address; only following it changes the contact."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain import firms
from portal.domain.account_models import EmailToken
from portal.domain.models import AuditEvent, Firm, Membership, User, utcnow
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

ANSWERS = {"firm_name": "Quay Street Tax LLP", "address_line1": "2 Quay Street", "address_line2": "",
           "town": "Bristol", "postcode": "BS1 4DJ", "amls_body": "HM Revenue and Customs (HMRC)",
           "amls_number": "XAML00000123456"}


def _register(client: TestClient, contact: str) -> None:
    """Answers every registration page (a signed-in, confirmed person with no firm) and creates the account."""
    for slug, fields in (("firm-name", ("firm_name",)), ("contact-email", ("contact_email",)),
                         ("address", ("address_line1", "address_line2", "town", "postcode")),
                         ("supervision", ("amls_body", "amls_number"))):
        page = client.get(f"/register/{slug}")
        data = {name: ({**ANSWERS, "contact_email": contact})[name] for name in fields}
        assert client.post(f"/register/{slug}", data={**data, "csrf_token": csrf_from(page.text)}).status_code == 303
    page = client.get("/register/check-your-answers")
    done = client.post("/register/check-your-answers", data={"csrf_token": csrf_from(page.text)})
    # A new member of an agent firm sets up 2-step verification before anything else (tests/test_joining_a_firm.py).
    assert done.headers["location"] == "/sign-in/set-up-2-step?next=%2Fregister%2Fcomplete"
    assert factories.set_up_authenticator_app(client, done.headers["location"])[0].status_code in (200, 303)


def _firm_of(engine: Engine, email: str) -> Firm:
    with Session(engine) as db:
        return db.execute(select(Firm).join(Membership, Membership.firm_id == Firm.id)
                          .join(User, User.id == Membership.user_id).where(User.email == email)).scalar_one()


def test_registering_with_another_address_keeps_your_own_until_the_emailed_link_is_followed(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "jane@example.com")  # confirmed, in no firm
    _register(client, "Practice@Example.com")
    assert _firm_of(engine, "jane@example.com").email == "jane@example.com"  # not the unproved address
    complete = client.get("/register/complete")
    assert "We have emailed a link to practice@example.com" in complete.text
    email = factories.last_email_to(client, "practice@example.com")
    assert email.subject == "Confirm your firm’s contact email address"
    assert "Jane Whitfield asked for this address" in email.text and "within 24 hours" in email.text
    path = factories.EMAILED_LINK.findall(email.text)[0]
    assert client.get(path).status_code == 200
    assert _firm_of(engine, "jane@example.com").email == "jane@example.com"  # opening the link changes nothing
    with TestClient(client.app, follow_redirects=False) as anyone:  # whoever reads the mailbox: no sign-in
        page = anyone.get(path)
        confirmed = anyone.post(path, data={"csrf_token": csrf_from(page.text)})
        assert confirmed.status_code == 200 and "Contact email address confirmed" in confirmed.text
        assert anyone.post(path, data={"csrf_token": csrf_from(page.text)}).status_code == 404  # single use
    assert _firm_of(engine, "jane@example.com").email == "practice@example.com"
    with engine.connect() as connection:
        actions = connection.execute(select(AuditEvent.action).where(AuditEvent.actor_user_id == world.client_user.id)
                                     ).scalars().all()
    assert "firm_contact_change_requested" in actions and "firm_contact_changed" in actions


def test_your_own_confirmed_address_becomes_the_contact_at_once(client: TestClient, world: World,
                                                                engine: Engine) -> None:
    sign_in(client, "jane@example.com")
    _register(client, "jane@example.com")
    assert _firm_of(engine, "jane@example.com").email == "jane@example.com"
    assert not any("contact email" in e.subject for e in factories.emails_to(client, "jane@example.com"))


def test_an_administrator_changes_the_contact_only_through_the_link(client: TestClient, world: World,
                                                                     engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    before = _firm_of(engine, "agent@example.com").email
    # Found from the firm's own Manage account page, which shows the address in use.
    manage = client.get("/manage-account").text
    assert before in manage and 'href="/manage-account/contact-email"' in manage
    page = client.get("/manage-account/contact-email")
    assert page.status_code == 200 and before in page.text
    empty = client.post("/manage-account/contact-email", data={"contact_email": "", "csrf_token": csrf_from(page.text)})
    assert "Error:" in empty.text and "Enter your firm&#39;s contact email address" in empty.text
    same = client.post("/manage-account/contact-email", data={"contact_email": before,
                                                              "csrf_token": csrf_from(page.text)})
    assert "This is already your firm’s contact email address" in same.text
    sent = client.post("/manage-account/contact-email", data={"contact_email": "first@example.com",
                                                              "csrf_token": csrf_from(page.text)})
    assert "Check your email" in sent.text and f"we keep using {before}" in sent.text
    first_link = factories.EMAILED_LINK.findall(factories.last_email_to(client, "first@example.com").text)[0]
    client.post("/manage-account/contact-email", data={"contact_email": "second@example.com",
                                                       "csrf_token": csrf_from(page.text)})
    assert "We have emailed a link to second@example.com" in client.get("/manage-account/contact-email").text
    assert client.get(first_link).status_code == 404  # the newer request replaced it
    assert _firm_of(engine, "agent@example.com").email == before
    assert factories.follow_emailed_link(client, "second@example.com").status_code == 200
    assert _firm_of(engine, "agent@example.com").email == "second@example.com"
    # Their own confirmed address needs no link.
    page = client.get("/manage-account/contact-email")
    own = client.post("/manage-account/contact-email", data={"contact_email": "Agent@Example.com",
                                                             "csrf_token": csrf_from(page.text)})
    assert own.headers["location"] == "/manage-account/contact-email?changed=yes"
    assert _firm_of(engine, "agent@example.com").email == "agent@example.com"


def test_the_link_expires_and_stops_if_the_administrator_who_asked_no_longer_is_one(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/manage-account/contact-email")
    client.post("/manage-account/contact-email", data={"contact_email": "late@example.com",
                                                       "csrf_token": csrf_from(page.text)})
    path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "late@example.com").text)[0]
    with engine.begin() as connection:
        connection.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(path).status_code == 404
    client.post("/manage-account/contact-email", data={"contact_email": "demoted@example.com",
                                                       "csrf_token": csrf_from(page.text)})
    with engine.begin() as connection:
        connection.execute(update(Membership).where(Membership.user_id == world.agent.id).values(role="standard"))
    page = client.get(factories.EMAILED_LINK.findall(factories.last_email_to(client, "demoted@example.com").text)[0])
    assert page.status_code == 200
    path = factories.EMAILED_LINK.findall(factories.last_email_to(client, "demoted@example.com").text)[0]
    with TestClient(client.app, follow_redirects=False) as anyone:
        refused = anyone.post(path, data={"csrf_token": csrf_from(anyone.get(path).text)})
    assert refused.status_code == 404
    assert _firm_of(engine, "agent@example.com").email not in ("late@example.com", "demoted@example.com")


def test_only_administrators_see_the_contact_page(client: TestClient, world: World) -> None:
    sign_in(client, "staff@example.com")
    assert client.get("/manage-account/contact-email").status_code == 404


def test_the_domain_refuses_an_unproved_address(engine: Engine, world: World, settings: Settings) -> None:
    with Session(engine) as db:
        firm = db.get(Firm, world.firm.id)
        assert firm is not None
        try:
            firms.change_contact(db, firm=firm, user_id=world.agent.id, email="someone-else@example.com")
        except ValueError:
            pass
        else:
            raise AssertionError("an unproved address became the contact")


def test_the_email_and_pages_are_in_welsh(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    client.cookies.set("language", "cy")
    page = client.get("/manage-account/contact-email")
    assert '<html lang="cy"' in page.text and "Cyfeiriad e-bost cyswllt eich cwmni" in page.text
    empty = client.post("/manage-account/contact-email", data={"contact_email": "",
                                                               "csrf_token": csrf_from(page.text)})
    assert "Gwall:" in empty.text
    client.post("/manage-account/contact-email", data={"contact_email": "cyswllt@example.com",
                                                       "csrf_token": csrf_from(page.text)})
    email = factories.last_email_to(client, "cyswllt@example.com")
    assert email.subject == "Cadarnhewch gyfeiriad e-bost cyswllt eich cwmni"
    path = factories.EMAILED_LINK.findall(email.text)[0]
    assert "Cadarnhewch gyfeiriad e-bost cyswllt eich cwmni" in client.get(path).text
