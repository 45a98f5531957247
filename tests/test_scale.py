"""The scale generator: a big firm, made fast, with data every page accepts."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.devdata import scale
from portal.domain import identifiers
from portal.domain.models import Authorisation, FirmClient, Obligation, Taxpayer, TaxpayerIdentifier
from portal.settings import Settings
from tests import factories
from tests.conftest import _check_html


def test_a_generated_firm_has_its_clients_valid_references_and_pages_that_render(engine: Engine,
                                                                                 settings: Settings) -> None:
    progress = io.StringIO()
    result = scale.generate_firm(engine, settings, 500, progress=progress)
    assert progress.getvalue().endswith("[##############################] 500/500 clients\n")

    with Session(engine) as db:
        clients = select(func.count()).select_from(FirmClient).where(FirmClient.firm_id == result.firm_id)
        assert db.scalar(clients) == 500
        assert db.scalar(select(func.count()).select_from(Taxpayer)) == 500
        obligations = db.scalar(select(func.count()).select_from(Obligation))
        assert obligations == result.obligations and 500 * 3 <= obligations <= 500 * 8
        assert db.scalar(select(func.count(func.distinct(Authorisation.service)))) >= 8
        references = db.execute(select(TaxpayerIdentifier.kind, TaxpayerIdentifier.value)).all()
        # Every obligation is within a tax service the client has: what's due has plenty to show.
        stray = db.scalar(select(func.count()).select_from(Obligation).where(~select(Authorisation.id).where(
            Authorisation.taxpayer_id == Obligation.taxpayer_id, Authorisation.regime == Obligation.regime).exists()))
    assert stray == 0
    assert len(references) >= 500
    for kind, value in references:
        assert identifiers.is_valid(identifiers.IdentifierKind(kind), value), (kind, value)

    app = create_app(settings=settings, engine=engine)
    with TestClient(app, follow_redirects=False) as client:
        client.event_hooks["response"].append(_check_html)
        factories.sign_in(client, scale.AGENT_EMAIL, scale.PASSWORD)
        clients = client.get("/clients")
        assert clients.status_code == 200 and "500 clients" in clients.text
        due = client.get("/whats-due")
        assert due.status_code == 200 and scale.FIRM_NAME in due.text
        assert len(re.findall(r'href="/clients/\d+">', due.text)) == 20


def test_generating_twice_into_one_database_is_refused(engine: Engine, settings: Settings) -> None:
    scale.generate_firm(engine, settings, 3, progress=None)
    try:
        scale.generate_firm(engine, settings, 3, progress=None)
    except scale.AlreadyGenerated as refusal:
        assert "fresh database" in str(refusal)
    else:
        raise AssertionError("a second firm was generated over the first")
