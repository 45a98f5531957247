"""Small builders for test data. Every test makes what it needs, so tests never depend on each other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain import identifiers
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
)
from portal.domain.services import BY_KEY
from portal.settings import Settings

PASSWORD = "correct horse battery staple"
_serial = iter(range(1, 10_000_000))


def user(db: Session, settings: Settings, email: str, name: str = "Test Person") -> User:
    person = User(email=email, name=name, password_hash=hash_password(settings, PASSWORD))
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


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
