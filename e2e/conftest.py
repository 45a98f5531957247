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

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from e2e.axe import _violations, format_violations, scriptable
from e2e.page_checks import findings, problems, report
from portal import worker
from portal.app import create_app
from portal.devdata import demo
from portal.domain.sql import make_engine, unit_of_work
from portal.migrate import upgrade
from portal.settings import Settings
from tests.mailbox import Mailbox

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

    return _sign_in


def title(text: str) -> str:
    return f"{text} – {SERVICE_NAME}"


def h1(page: Page, name: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def scan(page: Page, state: str, enabled: bool = True) -> None:
    """Every check a page and state must pass: axe-core's WCAG 2.2 AA scan, and e2e.page_checks (no sideways
    scrolling at 320 px, no layout shift after load, 24-pixel targets, valid HTML). Skipped where a journey
    repeats a page and state another journey has scanned.

    With JavaScript off, the checks run on a copy of the page in a context where they can (axe.scriptable)."""
    if not enabled:
        return
    html = page.content()  # validated as the visitor's browser has it, scripts and all
    with scriptable(page) as (view, scripts_disabled):
        axe = _violations(view)
        found = findings(view, html=html, phone_load=not scripts_disabled)
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
