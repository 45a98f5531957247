"""Browser end-to-end tests: a live portal on a free port, Debian's chromium, every journey with JS on and off.

Run: .venv/bin/python -m pytest e2e -p no:randomly --browser chromium
(see shared/recipe.md, "Playwright on Debian chromium": only executable_path can select Debian's chromium).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
import uvicorn
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import update

from e2e.axe import _violations, format_violations, scriptable
from e2e.page_checks import findings, problems, report
from portal import worker
from portal.app import create_app
from portal.devdata import demo
from portal.domain.account_models import SecondFactor
from portal.domain.sql import make_engine, unit_of_work
from portal.migrate import upgrade
from portal.settings import Settings
from tests.mailbox import Mailbox, Received

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SERVICE_NAME = "Agent Online Self-Serve"
RECORD = os.environ.get("PAGE_CHECKS_RECORD")
REPORT_ONLY = bool(os.environ.get("PAGE_CHECKS_REPORT_ONLY"))

# Web-first assertions wait up to 5 s by default; the debounced search needs well under that.
expect.set_options(timeout=10_000)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LIVE: dict[str, Any] = {}  # the live server's engine, for allow_code_again


def allow_code_again() -> None:
    """An authenticator code is accepted once per 30-second step (no replay). The journeys sign the same demo
    agent in many times within one step, which a person cannot: they let the step be used again, as the next
    step would be."""
    with LIVE["engine"].begin() as connection:
        connection.execute(update(SecondFactor).values(counter=0))


def emailed_to(mailbox: Mailbox, address: str, number: int = 1, timeout: float = 20.0) -> Received:
    """The `number`th email the worker delivers to `address` (it sends within a second or so of the change)."""
    deadline = time.monotonic() + timeout
    while len(found := mailbox.to(address)) < number:
        assert time.monotonic() < deadline, f"email {number} to {address} did not arrive within {timeout} s"
        time.sleep(0.1)
    return found[number - 1]


def emailed_link(mailbox: Mailbox, address: str, number: int = 1) -> str:
    """The link in the `number`th email to `address`, as a path on the live server."""
    match = re.search(r"http://127\.0\.0\.1:\d+(/\S+)", emailed_to(mailbox, address, number).text)
    assert match, "the email has no link"
    return match.group(1)


def enter_code(page: Page, secret: str = demo.DEMO_TOTP_SECRET) -> None:
    """The second step: the 6-digit code an authenticator app with `secret` shows now."""
    h1(page, "Enter the 6 digit code from your authenticator app")
    allow_code_again()
    page.get_by_label("Enter the 6 digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()


def set_up_authenticator_app(page: Page) -> str:
    """A new member of an agent firm sets up 2-step verification (the page is open): the secret key the page shows
    typed into an authenticator app, its code entered, the recovery codes acknowledged. Returns the secret."""
    h1(page, "Set up an authenticator app")
    secret = page.locator("[data-secret-key]").inner_text().replace(" ", "")
    page.get_by_label("Enter the 6 digit code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="I have saved my recovery codes").click()
    return secret


@pytest.fixture(scope="session")
def demo_accounts() -> demo.DemoAccounts:
    return demo.DemoAccounts()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on the loopback: the live server's worker delivers every email there."""
    relay = Mailbox()
    relay.start()
    yield relay
    relay.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[str]:
    """The portal on a temporary SQLite file with the demo data, served by uvicorn in a daemon thread, with the
    worker (reminders and email, to `mailbox`) in another."""
    database = tmp_path_factory.mktemp("e2e-db") / "portal.db"
    port = _free_port()
    # environment="test" makes password hashing cheap (portal.domain.accounts.password_hasher).
    settings = Settings(database_url=f"sqlite:///{database}", secret_key="e2e-" + "k" * 60, environment="test")
    settings = dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}", smtp_host="127.0.0.1",
                                   smtp_port=mailbox.port, smtp_starttls=False, worker_poll_seconds=0.2)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        demo.seed(db, settings)
    LIVE["engine"] = engine

    config = uvicorn.Config(create_app(settings=settings, engine=engine), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    stop_worker = threading.Event()
    worker_thread = threading.Thread(target=worker.run, args=(engine, settings, stop_worker), name="e2e-worker",
                                     daemon=True)
    worker_thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/sign-in", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the portal did not start on {url}")
        time.sleep(0.05)
    yield url
    server.should_exit = True
    stop_worker.set()
    thread.join(timeout=10)
    worker_thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """Overrides pytest-playwright's base_url, so page.goto("/clients") reaches the live server."""
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # No --headless here: Playwright adds it.
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(params=["js-on", "js-off"])
def js(request: pytest.FixtureRequest) -> bool:
    """True when JavaScript runs. Every test that uses a browser context runs once with it and once without."""
    return request.param == "js-on"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any], js: bool) -> dict[str, Any]:
    # pytest-playwright's browser_context_args is session-scoped; this function-scoped override (which
    # pytest-playwright's function-scoped new_context/context/page pick up) adds the js parameter, so any
    # test using page/context/new_context is parametrised with [js-on] and [js-off].
    return {**browser_context_args, "java_script_enabled": js}


SignIn = Callable[..., None]


@pytest.fixture
def sign_in(demo_accounts: demo.DemoAccounts) -> SignIn:
    """Fill the sign-in form on the current page (or open /sign-in first) and submit it."""

    def _sign_in(page: Page, email: str | None = None, password: str | None = None, *, goto: bool = True) -> None:
        if goto:
            page.goto("/sign-in")
        expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
        page.get_by_label("Email address").fill(email or demo_accounts.agent_email)
        page.get_by_label("Password").fill(demo_accounts.password if password is None else password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if "/sign-in/second-step" in page.url:  # agents pass 2-step verification (demo agents share one app)
            enter_code(page)
            page.wait_for_load_state()

    return _sign_in


def title(text: str) -> str:
    return f"{text} – {SERVICE_NAME}"


def client_links(page: Page) -> Locator:
    """The client names in the client list's table, each a link to that client's overview."""
    return page.get_by_role("table").get_by_role("rowheader").get_by_role("link")


CLIENT_URL = re.compile(r"/clients/(\d+)$")


def open_client(page: Page, n: int) -> tuple[str, str]:
    """Opens the n-th client of the list and waits for its overview, headed by its name: (name, client id)."""
    chosen = client_links(page).nth(n)
    name = chosen.inner_text().strip()
    chosen.click()
    expect(page).to_have_url(CLIENT_URL)
    match = CLIENT_URL.search(page.url)
    assert match
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return name, match.group(1)


def h1(page: Page, name: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def sign_up(page: Page, mailbox: Mailbox, name: str, email: str, *, axe: bool = False, origin: str = "") -> None:
    """Fill in "Create your sign-in details" (already open), then confirm the address from the emailed link."""
    h1(page, "Create your sign-in details")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(demo.DEMO_PASSWORD)
    page.get_by_label("Confirm password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Create sign-in details").click()
    h1(page, "Check your email")
    scan(page, "sign up: check your email", axe)
    # The confirmation, whatever else came to the address (an invitation, say); origin: the page's own, if the
    # journey is not on the live server's default one.
    deadline = time.monotonic() + 20
    while not (links := [m for m in mailbox.to(email) if "/sign-up/confirm/" in m.text]):
        assert time.monotonic() < deadline, f"no confirmation email to {email}"
        time.sleep(0.1)
    match = re.search(r"http://127\.0\.0\.1:\d+(/sign-up/confirm/\S+)", links[-1].text)
    assert match
    page.goto(origin + match.group(1))
    h1(page, "Confirm your email address")
    scan(page, "sign up: confirm your email address", axe)
    page.get_by_role("button", name="Confirm and continue").click()


def scan(page: Page, state: str, enabled: bool = True, *, phone_load: bool = True) -> None:
    """Every check a page and state must pass: axe-core's WCAG 2.2 AA scan, and e2e.page_checks (no sideways
    scrolling at 320 px, no layout shift after load, 24-pixel targets, valid HTML). Skipped where a journey
    repeats a page and state another journey has scanned. phone_load=False skips the load on a phone (a fresh
    tab), for a page whose browser context runs on a fake clock (page.clock), where that tab would never paint.

    With JavaScript off, the checks run on a copy of the page in a context where they can (axe.scriptable)."""
    if not enabled:
        return
    html = page.content()  # validated as the visitor's browser has it, scripts and all
    with scriptable(page) as (view, scripts_disabled):
        axe = _violations(view)
        found = findings(view, html=html, phone_load=phone_load and not scripts_disabled)
    label = f"{state}{' (JavaScript off)' if scripts_disabled else ''}"
    if RECORD:  # PAGE_CHECKS_RECORD=file.jsonl: record the figures of every page and state (for notes)
        with open(RECORD, "a", encoding="utf-8") as out:
            out.write(json.dumps({"state": label, "url": page.url, "axe": len(axe), "overflow": found["overflow"],
                                  "cls": found["cls"], "small_targets": len(found["small_targets"]),
                                  "html_errors": len(found["html_errors"]), "details": found}) + "\n")
        if REPORT_ONLY:  # PAGE_CHECKS_REPORT_ONLY=1 as well: only record, fail nothing (to measure a 'before')
            return
    failures = [format_violations(f"{label} ({page.url})", axe)] if axe else []
    if found_problems := problems(found):
        failures.append(report(label, page.url, found_problems))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
