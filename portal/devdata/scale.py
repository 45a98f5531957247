"""A firm with a very large book of clients, for measuring pages at scale: `python -m portal generate-firm`.

Rows go in with SQLAlchemy Core executemany in batches (the ORM's unit of work would take many minutes for
100,000 clients), a few batches to a transaction. Deterministic for a given day and size.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import Engine

from portal.devdata.calendar import add_months, month_end
from portal.devdata.demo import (
    BUSINESS_SUFFIXES,
    BUSINESS_TRADES,
    BUSINESS_WORDS,
    DEMO_PASSWORD,
    FIRST_NAMES,
    LAST_NAMES,
    PROFILES,
    STREETS,
    TOWNS,
)
from portal.domain import group_sets, identifiers
from portal.domain.accounts import hash_password
from portal.domain.models import (
    Authorisation,
    Firm,
    FirmClient,
    Membership,
    Obligation,
    Taxpayer,
    TaxpayerIdentifier,
    TaxpayerNameWord,
    User,
    reference_key,
    word_rows,
)
from portal.domain.services import BY_KEY, ClientType
from portal.domain.sql import table_of
from portal.settings import Settings

FIRM_NAME = "Scale Test Partners LLP"
AGENT_EMAIL = "scale-agent@example.com"
PASSWORD = DEMO_PASSWORD
BATCH = 5_000
BATCHES_PER_TRANSACTION = 5
# Reference numbers well away from the demo data's, so a firm can be generated beside it.
FIRST_SERIAL = 2_000_000


def client_reference(serial: int) -> str:
    """The generated firm's own reference for the client of this serial ("SC-2004321"), as a firm sets them."""
    return f"SC-{serial}"

_tp, _ident, _fc = table_of(Taxpayer), table_of(TaxpayerIdentifier), table_of(FirmClient)
_words = table_of(TaxpayerNameWord)
_auth, _ob = table_of(Authorisation), table_of(Obligation)
_firm, _user, _membership = table_of(Firm), table_of(User), table_of(Membership)


class AlreadyGenerated(Exception):
    pass


@dataclass(frozen=True)
class Generated:
    firm_id: int
    clients: int
    obligations: int


class ProgressBar:
    """"\r[#####.....] 45,000/100,000 clients" on a terminal (or any stream), redrawn in place."""

    def __init__(self, total: int, stream: TextIO | None, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width

    def show(self, done: int) -> None:
        if self.stream is None:
            return
        filled = self.width * done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{self.total:,} clients")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


class _Rows:
    """Builds the rows of one batch of clients; the taxpayer ids come back from the database."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today = rng, today
        self.weights = [share for share, _, _ in PROFILES]
        self.year_start = date(today.year if today >= date(today.year, 4, 6) else today.year - 1, 4, 6)

    def name(self, client_type: ClientType) -> str:
        r = self.rng
        if client_type == ClientType.PERSONAL:
            return f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"
        if client_type == ClientType.BUSINESS:
            return f"{r.choice(BUSINESS_WORDS)} {r.choice(BUSINESS_TRADES)} {r.choice(BUSINESS_SUFFIXES)}"
        kind = r.choice(("Family Trust", "Settlement", "Will Trust", "Discretionary Trust", "Estate"))
        return f"The {r.choice(LAST_NAMES)} {kind}"

    def taxpayer(self, client_type: ClientType, name: str) -> dict[str, Any]:
        r = self.rng
        town, area = r.choice(TOWNS)
        postcode = f"{area}{r.randint(1, 19)} {r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJ')}"
        dob = date(r.randint(1940, 2000), r.randint(1, 12), r.randint(1, 28)) if client_type == "personal" else None
        return {"client_type": str(client_type), "name": name, "date_of_birth": dob,
                "address_line1": f"{r.randint(1, 180)} {r.choice(STREETS)}", "address_line2": "", "town": town,
                "postcode": postcode, "country": "GB", "email": "", "phone": "", "owner_user_id": None,
                "created_at": self.moment(400)}

    def moment(self, max_days: int) -> datetime:
        return datetime.combine(self.today - timedelta(days=self.rng.randint(1, max_days)), time(9, 30), tzinfo=UTC)

    def identifiers(self, taxpayer_id: int, serial: int, client_type: ClientType,
                    regimes: set[str]) -> list[dict[str, Any]]:
        K = identifiers.IdentifierKind
        refs = [(K.UTR, identifiers.make_utr(serial))]
        if client_type == ClientType.PERSONAL:
            refs.append((K.NINO, identifiers.make_nino(1_000_000_000 + serial)))  # past the demo's
        if "VAT" in regimes:
            refs.append((K.VRN, identifiers.make_vrn(serial)))
        if "PPT" in regimes:
            refs.append((K.PPT, f"XMPPT000{serial:07d}"))
        if "CGT" in regimes:
            refs.append((K.CGT, f"XYCGTP{serial:09d}"))
        if "CBC" in regimes:
            refs.append((K.CBC, f"XACBC{serial:010d}"))
        if "PLR" in regimes:
            refs.append((K.PLR, f"XAPLR{serial:010d}"))
        registered = self.today - timedelta(days=self.rng.randint(400, 4000))
        return [{"taxpayer_id": taxpayer_id, "kind": str(kind), "value": value,
                 "registered_on": registered if kind in (K.VRN, K.PPT, K.PLR) else None,
                 "contact_email": "cbc@example.com" if kind == K.CBC else None} for kind, value in refs]

    def obligations(self, taxpayer_id: int, regimes: set[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if "VAT" in regimes:
            rows += self._quarterly(taxpayer_id, "VAT", "VAT return", self.rng.randint(0, 2), day=7)
        if "PPT" in regimes:
            rows += self._quarterly(taxpayer_id, "PPT", "Plastic Packaging Tax return", 0, day=0)
        if "ITSA" in regimes:
            for quarter in range(4):
                start = add_months(self.year_start, 3 * quarter)
                end = add_months(start, 3) - timedelta(days=1)
                rows.append(self._row(taxpayer_id, "ITSA", "Quarterly update", start, end,
                                      add_months(date(end.year, end.month, 7), 1)))
            last_year = date(self.year_start.year - 1, 4, 6)
            rows.append(self._row(taxpayer_id, "ITSA", "Final declaration", last_year,
                                  self.year_start - timedelta(days=1), date(self.year_start.year + 1, 1, 31)))
        for regime, kind in (("TRS", "Trust annual update"), ("CGT", "Capital Gains Tax return"),
                             ("CBC", "Country-by-country report"), ("PLR", "Pillar 2 top-up tax return")):
            if regime in regimes:
                end = date(self.year_start.year, 3, 31)
                rows.append(self._row(taxpayer_id, regime, kind, date(end.year - 1, 4, 1), end,
                                      end + timedelta(days=self.rng.choice((60, 120, 300, 365)))))
        return rows

    def _quarterly(self, taxpayer_id: int, regime: str, kind: str, stagger: int, day: int) -> list[dict[str, Any]]:
        rows = []
        for offset in range(-9, 3):
            end = month_end(add_months(date(self.today.year, self.today.month, 1), offset))
            if end.month % 3 == stagger:
                due = month_end(add_months(end, 1)) + timedelta(days=day)
                start = month_end(add_months(end, -3)) + timedelta(days=1)
                rows.append(self._row(taxpayer_id, regime, kind, start, end, due))
        return rows

    def _row(self, taxpayer_id: int, regime: str, kind: str, start: date, end: date, due: date) -> dict[str, Any]:
        recent = due > self.today - timedelta(days=60)
        met = due < self.today and self.rng.random() < (0.85 if recent else 0.99)
        amount = self.rng.randint(20_000, 2_500_000) if regime == "VAT" else None
        return {"taxpayer_id": taxpayer_id, "regime": regime, "kind": kind, "business_id": None,
                "period_key": f"{end:%y%m}{kind[:2].upper()}", "period_start": start, "period_end": end,
                "due_date": due, "fulfilled_on": min(due, self.today) - timedelta(days=self.rng.randint(0, 20)) if met
                else None, "amount_due_pence": amount, "amount_paid_pence": amount if met else None}


def _firm_and_admin(connection: Connection, settings: Settings) -> int:
    if connection.execute(select(_user.c.id).where(_user.c.email == AGENT_EMAIL)).first():
        raise AlreadyGenerated(f"{AGENT_EMAIL} already exists: generate into a fresh database")
    firm_id: int = connection.execute(insert(_firm).returning(_firm.c.id), {
        "arn": identifiers.make_arn(8_100_100), "name": FIRM_NAME, "email": "scale@example.com",
        "address_line1": "1 Scale Street", "address_line2": "", "town": "Leeds", "postcode": "LS1 4DY",
        "amls_body": "HM Revenue and Customs (HMRC)", "amls_number": "XAML00000810010", "link_uid": "SCALE001",
        "access_groups_enabled": False, "created_at": datetime.now(UTC)}).scalar_one()
    user_id = connection.execute(insert(_user).returning(_user.c.id), {
        "email": AGENT_EMAIL, "name": "Scale Test Administrator", "created_at": datetime.now(UTC),
        "password_hash": hash_password(settings, PASSWORD)}).scalar_one()
    connection.execute(insert(_membership), {"firm_id": firm_id, "user_id": user_id, "role": "admin"})
    return firm_id


def _insert_batch(connection: Connection, rows: _Rows, firm_id: int, first_serial: int, size: int) -> int:
    profiles = rows.rng.choices(PROFILES, weights=rows.weights, k=size)
    people = [(client_type, keys, rows.name(client_type)) for _, client_type, keys in profiles]
    ids = connection.execute(insert(_tp).returning(_tp.c.id, sort_by_parameter_order=True),
                             [rows.taxpayer(client_type, name) for client_type, _, name in people]).scalars().all()
    refs, words, clients, authorisations, obligations = [], [], [], [], []
    for n, (taxpayer_id, (client_type, keys, name)) in enumerate(zip(ids, people, strict=True)):
        regimes = {BY_KEY[key].regime for key in keys}
        refs += rows.identifiers(taxpayer_id, first_serial + n, client_type, regimes)
        words += word_rows(taxpayer_id, name)  # Core inserts skip the ORM listener that does this
        started = rows.moment(1500)
        reference = client_reference(first_serial + n)  # the firm's own code for the client
        clients.append({"firm_id": firm_id, "taxpayer_id": taxpayer_id, "sort_name": name.lower(),
                        "client_reference": reference, "client_reference_key": reference_key(reference),
                        "created_at": started, "regime_bits": group_sets.regime_bits(regimes)})
        authorisations += [{"firm_id": firm_id, "taxpayer_id": taxpayer_id, "service": key,
                            "regime": BY_KEY[key].regime, "request_id": None, "started_at": started,
                            "ended_at": None, "ended_by": None} for key in keys]
        obligations += rows.obligations(taxpayer_id, regimes)
    for table, batch in ((_ident, refs), (_words, words), (_fc, clients), (_auth, authorisations), (_ob, obligations)):
        connection.execute(insert(table), batch)
    return len(obligations)


def generate_firm(engine: Engine, settings: Settings, clients: int, *, today: date | None = None,
                  progress: TextIO | None = sys.stderr, analyse: bool = True) -> Generated:
    """Adds the scale firm, its administrator, `clients` clients and their obligations."""
    today = today or date.today()
    rows = _Rows(random.Random(f"scale-{clients}-{today.isoformat()}"), today)
    bar = ProgressBar(clients, progress)
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    with writer.begin() as connection:
        firm_id = _firm_and_admin(connection, settings)
    done = obligations = 0
    bar.show(0)
    while done < clients:
        with writer.begin() as connection:
            for _ in range(BATCHES_PER_TRANSACTION):
                size = min(BATCH, clients - done)
                if size == 0:
                    break
                obligations += _insert_batch(connection, rows, firm_id, FIRST_SERIAL + done, size)
                done += size
                bar.show(done)
    bar.finish()
    if analyse:
        analyse_tables(engine)
    return Generated(firm_id, clients, obligations)


def analyse_tables(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL's autovacuum would get there, later)."""
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def run(database_url: str, clients: int, settings: Settings, echo: Callable[[str], None] = print) -> int:
    from portal.domain.sql import make_engine
    from portal.migrate import upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine, secret_key=settings.secret_key)
        started = datetime.now()
        result = generate_firm(engine, settings, clients)
    except AlreadyGenerated as error:
        echo(str(error))
        return 1
    finally:
        engine.dispose()
    seconds = (datetime.now() - started).total_seconds()
    echo(f"Generated {FIRM_NAME}: {result.clients:,} clients, {result.obligations:,} obligations in {seconds:.0f} s.")
    echo(f"Sign in as {AGENT_EMAIL} with the password {PASSWORD}")
    return 0
