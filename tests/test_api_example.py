"""examples/agent_software.py against a real server, as a vendor runs it; a scripted browser gives the consent."""

from __future__ import annotations

import importlib.util
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from portal.app import create_app
from portal.domain.models import TaxpayerIdentifier
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "agent_software.py"


@pytest.fixture
def server(file_engine: Engine, settings: Settings) -> Iterator[str]:
    app = create_app(settings=settings, engine=file_engine)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=config.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not config.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    config.should_exit = True
    thread.join(timeout=10)


def test_the_example_gets_access_and_sends_a_vat_return(server: str, file_engine: Engine,
                                                        settings: Settings) -> None:
    with unit_of_work(file_engine) as db:
        world = factories.build_world(db, settings)
        owner = factories.user(db, settings, "business@example.com", "Meadow owner")
        meadow = factories.taxpayer(db, "Meadow Print Works Ltd", "business", owner=owner, vrn="042424213")
        db.execute(select(TaxpayerIdentifier))
        registration = db.execute(select(TaxpayerIdentifier).where(
            col(TaxpayerIdentifier.taxpayer_id) == meadow.id)).scalar_one()
        registration.registered_on = date(2019, 4, 1)
        factories.obligation(db, meadow, "VAT", date.today() - timedelta(days=5), kind="VAT return")
        arn = world.firm.arn
    browser = httpx.Client(base_url=server, follow_redirects=False)
    token = factories.csrf_from(browser.get("/sign-in").text)
    signed_in = browser.post("/sign-in", data={"email": "agent@example.com", "password": factories.PASSWORD,
                                               "csrf_token": token})
    second_step = signed_in.headers["location"]  # an agent's sign-in always asks for the second step
    step_page = browser.get(second_step)
    assert browser.post(second_step, data={"code": factories.totp_code(),
                                           "csrf_token": factories.csrf_from(step_page.text)}).status_code == 303
    page = browser.get("/developer/applications")
    made = browser.post("/developer/applications", data={
        "name": "Example Desktop", "redirect_uris": "http://127.0.0.1/callback",
        "csrf_token": factories.csrf_from(page.text)}).text
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', made)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', made)
    assert client_id and secret

    def consent(url: str) -> None:  # what the agent does in their browser
        def give() -> None:
            consent_page = browser.get(url)
            assert "Allow Example Desktop to act for you" in consent_page.text
            answer = browser.post(url, data={"decision": "allow",
                                             "csrf_token": factories.csrf_from(consent_page.text)})
            assert answer.status_code == 302
            httpx.get(answer.headers["location"])  # the browser follows the redirect to the loopback
        threading.Thread(target=give, daemon=True).start()

    spec = importlib.util.spec_from_file_location("agent_software", EXAMPLE)
    assert spec and spec.loader
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    said: list[str] = []
    learnt = example.run(server, client_id.group(1), secret.group(1), arn, "042424213", show=consent,
                         say=said.append)
    assert learnt["receipt"]["formBundleNumber"] and said[-1].startswith("VAT return for")
    assert "Relationship confirmed." in said
