"""Trusted helpers' rules, tested on the domain functions directly (the pages are tested in test_helpers.py and
test_client_authorisations.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain import trusted_helpers
from portal.domain.models import AuditEvent, HelperLink, Taxpayer, User
from portal.domain.sql import unit_of_work
from portal.domain.trusted_helpers import MAX_PEOPLE_HELPED, Refusal, Refused
from portal.settings import Settings
from tests import factories


@pytest.fixture
def person(engine: Engine, settings: Settings) -> tuple[int, int]:
    """(user id, taxpayer id) of Mary, who wants help."""
    with unit_of_work(engine) as db:
        mary = factories.user(db, settings, "mary@example.com", "Mary Jones")
        taxpayer = factories.taxpayer(db, "Mary Jones", owner=mary, nino="AB123456C")
        assert mary.id is not None and taxpayer.id is not None
        return mary.id, taxpayer.id


@pytest.fixture
def helen(engine: Engine, settings: Settings) -> int:
    with unit_of_work(engine) as db:
        helper = factories.user(db, settings, "helen@example.com", "Helen Helper")
        assert helper.id is not None
        return helper.id


def _invite(engine: Engine, person: tuple[int, int], email: str = "Helen@Example.com") -> int:
    user_id, taxpayer_id = person
    with unit_of_work(engine) as db:
        link, token = trusted_helpers.invite(db, taxpayer_id=taxpayer_id, inviter_user_id=user_id,
                                             inviter_email="mary@example.com", email=email)
        assert trusted_helpers.link_by_token(db, token) is link
        assert link.id is not None
        return link.id


def _accept(engine: Engine, link_id: int, user_id: int, email: str = "helen@example.com") -> None:
    with unit_of_work(engine) as db:
        link = db.get(HelperLink, link_id)
        assert link is not None
        trusted_helpers.accept(db, link=link, user_id=user_id, email=email)


def _link(engine: Engine, link_id: int) -> HelperLink:
    with Session(engine) as db:
        link = db.get(HelperLink, link_id)
        assert link is not None
        return link


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as db:
        return list(db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def test_an_invitation_keeps_the_email_in_lower_case_and_only_the_token_hash(
        engine: Engine, person: tuple[int, int]) -> None:
    link = _link(engine, _invite(engine, person))
    assert (link.invited_email, link.status) == ("helen@example.com", "invited")
    assert link.invite_token_hash is not None and len(link.invite_token_hash) == 64
    [event] = _events(engine)
    assert (event.action, event.detail) == ("helper_invited", {"helper_link_id": link.id, "email": "helen@example.com"})


@pytest.mark.parametrize(("email", "reason"), [("MARY@example.com", Refusal.OWN_EMAIL),
                                               ("helen@example.com", Refusal.ALREADY_INVITED)])
def test_who_cannot_be_invited(engine: Engine, person: tuple[int, int], email: str, reason: Refusal) -> None:
    _invite(engine, person)
    with pytest.raises(Refused) as refused:
        _invite(engine, person, email)
    assert refused.value.reason == reason


def test_someone_already_helping_cannot_be_invited_again(
        engine: Engine, person: tuple[int, int], helen: int) -> None:
    _accept(engine, _invite(engine, person), helen)
    with pytest.raises(Refused) as refused:
        _invite(engine, person)
    assert refused.value.reason == Refusal.ALREADY_HELPING


def test_only_the_invited_email_can_answer(engine: Engine, person: tuple[int, int], helen: int) -> None:
    link_id = _invite(engine, person)
    for respond in (trusted_helpers.accept, trusted_helpers.decline):
        with pytest.raises(Refused) as refused, unit_of_work(engine) as db:
            link = db.get(HelperLink, link_id)
            assert link is not None
            respond(db, link=link, user_id=helen, email="someone.else@example.com")
        assert refused.value.reason == Refusal.WRONG_PERSON
    assert _link(engine, link_id).status == "invited"


def test_accepting_makes_the_link_active_and_forgets_the_token(
        engine: Engine, person: tuple[int, int], helen: int) -> None:
    link_id = _invite(engine, person)
    _accept(engine, link_id, helen, email="HELEN@example.com")
    link = _link(engine, link_id)
    assert (link.status, link.helper_user_id, link.invite_token_hash) == ("active", helen, None)
    assert link.accepted_at is not None
    assert _events(engine)[-1].action == "helper_accepted"
    with pytest.raises(Refused) as refused:  # a second click
        _accept(engine, link_id, helen)
    assert refused.value.reason == Refusal.NOT_OPEN


def test_a_helper_helps_at_most_five_people(engine: Engine, settings: Settings, helen: int) -> None:
    links = []
    for n in range(MAX_PEOPLE_HELPED + 1):
        with unit_of_work(engine) as db:
            owner = factories.user(db, settings, f"person{n}@example.com")
            taxpayer = factories.taxpayer(db, f"Person {n}", owner=owner)
            assert owner.id is not None and taxpayer.id is not None
            who = (owner.id, taxpayer.id)
        links.append(_invite(engine, who))
    for link_id in links[:MAX_PEOPLE_HELPED]:
        _accept(engine, link_id, helen)
    with pytest.raises(Refused) as refused:
        _accept(engine, links[-1], helen)
    assert refused.value.reason == Refusal.LIMIT_REACHED
    assert _link(engine, links[-1]).status == "invited"
    with Session(engine) as db:
        assert trusted_helpers.people_helped(db, helen) == MAX_PEOPLE_HELPED


def test_declining_closes_the_invitation(engine: Engine, person: tuple[int, int], helen: int) -> None:
    link_id = _invite(engine, person)
    with unit_of_work(engine) as db:
        link = db.get(HelperLink, link_id)
        assert link is not None
        trusted_helpers.decline(db, link=link, user_id=helen, email="helen@example.com")
    link = _link(engine, link_id)
    assert (link.status, link.ended_by) == ("declined", "helper")
    assert _events(engine)[-1].action == "helper_declined"


def test_withdrawing_an_invitation(engine: Engine, person: tuple[int, int], helen: int) -> None:
    link_id = _invite(engine, person)
    with unit_of_work(engine) as db:
        link = db.get(HelperLink, link_id)
        assert link is not None
        trusted_helpers.withdraw(db, link=link, actor_user_id=person[0])
    assert _link(engine, link_id).status == "withdrawn"
    event = _events(engine)[-1]
    assert (event.action, event.detail["email"]) == ("helper_invitation_withdrawn", "helen@example.com")
    with pytest.raises(Refused):  # too late to accept
        _accept(engine, link_id, helen)


def _end(engine: Engine, link_id: int, ended_by: str, actor_user_id: int) -> None:
    with unit_of_work(engine) as db:
        link = db.get(HelperLink, link_id)
        assert link is not None
        trusted_helpers.end(db, link=link, ended_by=ended_by, actor_user_id=actor_user_id)  # type: ignore[arg-type]


def test_the_person_ending_the_link_is_recorded_once_naming_the_helper(
        engine: Engine, person: tuple[int, int], helen: int) -> None:
    """One rule for both pages that end a link (Trusted helpers, and Manage who can deal with your tax)."""
    link_id = _invite(engine, person)
    _accept(engine, link_id, helen)
    _end(engine, link_id, "client", person[0])
    link = _link(engine, link_id)
    assert (link.status, link.ended_by) == ("ended", "client") and link.ended_at is not None
    event = _events(engine)[-1]
    assert (event.action, event.authority, event.actor_user_id, event.taxpayer_id) == (
        "helper_removed", "self", person[0], person[1])
    assert event.detail == {"helper_link_id": link_id, "helper_user_id": helen}
    with pytest.raises(Refused) as refused:  # a second tab
        _end(engine, link_id, "client", person[0])
    assert refused.value.reason == Refusal.NOT_OPEN
    assert [e.action for e in _events(engine)].count("helper_removed") == 1


def test_the_helper_ending_the_link(engine: Engine, person: tuple[int, int], helen: int) -> None:
    link_id = _invite(engine, person)
    _accept(engine, link_id, helen)
    _end(engine, link_id, "helper", helen)
    assert (_link(engine, link_id).status, _link(engine, link_id).ended_by) == ("ended", "helper")
    event = _events(engine)[-1]
    assert (event.action, event.authority, event.actor_user_id) == ("helper_ended", "helper", helen)


def test_personal_taxpayer_is_the_persons_own_individual_account(
        engine: Engine, settings: Settings, person: tuple[int, int]) -> None:
    with unit_of_work(engine) as db:
        owner = db.get(User, person[0])
        factories.taxpayer(db, "Mary's Shop Ltd", "business", owner=owner)
    with Session(engine) as db:
        found = trusted_helpers.personal_taxpayer(db, person[0])
        assert isinstance(found, Taxpayer) and found.id == person[1]
