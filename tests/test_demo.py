from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from portal.devdata import demo
from portal.domain import handshake, identifiers
from portal.domain.models import Firm, FirmClient, Obligation, Taxpayer, TaxpayerIdentifier
from portal.domain.services import BY_KEY
from portal.domain.sql import make_engine, unit_of_work
from portal.settings import Settings

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def engine(postgres_engine: Engine | None, settings: Settings, tmp_path_factory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """Seeded once for the whole module: these tests only read the demo data."""
    if postgres_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        seeded = postgres_engine
    else:
        seeded = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
        SQLModel.metadata.create_all(seeded)
    with unit_of_work(seeded) as db:
        demo.seed(db, settings, today=TODAY)
    yield seeded
    if postgres_engine is None:
        seeded.dispose()


def test_the_demo_firm_has_a_few_hundred_clients_of_every_type(engine: Engine, settings: Settings) -> None:
    with Session(engine) as db:
        firm = db.execute(select(Firm).where(Firm.name.startswith("Harbour"))).scalar_one()
        types = dict(db.execute(select(Taxpayer.client_type, func.count()).join(
            FirmClient, FirmClient.taxpayer_id == Taxpayer.id).where(FirmClient.firm_id == firm.id)
            .group_by(Taxpayer.client_type)).all())
    assert 300 <= sum(types.values()) <= 400
    assert set(types) == {"personal", "business", "trust"} and min(types.values()) >= 20


def test_every_demo_reference_passes_its_check_rules(engine: Engine, settings: Settings) -> None:
    with Session(engine) as db:
        references = db.execute(select(TaxpayerIdentifier.kind, TaxpayerIdentifier.value)).all()
        arns = db.execute(select(Firm.arn)).scalars().all()
    assert len(references) > 600
    assert [r for r in references if not identifiers.is_valid(identifiers.IdentifierKind(r.kind), r.value)] == []
    assert all(identifiers.is_valid(identifiers.IdentifierKind.ARN, arn) for arn in arns)


def test_obligations_fall_around_today_some_met_some_due_a_few_overdue(engine: Engine, settings: Settings) -> None:
    with Session(engine) as db:
        rows = db.execute(select(Obligation.due_date, Obligation.fulfilled_on)).all()
    overdue = [r for r in rows if r.fulfilled_on is None and r.due_date < TODAY]
    upcoming = [r for r in rows if r.fulfilled_on is None and r.due_date >= TODAY]
    met = [r for r in rows if r.fulfilled_on is not None]
    assert all(TODAY - timedelta(days=800) < r.due_date < TODAY + timedelta(days=400) for r in rows)
    assert len(met) > len(upcoming) > len(overdue) > 0


def test_the_readmes_new_clients_can_be_found_with_their_known_facts(engine: Engine, settings: Settings) -> None:
    business, sole_trader = demo.NEW_CLIENTS
    with Session(engine) as db:
        vat = BY_KEY["HMRC-MTD-VAT"]
        meadow = handshake.find_client(db, vat, "business", business.references[0][1])
        assert meadow is not None and meadow.name == "Meadow Print Works Ltd"
        assert handshake.known_fact_matches(db, vat, meadow, date(2019, 4, 1))
        itsa = BY_KEY["HMRC-MTD-IT"]
        sam = handshake.find_client(db, itsa, "personal", "JX 12 34 56 D")
        assert sam is not None and handshake.known_fact_matches(db, itsa, sam, "m12ab")
        assert db.execute(select(FirmClient).where(FirmClient.taxpayer_id.in_([meadow.id, sam.id]))).first() is None


def test_quarterly_periods_follow_on_without_overlapping(engine: Engine) -> None:
    with Session(engine) as db:
        rows = db.execute(select(Obligation.taxpayer_id, Obligation.period_start, Obligation.period_end)
                          .where(Obligation.regime == "VAT").order_by(Obligation.taxpayer_id, Obligation.period_start))
        periods: dict[int, list[tuple[date, date]]] = {}
        for taxpayer_id, start, end in rows:
            periods.setdefault(taxpayer_id, []).append((start, end))
    for quarters in periods.values():
        for (_, previous_end), (start, _) in zip(quarters, quarters[1:], strict=False):
            assert start == previous_end + timedelta(days=1)
