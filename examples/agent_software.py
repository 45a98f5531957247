#!/usr/bin/env python3
"""Agents' software, as a vendor writes it: the OAuth dance with a loopback redirect, then HMRC-shaped calls.

Standard library only. Register your software first (sign in, go to /developer/applications, redirect URI
`http://127.0.0.1/callback`: any port is then accepted), then:

    python3 examples/agent_software.py --client-id ID --client-secret SECRET --arn ARN

It prints the consent address: open it, sign in as the agent (demo: agent@example.com) and allow access; the
browser is sent back to this script's loopback listener with the code. The script then asks Meadow Print Works
Ltd (VRN 042424213) for authorisation, accepts as the client through test support (development only), checks the
relationship and sends a VAT return for the client's oldest open period that has ended.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

SCOPES = ("read:sent-invitations write:sent-invitations read:check-relationship write:relationships read:vat "
          "write:vat")
AUTH_V2, VAT_V1 = "application/vnd.hmrc.2.0+json", "application/vnd.hmrc.1.0+json"


class Loopback(HTTPServer):
    """Listens on 127.0.0.1, on a port the system picks, for the one redirect that carries the code."""

    def __init__(self) -> None:
        self.answer: dict[str, str] = {}
        self.done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (the name http.server calls)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                outer.answer = {key: values[0] for key, values in query.items()}
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"You can close this window and return to your software.")
                outer.done.set()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"


def call(method: str, url: str, *, token: str | None = None, accept: str = AUTH_V2, body: Any = None,
         form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    sent = {"Accept": accept} | (headers or {})
    data = None
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, sent["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    for _attempt in range(5):
        request = urllib.request.Request(url, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, got, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as refused:
            status, got, raw = refused.code, refused.headers, refused.read()
        if status == 429 and got.get("Retry-After", "").isdigit() and int(got["Retry-After"]) <= 5:
            time.sleep(int(got["Retry-After"]))  # 3 requests a second per application: back off, as HMRC asks
            continue
        break
    return status, {key.lower(): value for key, value in got.items()}, json.loads(raw) if raw else None


def get_tokens(base_url: str, client_id: str, client_secret: str, show: Callable[[str], None]) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    loopback = Loopback()
    threading.Thread(target=loopback.serve_forever, daemon=True).start()
    try:
        show(f"{base_url}/oauth/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": loopback.redirect_uri,
            "scope": SCOPES, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}))
        if not loopback.done.wait(timeout=600):
            raise SystemExit("No answer from the browser within 10 minutes")
    finally:
        loopback.shutdown()
        loopback.server_close()
    if loopback.answer.get("state") != state or "code" not in loopback.answer:
        raise SystemExit(f"Access was not granted: {loopback.answer}")
    status, _, tokens = call("POST", f"{base_url}/oauth/token", accept="application/json", form={
        "grant_type": "authorization_code", "code": loopback.answer["code"], "redirect_uri": loopback.redirect_uri,
        "code_verifier": verifier, "client_id": client_id, "client_secret": client_secret})
    if status != 200:
        raise SystemExit(f"Token exchange failed: {status} {tokens}")
    return dict(tokens)


def run(base_url: str, client_id: str, client_secret: str, arn: str, vrn: str,
        show: Callable[[str], None] = print, say: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole journey; returns what it learnt, for a test to check."""
    token = get_tokens(base_url, client_id, client_secret, show)["access_token"]
    say("Access granted.")
    status, _, facts = call("GET", f"{base_url}/agent-authorisation-test-support/known-facts/mtd-vat/vrn/{vrn}",
                            token=token)
    assert status == 200, (status, facts)
    status, headers, body = call("POST", f"{base_url}/agents/{arn}/invitations", token=token, body=facts,
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    if status != 204:
        raise SystemExit(f"Could not create the request: {status} {body}")
    location = headers["location"]
    invitation_id = location.rsplit("/", 1)[1]
    say(f"Asked the client: {location}")
    status, _, body = call("PUT", f"{base_url}/agent-authorisation-test-support/known-facts/invitations/"
                                  f"{invitation_id}", token=token)
    assert status == 204, (status, body)
    say("The client accepted (through test support).")
    check = {key: facts[key] for key in ("service", "clientIdType", "clientId", "knownFact")}
    status, _, body = call("POST", f"{base_url}/agents/{arn}/relationships", token=token, body=check)
    assert status == 204, (status, body)
    say("Relationship confirmed.")
    status, _, body = call("GET", f"{base_url}/organisations/vat/{vrn}/obligations?status=O", token=token,
                           accept=VAT_V1)
    assert status == 200, (status, body)
    ended = [o for o in body["obligations"] if o["end"] < date.today().isoformat()]
    if not ended:
        raise SystemExit("No open VAT period has ended yet")
    period = ended[0]["periodKey"]
    figures = {"periodKey": period, "vatDueSales": 1000.0, "vatDueAcquisitions": 0.0, "totalVatDue": 1000.0,
               "vatReclaimedCurrPeriod": 250.0, "netVatDue": 750.0, "totalValueSalesExVAT": 5000,
               "totalValuePurchasesExVAT": 1250, "totalValueGoodsSuppliedExVAT": 0, "totalAcquisitionsExVAT": 0,
               "finalised": True}
    status, headers, receipt = call("POST", f"{base_url}/organisations/vat/{vrn}/returns", token=token,
                                    accept=VAT_V1, body=figures)
    if status != 201:
        raise SystemExit(f"Could not send the VAT return: {status} {receipt}")
    say(f"VAT return for {period} sent: receipt {receipt['formBundleNumber']}")
    return {"invitation_id": invitation_id, "period_key": period, "receipt": receipt}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--arn", required=True, help="the agent's ARN (shown on their account page)")
    parser.add_argument("--vrn", default="042424213", help="the client (demo: Meadow Print Works Ltd)")
    args = parser.parse_args()
    run(args.base_url.rstrip("/"), args.client_id, args.client_secret, args.arn, args.vrn,
        show=lambda url: print(f"Open this address, sign in as the agent and allow access:\n\n  {url}\n"))


if __name__ == "__main__":
    main()
