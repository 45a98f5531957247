"""Demo data a reviewer can believe: a firm with a few hundred clients, valid identifiers and obligations
with due dates around today. Deterministic for a given day, so two runs on one day give the same data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlmodel import Session, col

from portal.devdata.calendar import at
from portal.devdata.records import Submitter, TaxRecords
from portal.domain import firm_access, group_sets, identifiers, two_step
from portal.domain.accounts import hash_password
from portal.domain.models import (
    Authorisation,
    AuthorisationRequest,
    Firm,
    FirmClient,
    HelperLink,
    Membership,
    Taxpayer,
    TaxpayerIdentifier,
    User,
    utcnow,
)
from portal.domain.services import BY_KEY, ClientType
from portal.settings import Settings

DEMO_PASSWORD = "demo-password-2026"
# The demo agents' authenticator app secret (2-step verification is mandatory for agents): fixed and printed by
# `./scripts/run`, so a newcomer can add it to any authenticator app, or read the current code off the console.
# A demo secret only: anyone who reads this file can sign in as the demo agents.
DEMO_TOTP_SECRET = "AGENTDEMOAGENTDEMOAGENTDEMOAGENT"

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy Sienna Poppy Elsie "
    "Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda Priya Aisha Fatima Zara Noor Mei Chloe "
    "Noah Muhammad George Oliver Leo Arthur Oscar Theodore Freddie Theo Archie Henry Alfie Charlie Finley Jack "
    "Jacob Lucas Thomas Isaac Arlo Tommy Teddy Rory Rohan Arjun Kwame Tomasz Dylan Owen Rhys Callum Euan Ciaran"
).split()
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore Clark "
    "King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips "
    "Richardson Mitchell Bailey Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Hussain Marshall "
    "Simpson Price Anderson Adams Wilkinson Ali Ahmed Foster Ellis Murphy Chapman Mason Gray Richards Webb Griffiths "
    "Hunt Palmer Campbell Holmes Mills Rogers Barnes Knight Matthews Barker Powell Stevens Kaur Dawson Lloyd Fraser"
).split()
BUSINESS_WORDS = (
    "Harbour Meadow Granite Kestrel Willow Beacon Northgate Riverside Oakfield Summit Lantern Heron Thistle Copper "
    "Juniper Bramble Ashford Falcon Orchard Millstone Larkspur Pennine Severn Cobalt Linden Fenwick Marlow Hawthorn"
).split()
BUSINESS_TRADES = (
    "Bakery Joinery Logistics Dental Care Engineering Plumbing Consulting Print Works Catering Landscapes Motors "
    "Software Interiors Electrical Builders Pharmacy Veterinary Packaging Coffee Roasters Opticians Cleaning"
).split()
BUSINESS_SUFFIXES = ("Ltd", "Ltd", "Ltd", "LLP", "& Sons Ltd", "Partnership", "Holdings Ltd")
TOWNS = (
    ("Leeds", "LS"), ("Manchester", "M"), ("Bristol", "BS"), ("Cardiff", "CF"), ("Belfast", "BT"),
    ("Norwich", "NR"), ("York", "YO"), ("Exeter", "EX"), ("Derby", "DE"), ("Swansea", "SA"), ("Leicester", "LE"),
    ("Newcastle upon Tyne", "NE"), ("Sheffield", "S"), ("Nottingham", "NG"), ("Brighton", "BN"), ("Oxford", "OX"),
)
STREETS = "High Street|Station Road|Church Lane|Victoria Road|Mill Lane|Park Avenue|Queens Road|The Crescent".split("|")


@dataclass(frozen=True)
class DemoAccounts:
    agent_email: str = "agent@example.com"
    staff_email: str = "staff@example.com"
    other_agent_email: str = "other-agent@example.com"
    client_email: str = "client@example.com"
    helper_email: str = "helper@example.com"
    business_email: str = "business@example.com"
    password: str = DEMO_PASSWORD
    totp_secret: str = DEMO_TOTP_SECRET


# Taxpayers with their own sign-in who are nobody's client yet, with the references and known facts an agent
# needs to ask them for authorisation (the README lists them). Fixed, so the README can quote them.
@dataclass(frozen=True)
class NewClient:
    email: str
    owner_name: str
    client_type: ClientType
    name: str
    postcode: str
    references: tuple[tuple[str, str, date | None], ...]  # (kind, value, registration date)
    date_of_birth: date | None = None


NEW_CLIENTS = (
    NewClient("business@example.com", "Rhys Morgan", ClientType.BUSINESS, "Meadow Print Works Ltd", "CF10 1EP",
              (("vrn", identifiers.make_vrn(424_242), date(2019, 4, 1)), ("utr", identifiers.make_utr(424_242_424),
                                                                          None))),
    NewClient("sole-trader@example.com", "Sam Okoro", ClientType.PERSONAL, "Sam Okoro", "M1 2AB",
              (("nino", "JX 12 34 56 D".replace(" ", ""), None), ("utr", identifiers.make_utr(515_151_515), None)),
              date_of_birth=date(1985, 3, 14)),
)


class Address(TypedDict):
    address_line1: str
    town: str
    postcode: str


class _Generator(TaxRecords):
    """People, firms and taxpayers with believable names, addresses and references; their tax records come from
    TaxRecords."""

    def __init__(self, db: Session, rng: random.Random, today: date) -> None:
        self.db, self.rng, self.today = db, rng, today
        self.serial = 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def address(self) -> Address:
        town, area = self.rng.choice(TOWNS)
        district = f"{area}{self.rng.randint(1, 19)}"
        letters = "ABDEFGHJLNPQRSTUWXYZ"  # the letters an inward code uses
        inward = f"{self.rng.randint(1, 9)}{self.rng.choice(letters)}{self.rng.choice(letters)}"
        return Address(address_line1=f"{self.rng.randint(1, 180)} {self.rng.choice(STREETS)}", town=town,
                       postcode=identifiers.normalise_postcode(district + inward))

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def business_name(self) -> str:
        words = self.rng.choice(BUSINESS_WORDS), self.rng.choice(BUSINESS_TRADES), self.rng.choice(BUSINESS_SUFFIXES)
        return " ".join(words)

    def trust_name(self) -> str:
        kind = self.rng.choice(("Family Trust", "Settlement", "Will Trust", "Discretionary Trust", "Estate"))
        return f"The {self.rng.choice(LAST_NAMES)} {kind}"

    def taxpayer(self, client_type: ClientType, name: str | None = None, owner: User | None = None) -> Taxpayer:
        name = name or {ClientType.PERSONAL: self.person_name, ClientType.BUSINESS: self.business_name,
                        ClientType.TRUST: self.trust_name}[client_type]()
        dob = date(self.rng.randint(1940, 2000), self.rng.randint(1, 12), self.rng.randint(1, 28))
        taxpayer = Taxpayer(
            client_type=client_type, name=name, date_of_birth=dob if client_type == ClientType.PERSONAL else None,
            email=f"{name.lower().replace(' ', '.').replace('&', 'and')}@example.com"[:254],
            owner_user_id=owner.id if owner else None, **self.address(),
        )
        self.db.add(taxpayer)
        self.db.flush()
        return taxpayer

    def identifier(self, taxpayer: Taxpayer, kind: identifiers.IdentifierKind, value: str, *,
                   registered_on: date | None = None, contact_email: str | None = None) -> None:
        self.db.add(TaxpayerIdentifier(taxpayer_id=taxpayer.id, kind=kind, value=value, registered_on=registered_on,
                                       contact_email=contact_email))

    def register(self, taxpayer: Taxpayer, regimes: set[str]) -> None:
        """Gives the taxpayer the references the regimes need, with their known facts."""
        n, K = self.next_serial(), identifiers.IdentifierKind
        registered = self.today - timedelta(days=self.rng.randint(400, 4000))
        if taxpayer.client_type == ClientType.PERSONAL:
            self.identifier(taxpayer, K.NINO, identifiers.make_nino(n * 7919))
        if taxpayer.client_type != ClientType.TRUST or "TRS-UTR" in regimes:
            self.identifier(taxpayer, K.UTR, identifiers.make_utr(100_000_000 + n * 3571))
        if "TRS-URN" in regimes:
            self.identifier(taxpayer, K.URN, f"XATRUST{10_000_000 + n:08d}")
        if "VAT" in regimes:
            self.identifier(taxpayer, K.VRN, identifiers.make_vrn(n * 131), registered_on=registered)
        if "CGT" in regimes:
            self.identifier(taxpayer, K.CGT, f"XYCGTP{n:09d}")
        if "PPT" in regimes:
            self.identifier(taxpayer, K.PPT, f"XMPPT000{n:07d}", registered_on=registered)
        if "CBC" in regimes:
            self.identifier(taxpayer, K.CBC, f"XACBC{n:010d}", contact_email=taxpayer.email)
        if "PLR" in regimes:
            self.identifier(taxpayer, K.PLR, f"XAPLR{n:010d}", registered_on=registered)

    def authorise(self, firm: Firm, taxpayer: Taxpayer, service_keys: list[str]) -> None:
        started = self.today - timedelta(days=self.rng.randint(30, 1500))
        for key in service_keys:
            self.db.add(Authorisation(firm_id=firm.id, taxpayer_id=taxpayer.id, service=key,
                                      regime=BY_KEY[key].regime, started_at=at(started)))
        self.db.add(FirmClient(firm_id=firm.id, taxpayer_id=taxpayer.id, sort_name=taxpayer.name.lower(),
                               created_at=at(started)))


# (share of clients, client type, service keys) — a spread like a small general practice's book.
PROFILES: tuple[tuple[int, ClientType, tuple[str, ...]], ...] = (
    (34, ClientType.PERSONAL, ("HMRC-MTD-IT",)),
    (8, ClientType.PERSONAL, ("HMRC-MTD-IT", "HMRC-MTD-VAT")),
    (5, ClientType.PERSONAL, ("HMRC-MTD-IT-SUPP",)),
    (4, ClientType.PERSONAL, ("PERSONAL-INCOME-RECORD",)),
    (4, ClientType.PERSONAL, ("HMRC-MTD-IT", "HMRC-CGT-PD")),
    (26, ClientType.BUSINESS, ("HMRC-MTD-VAT",)),
    (4, ClientType.BUSINESS, ("HMRC-MTD-VAT", "HMRC-PPT-ORG")),
    (2, ClientType.BUSINESS, ("HMRC-CBC-ORG", "HMRC-PILLAR2-ORG")),
    (7, ClientType.TRUST, ("HMRC-TERS-ORG",)),
    (3, ClientType.TRUST, ("HMRC-TERSNT-ORG",)),
    (3, ClientType.TRUST, ("HMRC-TERS-ORG", "HMRC-CGT-PD")),
)


def _regimes_for(service_keys: tuple[str, ...]) -> set[str]:
    regimes = {BY_KEY[key].regime for key in service_keys}
    if "HMRC-TERS-ORG" in service_keys:
        regimes.add("TRS-UTR")
    if "HMRC-TERSNT-ORG" in service_keys:
        regimes.add("TRS-URN")
    return regimes


def _user(db: Session, settings: Settings, email: str, name: str) -> User:
    user = User(email=email, name=name, password_hash=hash_password(settings, DEMO_PASSWORD),
                email_confirmed_at=utcnow())
    db.add(user)
    db.flush()
    return user


def _agent(db: Session, settings: Settings, email: str, name: str) -> User:
    """A firm member, with the demo authenticator app already set up."""
    user = _user(db, settings, email, name)
    two_step.enrol_totp(db, settings, user.id, DEMO_TOTP_SECRET)  # sealed under this portal's secret key
    return user


def _firm(db: Session, serial: int, name: str, email: str, uid: str) -> Firm:
    firm = Firm(arn=identifiers.make_arn(serial), name=name, email=email, address_line1="1 Market Street",
                town="Leeds", postcode="LS1 4DY", amls_body="HM Revenue and Customs (HMRC)",
                amls_number=f"XAML00000{serial:06d}", link_uid=uid)
    db.add(firm)
    db.flush()
    return firm


def _fill_firm(gen: _Generator, firm: Firm, count: int, agent: User) -> list[Taxpayer]:
    submitter = Submitter(agent.id, "agent", firm.id)
    weights = [share for share, _, _ in PROFILES]
    taxpayers = []
    for _ in range(count):
        _, client_type, keys = gen.rng.choices(PROFILES, weights=weights)[0]
        taxpayer = gen.taxpayer(client_type)
        regimes = _regimes_for(keys)
        gen.register(taxpayer, regimes)
        gen.authorise(firm, taxpayer, list(keys))
        gen.obligations(taxpayer, regimes, submitter)
        taxpayers.append(taxpayer)
    return taxpayers


def has_data(db: Session) -> bool:
    return db.execute(select(col(Firm.id)).limit(1)).first() is not None


def seed(db: Session, settings: Settings, *, today: date | None = None, clients: int = 320) -> DemoAccounts:
    today = today or date.today()
    accounts = DemoAccounts()
    gen = _Generator(db, random.Random(f"demo-{today.isoformat()}"), today)

    firm = _firm(db, 975056, "Harbour & Reed Tax Advisers LLP", "practice@harbour-reed.example", "HRTAX7K2")
    other = _firm(db, 609726, "Northgate Accountancy Ltd", "hello@northgate.example", "NGACC4P9")
    agent = _agent(db, settings, accounts.agent_email, "Amira Reed")
    db.add(Membership(firm_id=firm.id, user_id=agent.id, role="admin"))
    staff = _agent(db, settings, accounts.staff_email, "Tom Okafor")
    db.add(Membership(firm_id=firm.id, user_id=staff.id, role="standard"))
    other_agent = _agent(db, settings, accounts.other_agent_email, "Priya Shah")
    db.add(Membership(firm_id=other.id, user_id=other_agent.id, role="admin"))

    firm_clients = _fill_firm(gen, firm, clients, agent)
    _access_groups(db, firm, firm_clients, agent, staff)
    _fill_firm(gen, other, 40, other_agent)

    # A taxpayer with their own sign-in, who is also one of the main firm's clients.
    client_user = _user(db, settings, accounts.client_email, "Jane Whitfield")
    jane = gen.taxpayer(ClientType.PERSONAL, name="Jane Whitfield", owner=client_user)
    gen.register(jane, {"ITSA", "VAT"})
    gen.authorise(firm, jane, ["HMRC-MTD-IT"])
    gen.obligations(jane, {"ITSA", "VAT"}, Submitter(agent.id, "agent", firm.id))
    helper = _user(db, settings, accounts.helper_email, "Sam Whitfield")
    db.add(HelperLink(taxpayer_id=jane.id, invited_email=helper.email, helper_user_id=helper.id, status="active",
                      accepted_at=at(today - timedelta(days=40))))

    for new in NEW_CLIENTS:
        _new_client(db, settings, gen, new)
    _request_history(db, gen, firm, today)
    db.flush()
    for seeded in (firm, other):  # clients authorised here, not through the handshake: their kept groups and regimes
        group_sets.refresh_firm(db, seeded.id)
    return accounts


def _access_groups(db: Session, firm: Firm, clients: list[Taxpayer], admin: User, staff: User) -> None:
    """Harbour & Reed uses access groups: Tom, a standard user, is in "Leeds office" (every fifth client); the
    VAT clients are in a tax-service group he is not in; the rest are in no group. So he sees the Leeds clients
    and those in no group, and none of the other VAT clients."""
    db.flush()
    firm_access.set_access_groups(db, firm_id=firm.id, actor_user_id=admin.id, enabled=True)
    leeds = firm_access.create_group(db, firm_id=firm.id, actor_user_id=admin.id, name="Leeds office")
    firm_access.add_clients(db, leeds, actor_user_id=admin.id, taxpayer_ids=[c.id for c in clients[::5]])
    firm_access.add_member(db, leeds, user_id=staff.id, actor_user_id=admin.id)
    firm_access.create_tax_service_group(db, firm_id=firm.id, actor_user_id=admin.id, regime="VAT", name="VAT")


def _new_client(db: Session, settings: Settings, gen: _Generator, new: NewClient) -> None:
    owner = _user(db, settings, new.email, new.owner_name)
    taxpayer = gen.taxpayer(new.client_type, name=new.name, owner=owner)
    taxpayer.postcode, taxpayer.date_of_birth = new.postcode, new.date_of_birth
    for kind, value, registered in new.references:
        gen.identifier(taxpayer, identifiers.IdentifierKind(kind), value, registered_on=registered)
    kinds = {kind for kind, _, _ in new.references}
    regimes = {service.regime for service in BY_KEY.values() if service.identifier in kinds}
    gen.obligations(taxpayer, regimes, Submitter(owner.id, "self"))


def _request_history(db: Session, gen: _Generator, firm: Firm, today: date) -> None:
    """Requests of the last 30 days in every state, so tracking requests shows what it is for."""
    agent_id = db.execute(select(col(Membership.user_id)).where(col(Membership.firm_id) == firm.id,
                                                                col(Membership.role) == "admin")).scalar_one()
    statuses = ("pending", "pending", "accepted", "rejected", "cancelled", "expired", "pending")
    for age, status in zip((1, 3, 6, 9, 12, 25, 17), statuses, strict=True):
        taxpayer = gen.taxpayer(ClientType.BUSINESS)
        gen.register(taxpayer, {"VAT"})
        created = today - timedelta(days=age)
        db.add(AuthorisationRequest(
            firm_id=firm.id, taxpayer_id=taxpayer.id, service="HMRC-MTD-VAT", regime="VAT", status=status,
            created_by_user_id=agent_id, created_at=at(created), expires_on=created + timedelta(days=21),
            responded_at=at(created + timedelta(days=2)) if status != "pending" else None))
        if status == "accepted":
            db.flush()
            gen.authorise(firm, taxpayer, ["HMRC-MTD-VAT"])
