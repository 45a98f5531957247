"""The OAuth dance as software does it, through the test client: register, consent, exchange the code."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.testclient import TestClient

from tests.factories import csrf_from, sign_in

V2 = "application/vnd.hmrc.2.0+json"
LOOPBACK = "http://127.0.0.1/callback"
ALL_SCOPES = ("read:sent-invitations write:sent-invitations write:cancel-invitations read:check-relationship "
              "write:relationships read:vat write:vat")


@dataclass
class App:
    client_id: str
    secret: str
    name: str


def register(client: TestClient, name: str = "Ledgerly Desktop", uris: str = LOOPBACK) -> App:
    page = client.get("/developer/applications")
    response = client.post("/developer/applications", data={"name": name, "redirect_uris": uris,
                                                            "csrf_token": csrf_from(page.text)})
    assert response.status_code == 200, response.text
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', response.text)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', response.text)
    assert client_id and secret
    return App(client_id.group(1), secret.group(1), name)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(app: App, challenge: str, scope: str = ALL_SCOPES,
                    redirect_uri: str = "http://127.0.0.1:53117/callback", state: str = "xyz") -> str:
    return urlencode({"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect_uri,
                      "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})


def consent(client: TestClient, app: App, challenge: str, *, decision: str = "allow", scope: str = ALL_SCOPES,
            redirect_uri: str = "http://127.0.0.1:53117/callback") -> dict[str, list[str]]:
    query = authorize_query(app, challenge, scope, redirect_uri)
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    response = client.post(f"/oauth/authorize?{query}", data={"decision": decision,
                                                              "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    return parse_qs(location.query)


def exchange(client: TestClient, app: App, code: str, verifier: str,
             redirect_uri: str = "http://127.0.0.1:53117/callback") -> tuple[int, dict[str, object]]:
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier,
        "client_id": app.client_id, "client_secret": app.secret})
    return response.status_code, response.json()


def access_for(client: TestClient, email: str, scope: str = ALL_SCOPES,
               app: App | None = None) -> tuple[App, dict[str, object]]:
    """Signs `email` in, registers software (unless given), grants it `scope`, and signs out again (the API must
    not lean on the cookie): (the software, its tokens)."""
    sign_in(client, email)
    app = app or register(client)
    verifier, challenge = pkce()
    code = consent(client, app, challenge, scope=scope)["code"][0]
    client.cookies.clear()
    status, tokens = exchange(client, app, code, verifier)
    assert status == 200, tokens
    return app, tokens


class Api:
    def __init__(self, client: TestClient, token: str, arn: str) -> None:
        self.client, self.token, self.arn = client, token, arn

    def __call__(self, method: str, path: str, json: Any = None, *, accept: str | None = V2,
                 **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {self.token}"} | headers
        if accept is not None:
            sent["Accept"] = accept
        return self.client.request(method, path.replace("{arn}", self.arn), json=json, headers=sent)
