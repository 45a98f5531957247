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
from tests.oauth_dance import Api, access_for, authorize_query, consent, exchange, pkce, register


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


def _refresh(client: TestClient, app: Any, refresh_token: object) -> Any:
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                             "client_id": app.client_id, "client_secret": app.secret})


def _grant_rows(engine: Engine, grant_id: str) -> list[ApiToken]:
    with Session(engine) as session:
        return list(session.execute(select(ApiToken).where(col(ApiToken.grant_id) == grant_id)
                                    .order_by(col(ApiToken.id))).scalars())


def test_a_reused_refresh_token_is_refused_and_revokes_its_whole_grant(client: TestClient, world: World,
                                                                      engine: Engine) -> None:
    """RFC 9700 §4.14.2: a used refresh token presented again means a copy is loose; every token of the grant
    ends, the newest included, so whoever holds them must go back to the agent."""
    app, tokens = access_for(client, "agent@example.com")
    first = _refresh(client, app, tokens["refresh_token"])
    assert first.status_code == 200, first.text
    newest = first.json()
    api = Api(client, str(newest["access_token"]), world.firm.arn)
    assert api("GET", "/agents/{arn}/invitations").status_code in (200, 204)  # the rotated token works...

    reused = _refresh(client, app, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert reused.headers["cache-control"] == "no-store"

    assert api("GET", "/agents/{arn}/invitations").status_code == 401  # the newest access token is dead
    assert _refresh(client, app, newest["refresh_token"]).status_code == 400  # and so is its refresh token
    grant_id = one(engine, select(ApiToken.grant_id).where(
        col(ApiToken.access_token_hash) == token_hash(str(tokens["access_token"]))))
    rows = _grant_rows(engine, grant_id)
    assert len(rows) == 2
    assert all(row.access_revoked_at is not None and row.refresh_revoked_at is not None for row in rows)
    event = one(engine, select(AuditEvent).where(col(AuditEvent.action) == "api_refresh_token_reused"))
    assert event.actor_user_id == world.agent.id and event.firm_id == world.firm.id
    assert event.detail["application"] == "Ledgerly Desktop" and event.detail["tokens_revoked"] == 1


def test_a_reuse_ends_only_its_own_grant(client: TestClient, world: World, engine: Engine) -> None:
    """The same agent's other consent to the same software (a second computer) is another grant: it lives on."""
    app, laptop = access_for(client, "agent@example.com")
    _app, desktop = access_for(client, "agent@example.com", app=app)
    assert _refresh(client, app, laptop["refresh_token"]).status_code == 200
    assert _refresh(client, app, laptop["refresh_token"]).status_code == 400  # reused
    assert Api(client, str(desktop["access_token"]), world.firm.arn)("GET", "/agents/{arn}/invitations"
                                                                     ).status_code in (200, 204)
    assert _refresh(client, app, desktop["refresh_token"]).status_code == 200


def test_a_revoked_refresh_token_is_refused_without_a_reuse_alarm(client: TestClient, world: World,
                                                                  engine: Engine) -> None:
    """Revoked (RFC 7009) is not used: refused as before, and not audited as a reuse."""
    app, tokens = access_for(client, "agent@example.com")
    client.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": app.client_id,
                                       "client_secret": app.secret})
    assert _refresh(client, app, tokens["refresh_token"]).status_code == 400
    with Session(engine) as session:
        assert session.execute(select(AuditEvent).where(
            col(AuditEvent.action) == "api_refresh_token_reused")).first() is None


def test_another_applications_client_cannot_trip_the_reuse_alarm(client: TestClient, world: World,
                                                                  engine: Engine) -> None:
    """Presented by other software, a used refresh token is only unknown: it must not let that software end
    someone else's grant."""
    app, tokens = access_for(client, "agent@example.com")
    assert _refresh(client, app, tokens["refresh_token"]).status_code == 200
    sign_in(client, "agent@example.com")
    other = register(client, name="Other Software")
    client.cookies.clear()
    assert _refresh(client, other, tokens["refresh_token"]).status_code == 400
    with Session(engine) as session:
        assert session.execute(select(AuditEvent).where(
            col(AuditEvent.action) == "api_refresh_token_reused")).first() is None


def test_the_consent_page_lets_its_form_lead_back_to_the_software_and_no_further(client: TestClient,
                                                                                 world: World) -> None:
    """Browsers hold the redirect that answers the consent form to the page's CSP form-action: the page names the
    software's registered address (the one asked for), and every other page keeps form-action 'self' alone."""
    sign_in(client, "agent@example.com")
    app = register(client)
    _verifier, challenge = pkce()
    page = client.get("/oauth/authorize?" + authorize_query(app, challenge,
                                                            redirect_uri="http://127.0.0.1:53117/callback"))
    policies = page.headers.get_list("content-security-policy")
    assert len(policies) == 1 and "form-action 'self' http://127.0.0.1:53117;" in policies[0]
    assert "frame-ancestors 'none'" in policies[0]
    elsewhere = client.get("/account/connected-applications").headers.get_list("content-security-policy")
    assert len(elsewhere) == 1 and "form-action 'self';" in elsewhere[0]


def test_the_consent_pages_extra_form_action_is_only_ever_an_origin() -> None:
    from portal.areas.api_access import _origin

    assert _origin("http://127.0.0.1:53117/callback") == "http://127.0.0.1:53117"
    assert _origin("https://user:pw@ledgerly.example/cb?x=1") == "https://ledgerly.example"
    assert _origin("http://[::1]:8080/cb") == "http://[::1]:8080"
    assert _origin("javascript:alert(1)") is None and _origin("http://a b/") is None
