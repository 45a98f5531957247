"""The API's pages in a browser (issue 14), with JavaScript on and off: examples/agent_software.py gets its consent
from an agent in a real browser and then uses its token against the live server; the consent page (allowing,
refusing, and a request that cannot be used), connected applications (an agent's own, and a firm administrator's
view of the team's, each revoked), registering software, and the API reference, every page scanned, in English and
once in Welsh.

Each test makes a firm of its own (an administrator and a standard user, both with the demo authenticator app, and
a business client registered for VAT) in the live server's database, so nothing another test counts on changes.
"""

from __future__ import annotations

import importlib.util
import queue
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from playwright.sync_api import Page, expect

from e2e.conftest import LIVE, SignIn, h1, scan
from portal.devdata import demo
from portal.domain import identifiers, two_step
from portal.domain.accounts import hash_password
from portal.domain.models import Firm, Membership, Obligation, Taxpayer, TaxpayerIdentifier, User, utcnow
from portal.domain.sql import unit_of_work
from portal.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "agent_software.py"
# The live server's "test" settings: its cheap password hashing, and its secret key, which seals app keys.
HASHING = Settings(database_url="sqlite://", secret_key="e2e-" + "k" * 60, environment="test")
LOOPBACK_PAGE = "You can close this window and return to your software."


@dataclass(frozen=True)
class Made:
    firm_name: str
    arn: str
    admin_email: str
    admin_name: str
    staff_email: str
    staff_name: str
    vrn: str


def make_firm() -> Made:
    unique = uuid.uuid4().hex[:8]
    serial = 8_000_000 + int(uuid.uuid4().hex[:6], 16) % 1_000_000
    with unit_of_work(LIVE["engine"]) as db:
        firm = Firm(arn=identifiers.make_arn(serial), name=f"Api {unique} Tax LLP",
                    email=f"api-practice-{unique}@example.com", link_uid=f"AP{unique[:6].upper()}")
        people = [User(email=f"api-{role}-{unique}@example.com", name=f"{role.title()} {unique}",
                       password_hash=hash_password(HASHING, demo.DEMO_PASSWORD), email_confirmed_at=utcnow())
                  for role in ("admin", "standard")]
        client = User(email=f"api-client-{unique}@example.com", name=f"Owner {unique}",
                      password_hash=hash_password(HASHING, demo.DEMO_PASSWORD), email_confirmed_at=utcnow())
        db.add_all([firm, *people, client])
        db.flush()
        for person, role in zip(people, ("admin", "standard"), strict=True):
            db.add(Membership(firm_id=firm.id, user_id=person.id, role=role))
            two_step.enrol_totp(db, HASHING, person.id, demo.DEMO_TOTP_SECRET)  # sealed, as the server keeps it
        taxpayer = Taxpayer(client_type="business", name=f"Api Client {unique} Ltd", postcode="LS1 4AP",
                            owner_user_id=client.id)
        db.add(taxpayer)
        db.flush()
        vrn = identifiers.make_vrn(serial)
        db.add(TaxpayerIdentifier(taxpayer_id=taxpayer.id, kind="vrn", value=vrn, registered_on=date(2019, 4, 1)))
        due = date.today() - timedelta(days=5)  # a VAT period that has ended and is still open
        db.add(Obligation(taxpayer_id=taxpayer.id, regime="VAT", kind="VAT return", period_key=f"VAT{due:%y%m%d}",
                          period_start=due - timedelta(days=120), period_end=due - timedelta(days=30), due_date=due))
        return Made(firm.name, firm.arn, people[0].email, people[0].name, people[1].email, people[1].name, vrn)


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_software", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Software:
    """examples/agent_software.py asking for access, in a thread, as the desktop software would: it prints the
    consent address (here: hands it over) and waits on its loopback port for the browser to bring the code."""

    def __init__(self, base_url: str, client_id: str, secret: str, *, journey_for: Made | None = None) -> None:
        self.module = example()
        self.addresses: queue.Queue[str] = queue.Queue()
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, args=(base_url, client_id, secret, journey_for), daemon=True)
        self.thread.start()

    def _run(self, base_url: str, client_id: str, secret: str, journey_for: Made | None) -> None:
        try:
            if journey_for is None:  # only the OAuth dance
                self.outcome["tokens"] = self.module.get_tokens(base_url, client_id, secret, self.addresses.put)
            else:  # the example's whole run(), as `python examples/agent_software.py` does it
                self.outcome["learnt"] = self.module.run(base_url, client_id, secret, journey_for.arn,
                                                         journey_for.vrn, show=self.addresses.put,
                                                         say=self.outcome.setdefault("said", []).append)
        except BaseException as refused:  # noqa: BLE001  (SystemExit when the agent does not allow it)
            self.outcome["refused"] = str(refused)

    def consent_address(self) -> str:
        return self.addresses.get(timeout=30)

    def finish(self) -> dict[str, Any]:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the example did not get its answer"
        return self.outcome


def register_software(page: Page, name: str, *, checks: bool = False, welsh: bool = False) -> tuple[str, str]:
    """Registers software from "Your software" (open already): (its client ID, its secret, shown once)."""
    h1(page, "Eich meddalwedd" if welsh else "Your software")
    if checks:
        scan(page, "Welsh: your software" if welsh else "your software")
        page.get_by_role("button", name="Cofrestru" if welsh else "Register", exact=True).click()
        expect(page).to_have_title(re.compile(r"^Gwall: " if welsh else r"^Error: "))
        expect(page.get_by_role("alert").get_by_role(
            "link", name="Nodwch enw eich meddalwedd" if welsh else "Enter the name of your software")).to_be_visible()
        scan(page, "Welsh: your software, with errors" if welsh else "your software, with errors")
    page.get_by_label("Enw eich meddalwedd" if welsh else "Name of your software").fill(name)
    page.get_by_label("URIs ailgyfeirio" if welsh else "Redirect URIs").fill("http://127.0.0.1/callback")
    page.get_by_role("button", name="Cofrestru" if welsh else "Register", exact=True).click()
    h1(page, f"Mae {name} wedi’i chofrestru" if welsh else f"{name} is registered")
    client_id, secret = page.locator("#client-id").inner_text(), page.locator("#client-secret").inner_text()
    if checks:
        scan(page, "Welsh: software registered" if welsh else "software registered")
        page.get_by_role("link", name="Yn ôl i’ch meddalwedd" if welsh else "Back to your software").click()
        registered = page.get_by_role("table", name="Wedi’u cofrestru" if welsh else "Registered")
        expect(registered.get_by_role("cell", name=client_id)).to_be_visible()
        scan(page, "Welsh: your software, one registered" if welsh else "your software, one registered")
    return client_id, secret


def test_the_example_software_gets_access_from_an_agent_in_the_browser(page: Page, sign_in: SignIn,
                                                                       base_url: str) -> None:
    made = make_firm()
    sign_in(page, made.admin_email)
    page.goto("/developer/applications")
    client_id, secret = register_software(page, "Ledgerly Example", checks=True)

    software = Software(base_url, client_id, secret)
    page.goto(software.consent_address())
    h1(page, "Allow Ledgerly Example to act for you")
    expect(page.get_by_text(f"as you, {made.admin_name} of {made.firm_name}.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="send VAT returns for your clients")).to_be_visible()
    scan(page, "OAuth consent page")
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_text(LOOPBACK_PAGE)).to_be_visible()  # the browser brought the code to the software
    tokens = software.finish()["tokens"]
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 4 * 60 * 60

    # The software now works as the agent: it lists the firm's requests, asks the client, and sees the request.
    call, token, base = software.module.call, tokens["access_token"], base_url
    status, _, listed = call("GET", f"{base}/agents/{made.arn}/invitations", token=token)
    assert status == 204 and listed is None, (status, listed)  # none sent yet
    status, _, facts = call("GET", f"{base}/agent-authorisation-test-support/known-facts/mtd-vat/vrn/{made.vrn}",
                            token=token)
    assert status == 200, (status, facts)
    status, headers, body = call("POST", f"{base}/agents/{made.arn}/invitations", token=token, body=facts,
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 204, (status, body)
    invitation_id = headers["location"].rsplit("/", 1)[1]
    status, _, listed = call("GET", f"{base}/agents/{made.arn}/invitations", token=token)
    assert status == 200, (status, listed)
    assert [(item["invitationId"], item["status"]) for item in listed] == [
        (invitation_id, "Pending")]

    # The agent sees the software among their connected applications, and takes its access away.
    page.goto("/account/connected-applications")
    h1(page, "Connected applications")
    yours = page.get_by_role("table", name="Yours")
    expect(yours.get_by_role("cell", name="Ledgerly Example", exact=True)).to_be_visible()
    scan(page, "connected applications: an agent's own")
    yours.get_by_role("button", name="Revoke access for Ledgerly Example").click()
    expect(page.get_by_text("You have not given any software access.")).to_be_visible()
    scan(page, "connected applications: none")
    status, _, _ = call("GET", f"{base}/agents/{made.arn}/invitations", token=token)
    assert status == 401


def test_the_example_script_runs_its_whole_journey_with_a_browser_giving_consent(page: Page, sign_in: SignIn,
                                                                                 base_url: str) -> None:
    """What the issue's "Done when" asks: the same script a vendor runs (its run()), pointed at the live server,
    gets access through a browser, asks a client, has the request accepted through test support, checks the
    relationship and sends a VAT return."""
    made = make_firm()
    sign_in(page, made.admin_email)
    page.goto("/developer/applications")
    client_id, secret = register_software(page, "Ledgerly Whole Run")
    software = Software(base_url, client_id, secret, journey_for=made)
    page.goto(software.consent_address())
    h1(page, "Allow Ledgerly Whole Run to act for you")
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_text(LOOPBACK_PAGE)).to_be_visible()
    outcome = software.finish()
    assert "refused" not in outcome, outcome
    learnt = outcome["learnt"]
    assert outcome["said"][0] == "Access granted." and outcome["said"][-1].startswith("VAT return for ")
    assert learnt["receipt"]["formBundleNumber"] and learnt["period_key"].startswith("VAT")
    # The agent sees what the software did, in the portal, as theirs "using" the software.
    page.goto("/authorisation-requests")
    expect(page.get_by_role("row").filter(has_text="Api Client").first).to_be_visible()
    page.goto("/activity")
    expect(page.get_by_text("Ledgerly Whole Run").first).to_be_visible()
    scan(page, "the firm's activity after the example's run")


def test_an_agent_refuses_and_the_software_hears_access_denied(page: Page, sign_in: SignIn, base_url: str) -> None:
    made = make_firm()
    sign_in(page, made.admin_email)
    page.goto("/developer/applications")
    client_id, secret = register_software(page, "Refused Software")
    software = Software(base_url, client_id, secret)
    address = software.consent_address()

    page.goto(address)
    h1(page, "Allow Refused Software to act for you")
    page.get_by_role("button", name="Do not allow").click()
    expect(page.get_by_text(LOOPBACK_PAGE)).to_be_visible()
    assert "access_denied" in software.finish()["refused"]

    # A request that names an address the software never registered is never followed: the agent is told why.
    parts = urlsplit(address)
    query = dict(parse_qsl(parts.query)) | {"redirect_uri": "https://evil.example/callback"}
    page.goto(f"{parts.path}?{urlencode(query)}")
    h1(page, "This software’s request cannot be used")
    scan(page, "OAuth consent: a request that cannot be used")


def test_a_firm_administrator_sees_and_revokes_a_team_members_software(page: Page, sign_in: SignIn,
                                                                      base_url: str) -> None:
    made = make_firm()
    sign_in(page, made.staff_email)  # a standard user registers software and lets it act for them
    page.goto("/developer/applications")
    client_id, secret = register_software(page, "Team Ledger")
    software = Software(base_url, client_id, secret)
    page.goto(software.consent_address())
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_text(LOOPBACK_PAGE)).to_be_visible()
    token = software.finish()["tokens"]["access_token"]
    page.context.clear_cookies()

    sign_in(page, made.admin_email)
    page.goto("/account/connected-applications")
    others = page.get_by_role("table", name=f"Others in {made.firm_name}")
    expect(others.get_by_role("row").filter(has_text="Team Ledger").filter(has_text=made.staff_name)).to_be_visible()
    scan(page, "connected applications: a firm administrator's view of the team's")
    others.get_by_role("button", name=f"Revoke access for Team Ledger granted by {made.staff_name}").click()
    h1(page, "Connected applications")
    expect(page.get_by_role("table", name=f"Others in {made.firm_name}")).to_have_count(0)
    status, _, _ = software.module.call("GET", f"{base_url}/agents/{made.arn}/invitations", token=token)
    assert status == 401


def test_the_api_reference(page: Page) -> None:
    page.goto("/api/reference")
    h1(page, "API reference")
    expect(page.get_by_role("heading", name="POST /agents/{arn}/invitations", level=3)).to_be_visible()
    scan(page, "API reference")


def test_the_api_pages_in_welsh(page: Page, sign_in: SignIn, base_url: str) -> None:
    made = make_firm()
    sign_in(page, made.admin_email)
    page.goto("/developer/applications?lang=cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    client_id, secret = register_software(page, "Meddalwedd Cymraeg", checks=True, welsh=True)

    software = Software(base_url, client_id, secret)
    page.goto(software.consent_address())  # the language cookie keeps the portal in Welsh
    h1(page, "Caniatáu i Meddalwedd Cymraeg weithredu ar eich rhan")
    scan(page, "Welsh: OAuth consent page")
    page.get_by_role("button", name="Caniatáu mynediad").click()
    expect(page.get_by_text(LOOPBACK_PAGE)).to_be_visible()
    assert "tokens" in software.finish()

    page.goto("/account/connected-applications")
    h1(page, "Rhaglenni cysylltiedig")
    expect(page.get_by_role("table", name="Eich rhai chi").get_by_role("cell", name="Meddalwedd Cymraeg",
                                                                                exact=True)).to_be_visible()
    scan(page, "Welsh: connected applications")

    page.goto("/api/reference")
    h1(page, "Cyfeirlyfr API")
    scan(page, "Welsh: API reference")
