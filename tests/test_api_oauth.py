"""OAuth 2.0 for the API (issue 14 "Access"): Authlib's code grant with PKCE, rotation, revocation; the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal.domain.accounts import token_hash
from portal.domain.api_models import ApiApplication, ApiToken
from portal.domain.models import AuditEvent
from tests.factories import World, csrf_from, sign_in
from tests.oauth_dance import access_for, authorize_query, consent, exchange, pkce, register


def one(engine: Engine, query: Any) -> Any:
    """One row, read in a session of its own: the in-memory test database is one connection, shared with the app."""
    with Session(engine) as session:
        return session.execute(query).scalar_one()


def test_a_developer_registers_software_and_sees_its_secret_once(client: TestClient, world: World,
                                                                  engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    app = register(client, uris="http://127.0.0.1/callback\nhttps://ledgerly.example/cb")
    stored = one(engine, select(ApiApplication))
    assert stored.client_secret_hash == token_hash(app.secret) and app.secret not in stored.client_secret_hash
    listing = client.get("/developer/applications").text
    assert app.client_id in listing and app.secret not in listing


def test_redirect_uris_must_be_https_or_the_loopback(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/developer/applications")
    for bad in ("http://ledgerly.example/cb", "ftp://x/y", "not a uri", ""):
        response = client.post("/developer/applications", data={"name": "X", "redirect_uris": bad,
                                                                "csrf_token": csrf_from(page.text)})
        assert response.status_code == 400 and "govuk-error-summary" in response.text


def test_the_consent_page_lists_scopes_in_plain_words_and_needs_sign_in(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    client.cookies.clear()
    _verifier, challenge = pkce()
    query = authorize_query(app, challenge, scope="read:sent-invitations write:vat")
    response = client.get(f"/oauth/authorize?{query}")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")
    sign_in(client, "agent@example.com")
    page = client.get(f"/oauth/authorize?{query}").text
    assert "Allow Ledgerly Desktop to act for you" in page
    assert "see the authorisation requests your firm has sent in the last 30 days" in page
    assert "send VAT returns for your clients" in page and "end your firm" not in page


def test_an_unknown_redirect_address_is_never_followed(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    _verifier, challenge = pkce()
    response = client.get("/oauth/authorize?" + authorize_query(app, challenge, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and "location" not in response.headers


def test_a_person_without_an_agent_services_account_cannot_grant(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    client.cookies.clear()
    sign_in(client, "jane@example.com")
    _verifier, challenge = pkce()
    assert client.get("/oauth/authorize?" + authorize_query(app, challenge)).status_code == 403


def test_the_code_grant_with_pkce_gives_4_hour_tokens_stored_hashed(client: TestClient, world: World,
                                                                    engine: Engine) -> None:
    app, tokens = access_for(client, "agent@example.com")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 4 * 60 * 60
    row = one(engine, select(ApiToken))
    assert row.access_token_hash == token_hash(str(tokens["access_token"]))
    assert row.refresh_token_hash == token_hash(str(tokens["refresh_token"]))
    granted = one(engine, select(AuditEvent).where(col(AuditEvent.action) == "api_access_granted"))
    assert granted.detail["application"] == "Ledgerly Desktop"


def test_a_code_works_once_and_only_with_its_verifier(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    verifier, challenge = pkce()
    code = consent(client, app, challenge)["code"][0]
    assert exchange(client, app, code, "x" * 50)[0] == 400
    verifier2, challenge2 = pkce()
    code2 = consent(client, app, challenge2)["code"][0]
    assert exchange(client, app, code2, verifier2)[0] == 200
    status, body = exchange(client, app, code2, verifier2)
    assert status == 400 and body["error"] == "invalid_grant"


def test_pkce_is_required(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    response = client.get(f"/oauth/authorize?response_type=code&client_id={app.client_id}"
                          "&redirect_uri=http://127.0.0.1:5000/callback&scope=read:vat&state=s")
    assert response.status_code == 302 and "error=invalid_request" in response.headers["location"]


def test_denying_sends_the_software_access_denied(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    app = register(client)
    _verifier, challenge = pkce()
    answer = consent(client, app, challenge, decision="deny")
    assert answer["error"] == ["access_denied"] and answer["state"] == ["xyz"]


def test_refresh_tokens_rotate_and_work_once(client: TestClient, world: World) -> None:
    app, tokens = access_for(client, "agent@example.com")
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app.client_id,
            "client_secret": app.secret}
    first = client.post("/oauth/token", data=form)
    assert first.status_code == 200, first.text
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    again = client.post("/oauth/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    wrong_secret = client.post("/oauth/token", data={**form, "refresh_token": first.json()["refresh_token"],
                                                     "client_secret": "wrong"})
    assert wrong_secret.status_code == 401


def test_revocation_rfc7009_ends_the_grant(client: TestClient, world: World, engine: Engine) -> None:
    app, tokens = access_for(client, "agent@example.com")
    response = client.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": app.client_id,
                                                  "client_secret": app.secret})
    assert response.status_code == 200
    row = one(engine, select(ApiToken))
    assert row.access_revoked_at is not None and row.refresh_revoked_at is not None
    refresh = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                                "client_id": app.client_id, "client_secret": app.secret})
    assert refresh.status_code == 400


def test_an_agent_sees_and_revokes_connected_applications(client: TestClient, world: World, engine: Engine) -> None:
    access_for(client, "agent@example.com")
    sign_in(client, "agent@example.com")
    page = client.get("/account/connected-applications")
    assert "Ledgerly Desktop" in page.text
    application = one(engine, select(ApiApplication))
    response = client.post("/account/connected-applications", data={
        "application_id": application.id, "user_id": world.agent.id, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert "Ledgerly Desktop" not in client.get("/account/connected-applications").text
    assert one(engine, select(ApiToken)).access_revoked_at is not None


def test_a_firm_admin_sees_and_revokes_the_firms_and_staff_only_their_own(client: TestClient, world: World,
                                                                          engine: Engine) -> None:
    access_for(client, "staff@example.com")
    client.cookies.clear()
    access_for(client, "other@example.com")  # another firm's: never shown to Harbour's administrator
    sign_in(client, "agent@example.com")
    page = client.get("/account/connected-applications")
    assert page.text.count("Ledgerly Desktop") >= 1 and "Others in Harbour Tax" in page.text
    staff_app = one(engine, select(ApiToken).where(col(ApiToken.user_id) == world.staff.id))
    other_app = one(engine, select(ApiToken).where(col(ApiToken.user_id) == world.other_agent.id))
    token = csrf_from(page.text)
    client.post("/account/connected-applications", data={"application_id": other_app.application_id,
                                                          "user_id": world.other_agent.id, "csrf_token": token})
    client.post("/account/connected-applications", data={"application_id": staff_app.application_id,
                                                          "user_id": world.staff.id, "csrf_token": token})
    assert one(engine, select(ApiToken).where(col(ApiToken.id) == staff_app.id)).refresh_revoked_at is not None
    assert one(engine, select(ApiToken).where(col(ApiToken.id) == other_app.id)).refresh_revoked_at is None


def test_pages_accept_no_bearer_token(client: TestClient, world: World) -> None:
    _app, tokens = access_for(client, "agent@example.com")
    response = client.get("/clients", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
