from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from portal.domain.models import AuditEvent, HelperLink
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import csrf_from, follow_emailed_link, sign_in

INVITE_LINK = re.compile(r'value="http://testserver(/trusted-helpers/accept/[A-Za-z0-9_-]+)"')


def _post(client: TestClient, url: str, data: dict[str, str] | None = None, page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page or url).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _person(engine: Engine, settings: Settings, email: str = "mary@example.com", name: str = "Mary Jones",
            client_type: str = "personal") -> int:
    """A person who owns their own tax account, with an Income Tax obligation a helper must not see."""
    with unit_of_work(engine) as db:
        owner = factories.user(db, settings, email, name)
        taxpayer = factories.taxpayer(db, name, client_type, owner=owner, nino=_nino(email))
        factories.obligation(db, taxpayer, "ITSA", date.today() + timedelta(days=30), kind="Quarterly update")
        return taxpayer.id


def _nino(seed: str) -> str:
    return f"AB{int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**6:06d}C"


def _user(engine: Engine, settings: Settings, email: str, name: str = "Helen Helper") -> int:
    with unit_of_work(engine) as db:
        return factories.user(db, settings, email, name).id


def _client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _invite(client: TestClient, email: str) -> str:
    """Asks someone to help; returns the path of the invitation link to pass on."""
    response = _post(client, "/trusted-helpers/invite", {"email": email})
    assert response.headers["location"] == "/trusted-helpers/invite/check", response.text
    response = _post(client, "/trusted-helpers/invite/check")
    assert response.status_code == 303 and response.headers["location"] == "/trusted-helpers/invite/sent"
    match = INVITE_LINK.search(client.get("/trusted-helpers/invite/sent").text)
    assert match
    return match.group(1)


def _accept(client: TestClient, path: str, decision: str = "accept"):  # type: ignore[no-untyped-def]
    return _post(client, path, {"decision": decision})


def _links(engine: Engine) -> list[HelperLink]:
    with engine.connect() as connection:
        return [HelperLink(**row._mapping) for row in connection.execute(select(HelperLink.__table__))]


def _actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(AuditEvent.action)).scalars())


def _helping(engine: Engine, settings: Settings, app, client: TestClient) -> tuple[int, TestClient]:  # type: ignore[no-untyped-def]
    """Mary asks Helen to help; Helen accepts. Returns Mary's taxpayer id and Helen's signed-in client."""
    taxpayer_id = _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "Helen@Example.com")
    helper = _client(app)
    sign_in(helper, "helen@example.com")
    assert _accept(helper, path).headers["location"] == "/helping"
    return taxpayer_id, helper


def test_a_person_invites_a_helper_who_accepts_and_sees_only_what_a_helper_may(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    taxpayer_id = _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    assert "Nobody is helping you" in client.get("/trusted-helpers").text
    _post(client, "/trusted-helpers/invite", {"email": "Helen@Example.com"})
    check = client.get("/trusted-helpers/invite/check")
    assert "You are asking <strong>helen@example.com</strong> to help you with your tax" in check.text
    assert "deal with your tax returns" in check.text
    _post(client, "/trusted-helpers/invite/check")
    sent = client.get("/trusted-helpers/invite/sent").text
    assert "Send this link to helen@example.com" in sent
    path = INVITE_LINK.search(sent).group(1)  # type: ignore[union-attr]
    assert "Invitation sent" in client.get("/trusted-helpers").text

    with _client(app) as helper:
        sign_in(helper, "helen@example.com")
        offer = helper.get(path)
        assert "Do you want to help Mary Jones?" in offer.text and "tax returns" in offer.text
        accepted = _accept(helper, path)
        assert accepted.status_code == 303 and accepted.headers["location"] == "/helping"
        helping = helper.get("/helping").text
        assert "People you help" in helping and f'href="/clients/{taxpayer_id}">Mary Jones' in helping
        overview = helper.get(f"/clients/{taxpayer_id}")
        assert overview.status_code == 200
        assert "You are helping" in overview.text and 'href="/helping"' in overview.text
        assert "Quarterly update" not in overview.text  # Income Tax is not a helper's to see

    owner_view = client.get(f"/clients/{taxpayer_id}")
    assert "Quarterly update" in owner_view.text and "You are helping" not in owner_view.text
    assert "Helping you" in client.get("/trusted-helpers").text
    [link] = _links(engine)
    assert link.status == "active" and link.invite_token_hash is None and link.accepted_at is not None
    assert link.invited_email == "helen@example.com"
    assert {"helper_invited", "helper_accepted"} <= set(_actions(engine))
    with engine.connect() as connection:
        authority = connection.execute(
            select(AuditEvent.authority).where(AuditEvent.action == "helper_accepted")).scalar_one()
    assert authority == "helper"


def test_only_a_hash_of_the_invitation_token_is_stored(client: TestClient, engine: Engine, settings: Settings) -> None:
    _person(engine, settings)
    sign_in(client, "mary@example.com")
    token = _invite(client, "helen@example.com").rsplit("/", 1)[1]
    [link] = _links(engine)
    assert link.invite_token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_the_invitation_can_only_be_used_once(client: TestClient, app, engine: Engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "helen@example.com")
    with _client(app) as helper:
        sign_in(helper, "helen@example.com")
        token = csrf_from(helper.get(path).text)
        assert helper.post(path, data={"decision": "accept", "csrf_token": token}).status_code == 303
        assert helper.get(path).status_code == 404
        assert helper.post(path, data={"decision": "accept", "csrf_token": token}).status_code == 404


def test_someone_signed_in_with_another_email_cannot_accept(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    _person(engine, settings)
    _user(engine, settings, "eve@example.com", "Eve")
    sign_in(client, "mary@example.com")
    path = _invite(client, "john.smith@example.com")
    with _client(app) as other:
        sign_in(other, "eve@example.com")
        page = other.get(path)
        assert "This invitation was sent to a different email address" in page.text
        assert "j***@example.com" in page.text and "john.smith@example.com" not in page.text
        token = csrf_from(page.text)
        other.post(path, data={"decision": "accept", "csrf_token": token})
    [link] = _links(engine)
    assert link.status == "invited" and link.helper_user_id is None


def test_a_signed_out_helper_is_asked_to_sign_in_or_create_sign_in_details(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    _person(engine, settings)
    sign_in(client, "mary@example.com")
    path = _invite(client, "newhelper@example.com")
    with _client(app) as stranger:
        page = stranger.get(path)
        assert page.status_code == 200 and "Mary Jones has asked you to help them" in page.text
        assert f'href="/sign-in?next={path}"' in page.text and f'href="/sign-up?next={path}"' in page.text
        # Creating sign-in details comes straight back to the invitation, ready to accept.
        token = csrf_from(stranger.get(f"/sign-up?next={path}").text)
        signed_up = stranger.post(f"/sign-up?next={path}", data={
            "name": "New Helper", "email": "newhelper@example.com", "password": "a long enough password",
            "confirm_password": "a long enough password", "csrf_token": token})
        assert signed_up.status_code == 200 and "Check your email" in signed_up.text
        signed_up = follow_emailed_link(stranger, "newhelper@example.com")
        assert signed_up.headers["location"] == path
        assert "Do you want to help Mary Jones?" in stranger.get(path).text
        assert _accept(stranger, path).headers["location"] == "/helping"


def test_an_unknown_or_overlong_token_is_not_found(client: TestClient) -> None:
    assert client.get("/trusted-helpers/accept/not-a-real-token").status_code == 404
    assert client.get("/trusted-helpers/accept/" + "a" * 500).status_code == 404


def test_a_helper_can_help_at_most_five_people(client: TestClient, app, engine: Engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _user(engine, settings, "helen@example.com")
    paths = []
    for n in range(6):
        _person(engine, settings, f"person{n}@example.com", f"Person {n}")
        with _client(app) as person:
            sign_in(person, f"person{n}@example.com")
            paths.append(_invite(person, "helen@example.com"))
    sign_in(client, "helen@example.com")
    for path in paths[:5]:
        assert _accept(client, path).headers["location"] == "/helping"
    refusal = client.get(paths[5])
    assert "You are already helping 5 people" in refusal.text
    token = csrf_from(refusal.text)
    client.post(paths[5], data={"decision": "accept", "csrf_token": token})
    statuses = sorted(link.status for link in _links(engine))
    assert statuses == ["active"] * 5 + ["invited"]


def test_the_person_removes_their_helper_and_access_ends_at_once(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    taxpayer_id, helper = _helping(engine, settings, app, client)
    with helper:
        [link] = _links(engine)
        confirm = client.get(f"/trusted-helpers/remove/{link.id}")
        assert "Are you sure you want to remove Helen Helper?" in confirm.text
        response = _post(client, f"/trusted-helpers/remove/{link.id}")
        assert response.headers["location"] == "/trusted-helpers"
        assert helper.get(f"/clients/{taxpayer_id}").status_code == 404
        assert "You are not helping anyone" in helper.get("/helping").text
    [link] = _links(engine)
    assert (link.status, link.ended_by) == ("ended", "client") and link.ended_at is not None
    assert "helper_removed" in _actions(engine)


def test_the_helper_stops_helping_and_access_ends_at_once(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    taxpayer_id, helper = _helping(engine, settings, app, client)
    with helper:
        [link] = _links(engine)
        assert "Are you sure you want to stop helping Mary Jones?" in helper.get(f"/helping/stop/{link.id}").text
        assert _post(helper, f"/helping/stop/{link.id}").headers["location"] == "/helping"
        assert helper.get(f"/clients/{taxpayer_id}").status_code == 404
        assert helper.get(f"/helping/stop/{link.id}").status_code == 404
    [link] = _links(engine)
    assert (link.status, link.ended_by) == ("ended", "helper")
    assert "Nobody is helping you" in client.get("/trusted-helpers").text
    assert "helper_ended" in _actions(engine)


def test_withdrawing_an_invitation_closes_the_link(client: TestClient, app, engine: Engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "helen@example.com")
    [link] = _links(engine)
    assert "Are you sure you want to withdraw your invitation?" in client.get(f"/trusted-helpers/remove/{link.id}").text
    _post(client, f"/trusted-helpers/remove/{link.id}")
    assert _links(engine)[0].status == "withdrawn"
    with _client(app) as helper:
        sign_in(helper, "helen@example.com")
        assert "This invitation is no longer open" in helper.get(path).text
        token = csrf_from(helper.get(path).text)
        helper.post(path, data={"decision": "accept", "csrf_token": token})
    assert _links(engine)[0].status == "withdrawn"
    assert "helper_invitation_withdrawn" in _actions(engine)


def test_declining_an_invitation(client: TestClient, app, engine: Engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _person(engine, settings)
    _user(engine, settings, "helen@example.com")
    sign_in(client, "mary@example.com")
    path = _invite(client, "helen@example.com")
    with _client(app) as helper:
        sign_in(helper, "helen@example.com")
        assert _accept(helper, path, "decline").headers["location"] == "/helping"
        assert "This invitation was declined" in helper.get(path).text
    assert _links(engine)[0].status == "declined" and "helper_declined" in _actions(engine)


def test_someone_who_does_not_own_the_account_cannot_remove_its_helper(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    _person(engine, settings)
    _person(engine, settings, "other@example.com", "Other Person")
    sign_in(client, "mary@example.com")
    _invite(client, "helen@example.com")
    [link] = _links(engine)
    with _client(app) as other:
        sign_in(other, "other@example.com")
        assert other.get(f"/trusted-helpers/remove/{link.id}").status_code == 404
        token = csrf_from(other.get("/trusted-helpers").text)
        assert other.post(f"/trusted-helpers/remove/{link.id}", data={"csrf_token": token}).status_code == 404
        assert other.get("/trusted-helpers/remove/99999999999").status_code == 404
    assert _links(engine)[0].status == "invited"


def test_a_helper_cannot_reach_the_owners_trusted_helpers_or_agent_pages(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    taxpayer_id, helper = _helping(engine, settings, app, client)
    with helper:
        [link] = _links(engine)
        assert helper.get(f"/trusted-helpers/remove/{link.id}").status_code == 404
        assert "Trusted helpers are for individuals" in helper.get("/trusted-helpers").text
        clients = helper.get("/clients")
        assert clients.status_code == 303 and clients.headers["location"] == "/account"
        assert 'href="/clients"' not in helper.get("/helping").text


def test_you_cannot_ask_yourself_or_the_same_person_twice(client: TestClient, engine: Engine,
                                                         settings: Settings) -> None:
    _person(engine, settings)
    sign_in(client, "mary@example.com")
    yourself = _post(client, "/trusted-helpers/invite", {"email": "MARY@example.com"})
    assert "You cannot ask yourself to help you" in yourself.text
    _invite(client, "helen@example.com")
    again = _post(client, "/trusted-helpers/invite", {"email": "helen@example.com"})
    assert again.status_code == 200 and "You have already asked helen@example.com to help you" in again.text
    assert "Enter the email address of the person" in _post(client, "/trusted-helpers/invite", {"email": ""}).text
    assert "in the correct format" in _post(client, "/trusted-helpers/invite", {"email": "helen"}).text
    assert len(_links(engine)) == 1


def test_a_double_clicked_confirmation_creates_one_invitation(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _person(engine, settings)
    sign_in(client, "mary@example.com")
    _post(client, "/trusted-helpers/invite", {"email": "helen@example.com"})
    token = csrf_from(client.get("/trusted-helpers/invite/check").text)
    assert client.post("/trusted-helpers/invite/check", data={"csrf_token": token}).status_code == 303
    second = client.post("/trusted-helpers/invite/check", data={"csrf_token": token})
    assert second.status_code == 200 and "You have already asked helen@example.com" in second.text
    assert [(link.invited_email, link.status) for link in _links(engine)] == [("helen@example.com", "invited")]


def test_trusted_helpers_are_only_for_individuals(client: TestClient, engine: Engine, settings: Settings) -> None:
    _person(engine, settings, "boss@example.com", "Widgets Ltd", client_type="business")
    sign_in(client, "boss@example.com")
    assert "Trusted helpers are for individuals" in client.get("/trusted-helpers").text
    assert "Trusted helpers are for individuals" in client.get("/trusted-helpers/invite").text


def test_someone_who_helps_nobody_sees_an_empty_state(client: TestClient, engine: Engine, settings: Settings) -> None:
    _user(engine, settings, "helen@example.com")
    sign_in(client, "helen@example.com")
    page = client.get("/helping")
    assert page.status_code == 200 and "You are not helping anyone at the moment" in page.text


def test_an_unconfirmed_address_cannot_accept_an_invitation_until_it_is_confirmed(
    client: TestClient, app, engine: Engine, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    """Issue 12: the invitation reaches whoever proves the address, never an account that has not."""
    _person(engine, settings)
    with unit_of_work(engine) as db:
        unconfirmed = factories.user(db, settings, "unproved@example.com", "Una Proved")
        unconfirmed.email_confirmed_at = None  # made before sign-up asked for confirmation
    sign_in(client, "mary@example.com")
    path = _invite(client, "unproved@example.com")
    with _client(app) as helper:
        sign_in(helper, "unproved@example.com")
        refused = helper.get(path)
        assert refused.status_code == 403 and "Confirm your email address first" in refused.text
        helper.post("/account/security/confirm-email", data={"csrf_token": csrf_from(refused.text)})
        follow_emailed_link(helper, "unproved@example.com")
        assert "Do you want to help Mary Jones?" in helper.get(path).text
