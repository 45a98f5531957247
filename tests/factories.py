"""Small builders for test data. Every test makes what it needs, so tests never depend on each other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
from sqlalchemy import select, update
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal.domain import group_sets, identifiers, two_step
from portal.domain.account_models import SecondFactor
from portal.domain.accounts import hash_password
from portal.domain.models import (
    Authorisation,
    Firm,
    FirmClient,
    Membership,
    Obligation,
    Taxpayer,
    TaxpayerIdentifier,
    User,
    utcnow,
)
from portal.domain.outbox_models import OutboxEmail
from portal.domain.services import BY_KEY
from portal.domain.team_models import AccessGroup, AccessGroupClient
from portal.mail.render import Rendered
from portal.mail.render import render as render_email
from portal.settings import Settings

PASSWORD = "correct horse battery staple"
# Every firm member the factories make has an authenticator app with this secret (2-step verification is
# mandatory for agents); tests compute its codes with pyotp, as the person's app would.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_serial = iter(range(1, 10_000_000))


def user(db: Session, settings: Settings, email: str, name: str = "Test Person") -> User:
    person = User(email=email, name=name, password_hash=hash_password(settings, PASSWORD),
                  email_confirmed_at=utcnow())
    db.add(person)
    db.flush()
    return person


def firm(db: Session, name: str) -> Firm:
    n = next(_serial)
    record = Firm(arn=identifiers.make_arn(100_000 + n), name=name, email=f"firm{n}@example.com",
                  link_uid=f"TEST{n:04d}")
    db.add(record)
    db.flush()
    return record


def member(db: Session, settings: Settings, of: Firm, email: str, role: str = "admin") -> User:
    person = user(db, settings, email)
    db.add(Membership(firm_id=of.id, user_id=person.id, role=role))
    two_step.enrol_totp(db, settings, person.id, TOTP_SECRET)
    db.flush()
    return person


def taxpayer(db: Session, name: str, client_type: str = "personal", owner: User | None = None,
             **references: str) -> Taxpayer:
    record = Taxpayer(client_type=client_type, name=name, postcode="LS1 4DY",
                      owner_user_id=owner.id if owner else None)
    db.add(record)
    db.flush()
    for kind, value in references.items():
        db.add(TaxpayerIdentifier(taxpayer_id=record.id, kind=kind, value=value))
    db.flush()
    return record


def authorise(db: Session, agent_firm: Firm, client: Taxpayer, *service_keys: str) -> None:
    for key in service_keys:
        db.add(Authorisation(firm_id=agent_firm.id, taxpayer_id=client.id, service=key, regime=BY_KEY[key].regime))
    if db.get(FirmClient, (agent_firm.id, client.id)) is None:
        db.add(FirmClient(firm_id=agent_firm.id, taxpayer_id=client.id, sort_name=client.name.lower()))
    db.flush()
    group_sets.refresh(db, agent_firm.id, [client.id])  # as handshake.accept_request does


def obligation(db: Session, client: Taxpayer, regime: str, due: date, *, kind: str = "Return",
               fulfilled: date | None = None) -> Obligation:
    record = Obligation(taxpayer_id=client.id, regime=regime, kind=kind, period_key=f"{regime}{due:%y%m%d}",
                        period_start=due - timedelta(days=120), period_end=due - timedelta(days=30),
                        due_date=due, fulfilled_on=fulfilled)
    db.add(record)
    db.flush()
    return record


@dataclass
class World:
    firm: Firm
    other_firm: Firm
    agent: User
    staff: User
    other_agent: User
    vat_client: Taxpayer  # the firm acts for VAT only
    itsa_client: Taxpayer  # the firm is the main Income Tax agent
    other_client: Taxpayer  # only the other firm acts for this one
    client_user: User  # signs in as itsa_client's own account


def build_world(db: Session, settings: Settings) -> World:
    harbour, northgate = firm(db, "Harbour Tax"), firm(db, "Northgate Accountancy")
    agent = member(db, settings, harbour, "agent@example.com")
    staff = member(db, settings, harbour, "staff@example.com", role="standard")
    other_agent = member(db, settings, northgate, "other@example.com")
    client_user = user(db, settings, "jane@example.com", "Jane Whitfield")
    vat_client = taxpayer(db, "Granite Bakery Ltd", "business", vrn="101747696", utr=identifiers.make_utr(123456789))
    itsa_client = taxpayer(db, "Jane Whitfield", owner=client_user, nino="AB123456C", vrn="101747641")
    other_client = taxpayer(db, "Oscar Pennine", nino="CE654321A")
    authorise(db, harbour, vat_client, "HMRC-MTD-VAT")
    authorise(db, harbour, itsa_client, "HMRC-MTD-IT")
    authorise(db, northgate, other_client, "HMRC-MTD-IT")
    today = date.today()
    obligation(db, itsa_client, "ITSA", today + timedelta(days=20), kind="Quarterly update")
    obligation(db, itsa_client, "VAT", today + timedelta(days=5), kind="VAT return")  # the firm may not see this
    obligation(db, vat_client, "VAT", today - timedelta(days=3), kind="VAT return")
    return World(harbour, northgate, agent, staff, other_agent, vat_client, itsa_client, other_client, client_user)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(page_html: str) -> str:
    match = CSRF_FIELD.search(page_html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def totp_code(secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def allow_code_again(client: TestClient) -> None:
    """A code is accepted once per 30-second step (no replay); tests sign the same person in many times within
    one step, which a person cannot, so they let the current step be used again."""
    with client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(update(SecondFactor).values(counter=0))


SECRET_KEY_SHOWN = re.compile(r"data-secret-key>([A-Z2-7 ]+)<")


def set_up_authenticator_app(client: TestClient, url: str):  # type: ignore[no-untyped-def]
    """Sets up an authenticator app from the page at `url`, as a person would with the secret it shows."""
    page = client.get(url)
    match = SECRET_KEY_SHOWN.search(page.text)
    assert match, "the page shows no secret key"
    secret = match.group(1).replace(" ", "")
    return client.post(url, data={"code": totp_code(secret), "csrf_token": csrf_from(page.text)}), secret


def second_step(client: TestClient, response, secret: str = TOTP_SECRET):  # type: ignore[no-untyped-def]
    """Completes the second step if the sign-in asked for it (or sets one up, for a firm member without one);
    returns the last response."""
    if response.status_code == 303 and response.headers["location"].startswith("/sign-in/set-up-2-step"):
        response, _secret = set_up_authenticator_app(client, response.headers["location"])
        assert "Save your recovery codes" in response.text
        return response
    if response.status_code == 303 and response.headers["location"].startswith("/sign-in/second-step"):
        page = client.get(response.headers["location"])
        allow_code_again(client)
        response = client.post(response.headers["location"],
                               data={"code": totp_code(secret), "csrf_token": csrf_from(page.text)})
    return response


def sign_in(client: TestClient, email: str, password: str = PASSWORD, secret: str = TOTP_SECRET) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    response = second_step(client, response, secret)
    assert response.status_code == 303 or "Save your recovery codes" in response.text, response.text


EMAILED_LINK = re.compile(r"https?://[^/\s]+(/\S+)")


def emails_to(client: TestClient, address: str) -> list[Rendered]:
    """What the outbox holds for `address`, rendered as the email branch's sender renders it (portal.mail)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as db:
        rows = db.execute(select(OutboxEmail).where(col(OutboxEmail.to_address) == address)
                          .order_by(col(OutboxEmail.id))).scalars().all()
        return [render_email(row.kind, row.language, row.context, base_url="http://testserver") for row in rows]


def last_email_to(client: TestClient, address: str) -> Rendered:
    sent = emails_to(client, address)
    assert sent, f"nothing was emailed to {address}"
    return sent[-1]


def follow_emailed_link(client: TestClient, address: str, **fields: str):  # type: ignore[no-untyped-def]
    """Opens the first link in the last email to `address` and presses the page's button (with `fields`)."""
    path = EMAILED_LINK.findall(last_email_to(client, address).text)[0]
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={**fields, "csrf_token": csrf_from(page.text)})


def in_group(db: Session, group: AccessGroup, client: Taxpayer) -> None:
    """A custom group's row, and the client's kept set of groups worked out again from the tables (firm_access
    does the same for the clients it adds, set by set)."""
    db.add(AccessGroupClient(group_id=group.id, taxpayer_id=client.id))
    db.flush()
    group_sets.refresh(db, group.firm_id, [client.id])
