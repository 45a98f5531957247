"""Issue 12: 2-step verification at sign-in, the half-signed-in session, recovery codes, new session identifiers,
and the limits on wrong codes."""

from __future__ import annotations

import dataclasses
import re

import pyotp
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain.account_models import RecoveryCode, SecondFactor
from portal.domain.models import AuditEvent, Membership, UserSession
from portal.settings import Settings
from tests import factories
from tests.factories import PASSWORD, TOTP_SECRET, World, allow_code_again, csrf_from, sign_in, totp_code


def _password(client: TestClient, email: str, password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password,
                                  "csrf_token": csrf_from(client.get("/sign-in").text)})


def _code(client: TestClient, code: str, url: str = "/sign-in/second-step"):  # type: ignore[no-untyped-def]
    return client.post(url, data={"code": code, "csrf_token": csrf_from(client.get(url).text)})


def _newcomer_agent(engine: Engine, settings: Settings, world: World, email: str = "new-agent@example.com") -> None:
    """A firm member with no 2-step verification yet (added before it was mandatory)."""
    with Session(engine) as db:
        person = factories.user(db, settings, email)
        db.add(Membership(firm_id=world.firm.id, user_id=person.id, role="standard"))
        db.commit()


def _secret_shown(html: str) -> str:
    match = factories.SECRET_KEY_SHOWN.search(html)
    assert match
    return match.group(1).replace(" ", "")


# --- setting it up ------------------------------------------------------------------------------------------------


def test_an_agent_without_2_step_sets_it_up_at_sign_in_before_anything_else(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    _newcomer_agent(engine, settings, world)
    response = _password(client, "new-agent@example.com", next_url="/clients")
    assert response.headers["location"] == "/sign-in/set-up-2-step?next=%2Fclients"
    # Nothing else is reachable meanwhile: straight to a page, and the set-up asked for again.
    for path in ("/clients", "/account", "/whats-due", "/register/firm-name", "/account/security"):
        refused = client.get(path)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in/second-step"), path
    assert client.get("/sign-in/second-step").headers["location"] == "/sign-in/set-up-2-step"
    page = client.get("/sign-in/set-up-2-step?next=%2Fclients")
    assert page.status_code == 200 and "<svg" in page.text and "You can use any authenticator app" in page.text
    secret = _secret_shown(page.text)
    assert page.text.count(factories.SECRET_KEY_SHOWN.search(page.text).group(1)) == 1  # type: ignore[union-attr]
    wrong = client.post("/sign-in/set-up-2-step?next=%2Fclients",
                        data={"code": "000000", "csrf_token": csrf_from(page.text)})
    assert "The code you entered is not correct" in wrong.text
    assert _secret_shown(wrong.text) == secret  # the same secret until it is set up
    done = client.post("/sign-in/set-up-2-step?next=%2Fclients",
                       data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(wrong.text)})
    assert done.status_code == 200 and "Save your recovery codes" in done.text
    codes = re.findall(r"<code>([A-Z0-9-]{14})</code>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/clients"' in done.text
    assert client.get("/clients").status_code == 200
    with engine.connect() as connection:
        stored = connection.execute(select(RecoveryCode.code_hash)).scalars().all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept


def test_someone_who_is_not_an_agent_signs_in_with_a_password_alone_and_may_add_2_step(
    client: TestClient, world: World
) -> None:
    response = _password(client, "jane@example.com")
    assert response.headers["location"] == "/"
    page = client.get("/account/security")
    assert page.status_code == 200 and "We recommend you set it up" in page.text
    setup = client.get("/account/security/authenticator-app")
    secret = _secret_shown(setup.text)
    added = client.post("/account/security/authenticator-app",
                        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)})
    assert "Save your recovery codes" in added.text
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
    assert _password(client, "jane@example.com").headers["location"] == "/sign-in/second-step"


# --- the second step at sign-in -------------------------------------------------------------------------------------


def test_a_code_from_the_app_completes_sign_in_and_each_code_works_once(client: TestClient, world: World,
                                                                        app) -> None:  # type: ignore[no-untyped-def]
    response = _password(client, "agent@example.com", next_url="/whats-due")
    assert response.headers["location"] == "/sign-in/second-step?next=%2Fwhats-due"
    page = client.get(response.headers["location"])
    assert "Enter the 6 digit code from your authenticator app" in page.text
    assert 'autocomplete="one-time-code"' in page.text
    for typed, message in (("", "Enter the 6 digit code"), ("12ab56", "Enter the code using only 6 digits")):
        assert message in _code(client, typed).text
    code = totp_code()
    allow_code_again(client)
    done = client.post("/sign-in/second-step?next=%2Fwhats-due",
                       data={"code": code, "csrf_token": csrf_from(page.text)})
    assert done.headers["location"] == "/whats-due"
    assert client.get("/whats-due").status_code == 200
    # The same code again, in another browser that knows the password: refused (no replay within its 30 s).
    with TestClient(app, follow_redirects=False) as other:
        _password(other, "agent@example.com")
        assert "The code you entered is not correct" in _code(other, code).text


def test_five_wrong_codes_lock_the_second_step_for_two_hours_on_every_worker(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    _password(client, "agent@example.com")
    for _ in range(5):
        assert "The code you entered is not correct" in _code(client, "000000").text
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as other_worker:
        _password(other_worker, "agent@example.com")
        allow_code_again(other_worker)
        locked = other_worker.get("/sign-in/second-step")
        assert locked.status_code == 429 and "wait 2 hours" in locked.text
        token = csrf_from(other_worker.get("/sign-in").text)
        refused = other_worker.post("/sign-in/second-step", data={"code": totp_code(), "csrf_token": token})
        assert refused.status_code == 429
        assert other_worker.get("/clients").status_code == 303


def test_a_recovery_code_signs_in_once(client: TestClient, world: World, engine: Engine, app) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "jane@example.com")
    setup = client.get("/account/security/authenticator-app")
    secret = _secret_shown(setup.text)
    shown = client.post("/account/security/authenticator-app",
                        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)})
    codes = re.findall(r"<code>([A-Z0-9-]{14})</code>", shown.text)
    with TestClient(app, follow_redirects=False) as lost_phone:
        _password(lost_phone, "jane@example.com")
        page = lost_phone.get("/sign-in/recovery-code")
        used = lost_phone.post("/sign-in/recovery-code", data={"recovery_code": codes[3].lower(),
                                                               "csrf_token": csrf_from(page.text)})
        assert used.headers["location"] == "/"
        assert lost_phone.get("/account").status_code == 200
    with TestClient(app, follow_redirects=False) as again:
        _password(again, "jane@example.com")
        page = again.get("/sign-in/recovery-code")
        refused = again.post("/sign-in/recovery-code", data={"recovery_code": codes[3],
                                                             "csrf_token": csrf_from(page.text)})
        assert "has been used" in refused.text
    emails = factories.emails_to(client, "jane@example.com")
    assert any("You have 9 left" in email.text for email in emails)


# --- sessions -----------------------------------------------------------------------------------------------------


def test_the_session_identifier_changes_at_sign_in_and_after_the_second_step(
    client: TestClient, world: World, engine: Engine, app  # type: ignore[no-untyped-def]
) -> None:
    client.get("/sign-in")
    response = _password(client, "agent@example.com")
    half_cookie = dict(client.cookies)
    allow_code_again(client)
    _code(client, totp_code())
    full_cookie = dict(client.cookies)
    assert half_cookie != full_cookie
    with TestClient(app, follow_redirects=False, cookies=half_cookie) as replay:  # the half session has ended
        assert replay.get("/sign-in/second-step").headers["location"].startswith("/sign-in")
        assert replay.get("/clients").headers["location"].startswith("/sign-in?")
    # Signing in again in the same browser ends the session it held.
    sign_in(client, "agent@example.com")
    with TestClient(app, follow_redirects=False, cookies=full_cookie) as replay:
        assert replay.get("/clients").status_code == 303
    with engine.connect() as connection:
        open_sessions = connection.execute(select(UserSession.id).where(UserSession.ended_at.is_(None))).all()
    assert len(open_sessions) == 1
    assert response.status_code == 303


def test_a_half_signed_in_session_reaches_no_page_and_no_journey(client: TestClient, world: World) -> None:
    _password(client, "jane@example.com")  # Jane has no second step: straight in, the control case
    assert client.get("/account").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
    _password(client, "agent@example.com")
    # The start page is the signed-out one: a half session looks like no session everywhere.
    start = client.get("/")
    assert start.status_code == 200 and "/sign-out" not in start.text
    paths = ["/clients", f"/clients/{world.vat_client.id}", "/whats-due", "/authorisation-requests",
             "/register/check-your-answers", "/trusted-helpers", "/manage-your-tax-agents", "/account/team",
             "/authorisation-response/1/consent", "/account/emails"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (303, 404) or "Enter the 6 digit code" in response.text, path
        if response.status_code == 303:
            assert "/sign-in" in response.headers["location"], path
    assert client.get("/keep-alive").status_code == 401  # nothing to keep alive before the second step
    htmx = client.get("/clients?q=a", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/sign-in/second-step")


def test_signing_out_half_way_ends_only_that_session(client: TestClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as desk:
        sign_in(desk, "agent@example.com")
        _password(client, "agent@example.com")
        page = client.get("/sign-in/second-step")
        assert client.post("/sign-out", data={"csrf_token": csrf_from(page.text)}).status_code == 303
        assert client.get("/sign-in/second-step").headers["location"].startswith("/sign-in")
        assert desk.get("/clients").status_code == 200


def test_codes_are_checked_against_the_enrolled_secret_only(client: TestClient, world: World) -> None:
    _password(client, "agent@example.com")
    assert "not correct" in _code(client, pyotp.TOTP(pyotp.random_base32()).now()).text
    allow_code_again(client)
    assert _code(client, pyotp.TOTP(TOTP_SECRET).now()).status_code == 303


def test_two_step_failures_are_audited(client: TestClient, world: World, engine: Engine) -> None:
    _password(client, "agent@example.com")
    _code(client, "000000")
    with engine.connect() as connection:
        actions = connection.execute(select(AuditEvent.action)).scalars().all()
    assert "password_accepted" in actions and "second_step_failed" in actions


def test_an_administrator_resets_a_team_members_2_step(client: TestClient, world: World, engine: Engine,
                                                      settings: Settings, app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as staff:
        sign_in(staff, "staff@example.com")
        assert staff.get("/account/team").status_code == 404  # a standard user has no team page
        assert staff.get(f"/account/team/{world.agent.id}/reset-2-step").status_code == 404
        sign_in(client, "agent@example.com")
        team = client.get("/account/team")
        assert team.status_code == 200 and "staff@example.com" in team.text
        assert client.get(f"/account/team/{world.other_agent.id}/reset-2-step").status_code == 404  # other firm
        page = client.get(f"/account/team/{world.staff.id}/reset-2-step")
        done = client.post(f"/account/team/{world.staff.id}/reset-2-step", data={"csrf_token": csrf_from(page.text)})
        assert done.headers["location"] == "/account/team?reset=done"
        assert staff.get("/clients").status_code == 303  # signed out at once
    with engine.connect() as connection:
        assert connection.execute(select(SecondFactor.id).where(SecondFactor.user_id == world.staff.id)).first() is None
        event = connection.execute(select(AuditEvent).where(AuditEvent.action == "second_step_reset")).one()
    assert event.actor_user_id == world.agent.id and event.detail["member_user_id"] == world.staff.id
    assert "reset your 2-step verification" in factories.last_email_to(client, "staff@example.com").text
    with TestClient(app, follow_redirects=False) as staff:
        assert _password(staff, "staff@example.com").headers["location"] == "/sign-in/set-up-2-step"


def test_an_agent_cannot_remove_their_only_method_but_may_after_adding_another(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "agent@example.com")
    with engine.connect() as connection:
        factor_id = connection.execute(
            select(SecondFactor.id).where(SecondFactor.user_id == world.agent.id)).scalar_one()
    assert client.get(f"/account/security/methods/{factor_id}/remove").status_code == 403
    with engine.begin() as connection:  # two methods now
        connection.execute(update(SecondFactor).values(counter=0))
        connection.execute(SecondFactor.__table__.insert().values(  # type: ignore[attr-defined]
            user_id=world.agent.id, kind="totp", label="Second phone", secret=pyotp.random_base32(), counter=0,
            created_at=factories.utcnow()))
    page = client.get(f"/account/security/methods/{factor_id}/remove")
    assert page.status_code == 200
    removed = client.post(f"/account/security/methods/{factor_id}/remove", data={"csrf_token": csrf_from(page.text)})
    assert removed.headers["location"] == "/account/security?changed=method"
    assert "You removed a way to get security codes" in factories.last_email_to(client, "agent@example.com").text


def test_changing_methods_asks_for_the_second_step_again_after_five_minutes(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "agent@example.com")
    assert client.get("/account/security/authenticator-app").status_code == 200  # just signed in: recent
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(
            reauthenticated_at=factories.utcnow() - factories.timedelta(minutes=6)))
    asked = client.get("/account/security/authenticator-app")
    assert asked.headers["location"] == ("/account/security/confirm-it-is-you"
                                         "?next=%2Faccount%2Fsecurity%2Fauthenticator-app")
    page = client.get(asked.headers["location"])
    wrong = client.post(asked.headers["location"], data={"code": "000000", "csrf_token": csrf_from(page.text)})
    assert "not correct" in wrong.text
    allow_code_again(client)
    before = dict(client.cookies)
    right = client.post(asked.headers["location"], data={"code": totp_code(), "csrf_token": csrf_from(page.text)})
    assert right.headers["location"] == "/account/security/authenticator-app"
    assert client.get("/account/security/authenticator-app").status_code == 200
    # Re-authentication gives the session a new identifier too (ASVS 5.0 7.2.4): the old cookie is worthless.
    assert dict(client.cookies) != before
    with TestClient(client.app, follow_redirects=False, cookies=before) as replay:
        assert replay.get("/clients").status_code == 303


def test_settings_hold_the_code_limits(settings: Settings, engine: Engine, world: World) -> None:
    strict = dataclasses.replace(settings, two_step_attempts_allowed=1)
    with TestClient(create_app(settings=strict, engine=engine), follow_redirects=False) as client:
        _password(client, "agent@example.com")
        _code(client, "000000")
        assert client.get("/sign-in/second-step").status_code == 429


def test_a_forged_passkey_answer_is_refused_and_counted(client: TestClient, world: World, engine: Engine) -> None:
    _password(client, "agent@example.com")
    page = client.get("/sign-in/second-step")
    refused = client.post("/sign-in/passkey", data={"credential": '{"id": "forged", "response": {}}',
                                                    "csrf_token": csrf_from(page.text)})
    assert "Your passkey or security key could not be checked" in refused.text and 'href="#passkey"' in refused.text
    assert client.get("/clients").status_code == 303
    with engine.connect() as connection:
        assert "second_step_failed" in connection.execute(select(AuditEvent.action)).scalars().all()


def test_resetting_a_members_2_step_asks_the_administrator_for_their_own_second_step_first(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "agent@example.com")
    with engine.begin() as connection:  # signed in a while ago: the second step is no longer recent
        connection.execute(update(UserSession).values(
            reauthenticated_at=factories.utcnow() - factories.timedelta(minutes=6)))
    reset_url = f"/account/team/{world.staff.id}/reset-2-step"
    confirm_url = "/account/security/confirm-it-is-you?next=%2Faccount%2Fteam%2F" + f"{world.staff.id}%2Freset-2-step"
    asked = client.get(reset_url)
    assert asked.status_code == 303 and asked.headers["location"] == confirm_url
    # A POST straight at the reset (a page left open, a forged form) is refused the same way and changes nothing.
    team_page = client.get("/account/team")
    refused = client.post(reset_url, data={"csrf_token": csrf_from(team_page.text)})
    assert refused.status_code == 303 and refused.headers["location"] == confirm_url
    with engine.connect() as connection:
        assert connection.execute(select(SecondFactor.id).where(SecondFactor.user_id == world.staff.id)).first()
        assert connection.execute(select(AuditEvent.id).where(AuditEvent.action == "second_step_reset")).first() is None
    page = client.get(confirm_url)
    assert "Before you reset a team member’s 2-step verification, we need to check it is you." in page.text
    wrong = client.post(confirm_url, data={"code": "000000", "csrf_token": csrf_from(page.text)})
    assert wrong.status_code == 200 and "not correct" in wrong.text
    allow_code_again(client)
    right = client.post(confirm_url, data={"code": totp_code(), "csrf_token": csrf_from(page.text)})
    assert right.headers["location"] == reset_url  # back to the reset, now allowed
    page = client.get(reset_url)
    assert page.status_code == 200
    done = client.post(reset_url, data={"csrf_token": csrf_from(page.text)})
    assert done.headers["location"] == "/account/team?reset=done"
    with engine.connect() as connection:
        actions = connection.execute(select(AuditEvent.action, AuditEvent.detail)
                                     .where(AuditEvent.actor_user_id == world.agent.id)).all()
    names = [action for action, _ in actions]
    assert names.index("reauthenticated") < names.index("second_step_reset")
    reset_detail = next(detail for action, detail in actions if action == "second_step_reset")
    assert reset_detail["reauthenticated_at"]


def test_the_confirm_it_is_you_page_returns_only_to_the_security_and_team_pages(client: TestClient,
                                                                                world: World) -> None:
    sign_in(client, "agent@example.com")
    for elsewhere in ("https://evil.example/", "//evil.example/account/team/", "/clients"):
        page = client.get("/account/security/confirm-it-is-you", params={"next": elsewhere})
        allow_code_again(client)
        right = client.post(f"/account/security/confirm-it-is-you?next={elsewhere}",
                            data={"code": totp_code(), "csrf_token": csrf_from(page.text)})
        assert right.headers["location"] == "/account/security", elsewhere


def test_an_authenticator_apps_key_is_sealed_in_the_database_and_opens_only_for_its_person(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    with engine.connect() as connection:
        stored = connection.execute(select(SecondFactor.secret).where(SecondFactor.user_id == world.agent.id)
                                    ).scalar_one()
    assert stored.startswith("sealed1:") and TOTP_SECRET not in stored
    with engine.begin() as connection:  # someone with write access moves the agent's sealed key to staff's row
        connection.execute(update(SecondFactor).where(SecondFactor.user_id == world.staff.id).values(secret=stored))
    _password(client, "staff@example.com")
    assert "not correct" in _code(client, totp_code()).text  # it does not open there
    other_key = dataclasses.replace(settings, secret_key="another-portal-" + "y" * 40)
    with TestClient(create_app(settings=other_key, engine=engine), follow_redirects=False) as elsewhere:
        _password(elsewhere, "agent@example.com")
        allow_code_again(elsewhere)
        assert "not correct" in _code(elsewhere, totp_code()).text  # nor under another portal's secret key


def test_recovery_codes_are_salted_argon2id_hashes(client: TestClient, world: World, engine: Engine,
                                                   settings: Settings) -> None:
    from portal.domain import two_step
    with Session(engine) as db:
        codes = two_step.new_recovery_codes(db, settings, world.client_user.id)
        db.commit()
        stored = db.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert all(h.startswith("$argon2id$") for h in stored) and len({h.split("$")[4] for h in stored}) == 10
        assert two_step.use_recovery_code(db, settings, world.client_user.id, codes[3].lower())
        assert not two_step.use_recovery_code(db, settings, world.client_user.id, codes[3])  # once only
        assert not two_step.use_recovery_code(db, settings, world.agent.id, codes[4])  # only its own person's
        assert two_step.recovery_codes_left(db, world.client_user.id) == 9
