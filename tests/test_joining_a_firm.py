"""Joining a firm (issue 13): only a confirmed address joins, and every new member sets up 2-step verification
before reaching any client, by an invitation or by registering a firm. A session begun before becoming a member
(another browser signed in with the password alone) ends: no path reaches a client without the second step."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal.domain import team
from portal.domain.models import Membership, UserSession
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in


def _invite(engine, world: World, email: str) -> str:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as db:
        team.invite(db, firm_id=world.firm.id, email=email, role="standard", actor_user_id=world.agent.id)
    from tests.test_firm_access import _invitation_path
    return _invitation_path(engine)


def _members(engine, email: str) -> int:  # type: ignore[no-untyped-def]
    from portal.domain.models import User
    with engine.connect() as connection:
        return len(connection.execute(select(Membership.id).join(User, col(User.id) == Membership.user_id)
                                      .where(col(User.email) == email)).all())


def test_an_unconfirmed_address_cannot_join(client: TestClient, world: World, engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    link = _invite(engine, world, "unproved@example.com")
    with unit_of_work(engine) as db:
        factories.user(db, settings, "unproved@example.com").email_confirmed_at = None
    sign_in(client, "unproved@example.com")
    page = client.get(link)
    assert page.status_code == 403 and "Confirm your email address first" in page.text
    posted = client.post(link, data={"csrf_token": csrf_from(page.text)})
    assert posted.status_code == 403 and _members(engine, "unproved@example.com") == 0
    # The rule is the domain's, whoever calls it.
    with unit_of_work(engine) as db:
        from portal.domain.team_models import FirmInvitation
        invitation = db.execute(select(FirmInvitation)).scalars().one()
        user_id = db.execute(select(UserSession.user_id)).scalars().first()
        with pytest.raises(team.Refused) as refused:
            team.join(db, invitation, user_id=user_id, email="unproved@example.com")  # type: ignore[arg-type]
        assert refused.value.reason is team.Refusal.ADDRESS_NOT_CONFIRMED


def test_a_new_member_sets_up_2_step_before_any_client_and_their_other_sessions_end(
    client: TestClient, world: World, engine, settings: Settings, app  # type: ignore[no-untyped-def]
) -> None:
    link = _invite(engine, world, "newcomer@example.com")
    with unit_of_work(engine) as db:
        factories.user(db, settings, "newcomer@example.com")
    with TestClient(app, follow_redirects=False) as elsewhere:
        sign_in(elsewhere, "newcomer@example.com")  # no second step: not a member yet
        sign_in(client, "newcomer@example.com")
        joined = client.post(link, data={"csrf_token": csrf_from(client.get(link).text)})
        assert joined.headers["location"] == "/sign-in/set-up-2-step?next=%2Fclients"
        assert _members(engine, "newcomer@example.com") == 1
        # Nothing about a client is reachable, in this browser or the other one, until it is set up.
        for path in ("/clients", f"/clients/{world.vat_client.id}", "/whats-due", "/whats-due.csv"):
            assert client.get(path).headers["location"].startswith("/sign-in/second-step"), path
            assert elsewhere.get(path).headers["location"].startswith("/sign-in"), path
        assert client.get("/clients?q=gran", headers={"HX-Request": "true"}).headers["HX-Redirect"].startswith(
            "/sign-in/second-step")
        done, secret = factories.set_up_authenticator_app(client, joined.headers["location"])
        assert "Save your recovery codes" in done.text
        assert "Granite Bakery Ltd" in client.get("/clients").text
        # Signing in again asks for the code now set up.
        elsewhere.cookies.clear()
        token = csrf_from(elsewhere.get("/sign-in").text)
        again = elsewhere.post("/sign-in", data={"email": "newcomer@example.com", "password": factories.PASSWORD,
                                                 "csrf_token": token})
        assert again.headers["location"].startswith("/sign-in/second-step")
        assert elsewhere.get("/clients").headers["location"].startswith("/sign-in/second-step")


def test_a_joiner_who_already_has_2_step_goes_straight_to_the_clients(
    client: TestClient, world: World, engine, settings: Settings, db: Session  # type: ignore[no-untyped-def]
) -> None:
    from portal.domain import two_step
    link = _invite(engine, world, "careful@example.com")
    with unit_of_work(engine) as session:
        person = factories.user(session, settings, "careful@example.com")
        assert person.id is not None
        two_step.enrol_totp(session, settings, person.id, factories.TOTP_SECRET)
    sign_in(client, "careful@example.com")  # passes the second step it already has
    joined = client.post(link, data={"csrf_token": csrf_from(client.get(link).text)})
    assert joined.headers["location"] == "/clients"
    assert "Granite Bakery Ltd" in client.get("/clients").text


def test_registering_a_firm_also_sets_up_2_step_before_any_client(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    from tests.test_registration import _answer_everything, _post, _sign_up
    _sign_up(client)
    _answer_everything(client)
    created = _post(client, "/register/check-your-answers", {})
    assert created.headers["location"] == "/sign-in/set-up-2-step?next=%2Fregister%2Fcomplete"
    assert client.get("/clients").headers["location"].startswith("/sign-in/second-step")
    done, _secret = factories.set_up_authenticator_app(client, created.headers["location"])
    assert 'href="/register/complete"' in done.text
    assert "Agent services account created" in client.get("/register/complete").text
    assert client.get("/clients").status_code == 200
