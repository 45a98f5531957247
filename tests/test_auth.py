from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain.models import AuditEvent, UserSession, utcnow
from portal.settings import Settings
from tests.factories import PASSWORD, World, csrf_from, second_step, sign_in


def _post_sign_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def _without_tokens(html: str) -> str:
    return re.sub(r"[0-9a-f]{64}", "TOKEN", html)


def test_an_agent_signs_in_and_lands_on_their_clients(client: TestClient, world: World) -> None:
    response = _post_sign_in(client, "AGENT@example.com ", PASSWORD)
    assert response.status_code == 303
    assert "HttpOnly" in response.headers["set-cookie"] and "SameSite=Lax" in response.headers["set-cookie"]
    second_step(client, response)
    assert client.get("/").headers["location"] == "/clients"
    page = client.get("/clients")
    assert page.status_code == 200 and "Your clients" in page.text


def test_wrong_details_show_the_error_summary_without_saying_whether_the_email_exists(
    client: TestClient, world: World
) -> None:
    wrong_password = _post_sign_in(client, "agent@example.com", "not the password")
    unknown_email = _post_sign_in(client, "nobody@example.com", "not the password")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert "<title>Error: Sign in" in response.text
        assert 'class="govuk-error-summary"' in response.text
        assert '<a href="#email">Enter a correct email address and password</a>' in response.text
        assert "not the password" not in response.text  # a password is never echoed back
    email_field = 'value="agent@example.com"'
    assert _without_tokens(wrong_password.text).replace(email_field, "") == _without_tokens(
        unknown_email.text
    ).replace('value="nobody@example.com"', "")


def test_blank_sign_in_asks_for_each_missing_answer(client: TestClient, world: World) -> None:
    response = _post_sign_in(client, "", "")
    assert "Enter your email address" in response.text and "Enter your password" in response.text
    assert response.text.index("Enter your email address") < response.text.index("Enter your password")


def test_signing_out_ends_the_session_on_the_server(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    stolen_cookie = dict(client.cookies)
    page = client.get("/clients")
    response = client.post("/sign-out", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/signed-out"

    replay = TestClient(client.app, follow_redirects=False, cookies=stolen_cookie)
    assert replay.get("/clients").status_code == 303
    assert replay.get("/clients").headers["location"].startswith("/sign-in")
    with engine.connect() as connection:
        # Every session this browser held (the one before the second step, and the one after) has ended.
        assert all(ended is not None for ended in connection.execute(select(UserSession.ended_at)).scalars())


def test_five_wrong_passwords_lock_the_account_for_everyone_even_after_a_restart(
    client: TestClient, world: World, settings: Settings, engine  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(5):
        _post_sign_in(client, "agent@example.com", "guess")
    # A new app (another worker, or a restart) on the same database still refuses the right password.
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as other_worker:
        response = _post_sign_in(other_worker, "agent@example.com", PASSWORD)
    assert response.status_code == 200
    assert "You have tried to sign in too many times" in response.text
    with engine.connect() as connection:
        actions = connection.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("sign_in_failed") == 5


def test_sign_in_only_returns_to_pages_on_this_site(client: TestClient, world: World) -> None:
    token = csrf_from(client.get("/sign-in").text)
    response = second_step(client, client.post("/sign-in?next=//evil.example/steal", data={
        "email": "agent@example.com", "password": PASSWORD, "csrf_token": token}))
    assert response.headers["location"] == "/"


def test_a_signed_out_person_is_sent_to_sign_in_and_back_again(client: TestClient, world: World) -> None:
    response = client.get("/clients?q=bakery")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fclients%3Fq%3Dbakery"
    token = csrf_from(client.get(response.headers["location"]).text)
    signed_in = second_step(client, client.post(response.headers["location"], data={
        "email": "agent@example.com", "password": PASSWORD, "csrf_token": token}))
    assert signed_in.headers["location"] == "/clients?q=bakery"


def test_a_session_idle_for_more_than_15_minutes_has_ended(client: TestClient, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "agent@example.com")
    with engine.begin() as connection:
        connection.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=16)))
    assert client.get("/clients").status_code == 303


def test_htmx_requests_after_the_session_ends_are_sent_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get("/clients?q=a", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/sign-in")


def test_production_cookies_are_host_only_and_secure(world: World, engine) -> None:  # type: ignore[no-untyped-def]
    production = Settings(database_url="sqlite://", secret_key="k" * 40, environment="production")
    with TestClient(create_app(settings=production, engine=engine), base_url="https://testserver",
                    follow_redirects=False) as secure_client:
        page = secure_client.get("/sign-in")
        assert "__Host-portal_visitor=" in page.headers["set-cookie"] and "Secure" in page.headers["set-cookie"]
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
