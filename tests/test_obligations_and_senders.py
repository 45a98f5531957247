"""An obligation's status and who sent a return: one rule each (portal.domain.obligations, .submissions), which
the VAT, Income Tax and client pages all show."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain import submissions
from portal.domain.models import Obligation, Taxpayer
from portal.domain.obligations import ObligationStatus, obligation_status
from portal.domain.people import Authority, Viewer
from portal.domain.sql import unit_of_work
from tests import factories
from tests.factories import World

TODAY = date(2026, 11, 29)


def test_an_obligation_met_is_fulfilled_whatever_its_due_date() -> None:
    for due in (TODAY - timedelta(days=30), TODAY, TODAY + timedelta(days=30)):
        assert obligation_status(due_date=due, fulfilled_on=TODAY, today=TODAY) is ObligationStatus.FULFILLED


def test_an_obligation_not_met_is_due_until_the_end_of_its_due_date_then_overdue() -> None:
    assert obligation_status(due_date=TODAY, fulfilled_on=None, today=TODAY) is ObligationStatus.DUE
    assert obligation_status(due_date=TODAY - timedelta(days=1), fulfilled_on=None,
                             today=TODAY) is ObligationStatus.OVERDUE
    assert obligation_status(due_date=TODAY + timedelta(days=1), fulfilled_on=None) is ObligationStatus.DUE


def test_the_status_reads_as_the_templates_compare_it() -> None:
    assert [str(status) for status in ObligationStatus] == ["due", "overdue", "fulfilled"]


def _send(engine: Engine, world: World, user_id: int, kind: str, firm_id: int | None) -> str:
    with unit_of_work(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        obligation = factories.obligation(db, taxpayer, "VAT", TODAY + timedelta(days=40 if firm_id else 50))
        viewer = Viewer(user_id=user_id, name="", email="", session_id=1, firm_id=firm_id)
        submission, sent = submissions.submit_once(db, obligation=obligation, viewer=viewer,
                                                   authority=Authority(kind, taxpayer), figures={})
        assert sent
        return submissions.sender_of(db, submission)


def test_a_return_sent_by_an_agent_names_the_person_and_their_firm(engine: Engine, world: World) -> None:
    assert _send(engine, world, world.agent.id, "agent", world.firm.id) == "Test Person, Harbour Tax"  # type: ignore[arg-type]


def test_a_return_sent_by_the_taxpayer_names_them_alone(engine: Engine, world: World) -> None:
    assert _send(engine, world, world.client_user.id, "self", None) == "Jane Whitfield"  # type: ignore[arg-type]


def test_sending_fulfils_the_obligation(engine: Engine, world: World) -> None:
    _send(engine, world, world.client_user.id, "self", None)  # type: ignore[arg-type]
    with Session(engine) as db:
        fulfilled = [o for o in db.execute(select(Obligation)).scalars() if o.fulfilled_on is not None]
    assert len(fulfilled) == 1
    assert obligation_status(due_date=fulfilled[0].due_date,
                             fulfilled_on=fulfilled[0].fulfilled_on) is ObligationStatus.FULFILLED
