"""The handshake's rules, tested on the domain functions directly (the pages are tested in their own files)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain import handshake
from portal.domain.handshake import Refusal, Refused, Status
from portal.domain.models import AuditEvent, Authorisation, AuthorisationRequest, FirmClient
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from tests import factories
from tests.factories import World, build_world

TODAY = date.today()


def _ask(engine: Engine, world: World, service_key: str, taxpayer_id: int, *, firm=None) -> int:  # type: ignore[no-untyped-def]
    firm = firm or world.other_firm
    with unit_of_work(engine) as db:
        taxpayer = db.get(handshake.Taxpayer, taxpayer_id)
        request = handshake.create_request(db, firm_id=firm.id, user_id=world.other_agent.id,
                                                service=BY_KEY[service_key], taxpayer=taxpayer, today=TODAY)
        return request.id


def _accept(engine: Engine, world: World, request_id: int, today: date = TODAY) -> None:
    with unit_of_work(engine) as db:
        request = db.get(AuthorisationRequest, request_id)
        handshake.accept_request(db, user_id=world.client_user.id, request=request, today=today)


def _active(engine: Engine, taxpayer_id: int) -> list[tuple[int, str]]:
    with Session(engine) as db:
        rows = db.execute(select(Authorisation.firm_id, Authorisation.service).where(
            Authorisation.taxpayer_id == taxpayer_id, Authorisation.ended_at.is_(None))).all()
    return sorted((firm_id, service) for firm_id, service in rows)


def test_a_second_pending_request_for_the_same_regime_is_refused(engine: Engine, world: World) -> None:
    _ask(engine, world, "HMRC-MTD-IT", world.itsa_client.id)
    with pytest.raises(Refused) as refused:  # main and supporting count as one (domain.md §2.4)
        _ask(engine, world, "HMRC-MTD-IT-SUPP", world.itsa_client.id)
    assert refused.value.reason == Refusal.ALREADY_PENDING


def test_the_database_itself_allows_only_one_pending_request(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        db.add(AuthorisationRequest(firm_id=world.firm.id, taxpayer_id=world.other_client.id, service="HMRC-MTD-VAT",
                                    regime="VAT", created_by_user_id=world.agent.id, expires_on=TODAY))
    with pytest.raises(Exception, match="(?i)unique"), unit_of_work(engine) as db:
        db.add(AuthorisationRequest(firm_id=world.firm.id, taxpayer_id=world.other_client.id, service="HMRC-MTD-VAT",
                                    regime="VAT", created_by_user_id=world.agent.id, expires_on=TODAY))


def test_asking_for_a_service_already_held_is_refused(engine: Engine, world: World) -> None:
    with pytest.raises(Refused) as refused:
        _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id, firm=world.firm)
    assert refused.value.reason == Refusal.ALREADY_AUTHORISED


def test_accepting_a_new_main_agent_ends_the_old_one_as_the_clients_doing(engine: Engine, world: World) -> None:
    request_id = _ask(engine, world, "HMRC-MTD-IT", world.itsa_client.id)
    with Session(engine) as db:
        replaced = handshake.agents_replaced_by(db, db.get(AuthorisationRequest, request_id))
    assert [name for _, name in replaced] == ["Harbour Tax"]  # the client is told before they accept
    _accept(engine, world, request_id)
    assert _active(engine, world.itsa_client.id) == [(world.other_firm.id, "HMRC-MTD-IT")]
    with Session(engine) as db:
        ended = db.execute(select(Authorisation).where(Authorisation.firm_id == world.firm.id,
                                                       Authorisation.taxpayer_id == world.itsa_client.id)).scalar_one()
        assert ended.ended_by == "client"
        assert db.get(FirmClient, (world.firm.id, world.itsa_client.id)) is None  # off the old firm's list
        assert db.get(FirmClient, (world.other_firm.id, world.itsa_client.id)) is not None


def test_supporting_agents_sit_beside_the_main_agent(engine: Engine, world: World) -> None:
    _accept(engine, world, _ask(engine, world, "HMRC-MTD-IT-SUPP", world.itsa_client.id))
    assert _active(engine, world.itsa_client.id) == sorted(
        [(world.firm.id, "HMRC-MTD-IT"), (world.other_firm.id, "HMRC-MTD-IT-SUPP")])


def test_an_agent_cannot_be_both_main_and_supporting(engine: Engine, world: World) -> None:
    request_id = _ask(engine, world, "HMRC-MTD-IT-SUPP", world.itsa_client.id, firm=world.firm)
    _accept(engine, world, request_id)
    assert _active(engine, world.itsa_client.id) == [(world.firm.id, "HMRC-MTD-IT-SUPP")]


def test_a_request_past_its_21_days_reads_as_expired_and_cannot_be_accepted(engine: Engine, world: World) -> None:
    request_id = _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id)
    with Session(engine) as db:
        request = db.get(AuthorisationRequest, request_id)
        assert request.expires_on == TODAY + timedelta(days=21)
        assert handshake.effective_status(request, TODAY + timedelta(days=21)) == Status.PENDING
        assert handshake.effective_status(request, TODAY + timedelta(days=22)) == Status.EXPIRED
    with pytest.raises(Refused):
        _accept(engine, world, request_id, today=TODAY + timedelta(days=22))
    with unit_of_work(engine) as db:  # the sweep records what every page already says
        assert handshake.expire_overdue(db, today=TODAY + timedelta(days=22)) == 1
    # ... and a new request can then be made, though the old one was never swept by hand.
    _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id)


def test_only_the_requesting_firm_can_cancel_and_only_while_pending(engine: Engine, world: World) -> None:
    request_id = _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id)
    with pytest.raises(Refused), unit_of_work(engine) as db:
        handshake.cancel_request(db, firm_id=world.firm.id, user_id=world.agent.id,
                                      request=db.get(AuthorisationRequest, request_id), today=TODAY)
    with unit_of_work(engine) as db:
        handshake.cancel_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                      request=db.get(AuthorisationRequest, request_id), today=TODAY)
    with pytest.raises(Refused):
        _accept(engine, world, request_id)


def test_every_transition_is_audited_with_who_and_for_whom(engine: Engine, world: World) -> None:
    request_id = _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id)
    _accept(engine, world, request_id)
    with Session(engine) as db:
        events = db.execute(select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.taxpayer_id)
                            .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["authorisation_request_created", "authorisation_ended",
                                          "authorisation_request_accepted"]
    assert {e.taxpayer_id for e in events} == {world.vat_client.id}
    assert events[0].actor_user_id == world.other_agent.id and events[2].actor_user_id == world.client_user.id


def _race(*actions) -> list[BaseException | None]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(actions))
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            actions[index]()
        except BaseException as error:  # noqa: BLE001 (recorded for the assertion)
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_acceptances_at_once_leave_exactly_one_relationship(file_engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    engine = file_engine
    with unit_of_work(engine) as db:
        world = build_world(db, settings)
    request_id = _ask(engine, world, "HMRC-MTD-VAT", world.vat_client.id)
    outcomes = _race(lambda: _accept(engine, world, request_id), lambda: _accept(engine, world, request_id))
    assert sum(isinstance(o, Refused) for o in outcomes) == 1 and outcomes.count(None) == 1
    assert _active(engine, world.vat_client.id) == [(world.other_firm.id, "HMRC-MTD-VAT")]


def test_two_firms_accepted_at_once_still_leave_one_agent_for_the_service(file_engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    engine = file_engine
    with unit_of_work(engine) as db:
        world = build_world(db, settings)
        third = factories.firm(db, "Third Firm")
    first = _ask(engine, world, "HMRC-MTD-VAT", world.itsa_client.id)
    second = _ask(engine, world, "HMRC-MTD-VAT", world.itsa_client.id, firm=third)
    outcomes = _race(lambda: _accept(engine, world, first), lambda: _accept(engine, world, second))
    assert outcomes == [None, None]  # both accepted, one after the other: the later replaced the earlier
    active = [a for a in _active(engine, world.itsa_client.id) if a[1] == "HMRC-MTD-VAT"]
    assert len(active) == 1
