"""Firms and taxpayers' records, tested on the domain functions directly (the pages: test_registration.py,
test_details.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain import firms, identifiers, taxpayers
from portal.domain.identifiers import IdentifierKind
from portal.domain.models import AuditEvent, Firm, Membership, Taxpayer, utcnow
from portal.domain.people import Authority, Viewer
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World

DETAILS = firms.FirmDetails(name="Fenwick Tax LLP", email="office@fenwick.example", address_line1="2 Mill Lane",
                            address_line2="", town="York", postcode="YO1 7HH",
                            amls_body="HM Revenue and Customs (HMRC)", amls_number="XAML00000123456")


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def _new_user(engine: Engine, settings: Settings, email: str = "founder@example.com") -> int:
    with unit_of_work(engine) as db:
        person = factories.user(db, settings, email)
        assert person.id is not None
        return person.id


def test_a_new_firm_has_an_arn_a_link_code_and_its_creator_as_administrator(
        engine: Engine, settings: Settings) -> None:
    user_id = _new_user(engine, settings)
    with unit_of_work(engine) as db:
        firm = firms.create_firm(db, user_id=user_id, details=DETAILS)
        firm_id, arn = firm.id, firm.arn
    assert identifiers.parse(IdentifierKind.ARN, arn) == arn  # a valid ARN, check letter and all
    with Session(engine) as db:
        stored = db.get(Firm, firm_id)
        assert stored is not None and (stored.name, stored.town) == ("Fenwick Tax LLP", "York")
        assert len(stored.link_uid) == firms.LINK_UID_LENGTH and set(stored.link_uid) <= set(firms.LINK_UID_ALPHABET)
        membership = db.execute(select(Membership).where(Membership.user_id == user_id)).scalar_one()
        assert (membership.firm_id, membership.role) == (firm_id, "admin")
        event = db.execute(select(AuditEvent)).scalar_one()
    assert (event.action, event.firm_id, event.detail) == ("agent_services_account_created", firm_id, {"arn": arn})


def test_a_person_already_in_a_firm_cannot_create_another(engine: Engine, settings: Settings) -> None:
    user_id = _new_user(engine, settings)
    with unit_of_work(engine) as db:
        firms.create_firm(db, user_id=user_id, details=DETAILS)
    with pytest.raises(firms.Refused) as refused, unit_of_work(engine) as db:
        firms.create_firm(db, user_id=user_id, details=DETAILS)
    assert refused.value.reason == firms.Refusal.ALREADY_IN_A_FIRM
    with Session(engine) as db:
        assert len(db.execute(select(Firm)).all()) == 1


def _link(engine: Engine, user_id: int, value: str = "AB123456", postcode: str = "LS1 4DY") -> Taxpayer:
    """Like the page: a refusal is an answer, so what was recorded of the attempt is committed with it."""
    refusal: taxpayers.Refused | None = None
    with unit_of_work(engine) as db:
        try:
            return taxpayers.link_tax_account(db, user_id=user_id, kind=IdentifierKind.NINO, value=value,
                                              postcode=postcode, now=utcnow())
        except taxpayers.Refused as refused:
            refusal = refused
    assert refusal is not None
    raise refusal


def test_linking_claims_an_unowned_account_by_reference_and_postcode(
        engine: Engine, settings: Settings, world: World) -> None:
    user_id = _new_user(engine, settings)
    oscar = _link(engine, user_id, "CE654321")  # a NINO typed without its suffix
    assert (oscar.id, oscar.owner_user_id) == (world.other_client.id, user_id)
    assert _link(engine, user_id, "CE654321").id == oscar.id  # already theirs: the same answer, no new claim
    assert _actions(engine) == ["tax_account_linked"]


@pytest.mark.parametrize(("value", "postcode"), [("CE654321", "LS2 7EQ"),  # the wrong postcode
                                                 ("AB123456", "LS1 4DY"),  # Jane's: someone else owns it
                                                 ("ZZ999999", "LS1 4DY")])  # nobody's
def test_linking_refuses_the_same_way_whatever_the_reason_and_counts_the_attempt(
        engine: Engine, settings: Settings, world: World, value: str, postcode: str) -> None:
    user_id = _new_user(engine, settings)
    with pytest.raises(taxpayers.Refused) as refused:
        _link(engine, user_id, value, postcode)
    assert refused.value.reason == taxpayers.Refusal.NOT_FOUND
    assert _actions(engine) == ["tax_account_link_failed"]
    with Session(engine) as db:
        jane = db.get(Taxpayer, world.itsa_client.id)
        assert jane is not None and jane.owner_user_id == world.client_user.id


def test_linking_locks_after_five_failed_attempts(engine: Engine, settings: Settings) -> None:
    user_id = _new_user(engine, settings)
    for _ in range(taxpayers.LINK_ATTEMPTS_ALLOWED):
        with Session(engine) as db:
            assert not taxpayers.link_locked(db, user_id=user_id, now=utcnow())
        with pytest.raises(taxpayers.Refused):
            _link(engine, user_id, "ZZ999999")
    with Session(engine) as db:
        assert taxpayers.link_locked(db, user_id=user_id, now=utcnow())
        later = utcnow() + taxpayers.LINK_WINDOW + timedelta(seconds=1)
        assert not taxpayers.link_locked(db, user_id=user_id, now=later)


def _viewer(user_id: int, firm_id: int | None = None) -> Viewer:
    return Viewer(user_id=user_id, name="Someone", email="someone@example.com", session_id=1, firm_id=firm_id)


def test_changing_details_records_old_and_new_values_and_the_agents_firm(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        taxpayers.change_details(db, authority=Authority("agent", taxpayer, can_change_details=True),
                                 viewer=_viewer(world.agent.id, world.firm.id),  # type: ignore[arg-type]
                                 part=taxpayers.DetailsPart.CONTACT,
                                 values={"email": "jane.w@example.com", "phone": "01632 960 001"})
    with Session(engine) as db:
        saved = db.get(Taxpayer, world.itsa_client.id)
        assert saved is not None and (saved.email, saved.phone) == ("jane.w@example.com", "01632 960 001")
        event = db.execute(select(AuditEvent)).scalar_one()
    assert (event.action, event.authority, event.firm_id) == ("contact_details_changed", "agent", world.firm.id)
    assert event.detail == {"old": {"email": "", "phone": ""},
                            "new": {"email": "jane.w@example.com", "phone": "01632 960 001"}}


def test_details_change_only_with_authority_over_them_and_only_whole_parts(engine: Engine, world: World) -> None:
    address = {"address_line1": "3 Quay Street", "address_line2": "", "town": "Leeds", "postcode": "LS2 7EQ"}
    with Session(engine) as db:
        taxpayer = db.get(Taxpayer, world.itsa_client.id)
        assert taxpayer is not None
        viewer = _viewer(world.client_user.id)  # type: ignore[arg-type]
        with pytest.raises(taxpayers.Refused) as refused:
            taxpayers.change_details(db, authority=Authority("self", taxpayer), viewer=viewer,
                                     part=taxpayers.DetailsPart.ADDRESS, values=address)
        assert refused.value.reason == taxpayers.Refusal.NOT_ALLOWED
        with pytest.raises(ValueError):
            taxpayers.change_details(db, authority=Authority("self", taxpayer, can_change_details=True),
                                     viewer=viewer, part=taxpayers.DetailsPart.ADDRESS, values={"town": "Leeds"})
        taxpayers.change_details(db, authority=Authority("self", taxpayer, can_change_details=True), viewer=viewer,
                                 part=taxpayers.DetailsPart.ADDRESS, values=address)
        event = db.execute(select(AuditEvent)).scalar_one()
        assert (event.action, event.firm_id) == ("address_changed", None)  # the firm only for an agent
