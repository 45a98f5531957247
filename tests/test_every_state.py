"""Every URL a person can reach about an authorisation request answers a page that makes sense, never a server
error, in every state the request can be in: pending, accepted, declined, cancelled, expired (by date, and as the
daily sweep records it) and removed (accepted, then the authorisation ended). Opened from a bookmark, with Back or
in a second tab, by the client it was sent to and by the agent who sent it (issue 9)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal.domain import handshake as authorisations
from portal.domain.client_links import client_link
from portal.domain.models import Authorisation, AuthorisationRequest
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from tests.factories import World, csrf_from, sign_in

SERVICE = "HMRC-MTD-VAT"  # the other firm asks Jane for VAT: nobody acts for her VAT yet
RESPONSE_PREFIX = "/authorisation-response"  # the client's pages about one request
MANAGE = "/manage-your-tax-agents"
STATES = ["pending", "accepted", "declined", "cancelled", "expired", "expired-swept", "removed"]


def _request_in(engine: Engine, world: World, state: str) -> tuple[int, int | None]:
    """(the request's id, its authorisation's id if it made one), the request put into `state`."""
    today = date.today()
    with unit_of_work(engine) as db:
        made = authorisations.create_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                             service=BY_KEY[SERVICE], taxpayer=world.itsa_client, today=today)
        if state in ("accepted", "removed"):
            authorisations.accept_request(db, user_id=world.client_user.id, request=made, today=today)
        elif state == "declined":
            authorisations.decline_request(db, user_id=world.client_user.id, request=made, today=today)
        elif state == "cancelled":
            authorisations.cancel_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                          request=made, today=today)
        elif state.startswith("expired"):
            made.expires_on = today - timedelta(days=1)
            db.add(made)
            db.flush()
            if state == "expired-swept":
                assert authorisations.expire_overdue(db, today=today) == 1
        request_id = made.id
    with Session(engine) as db:
        authorisation = db.exec(select(Authorisation).where(Authorisation.taxpayer_id == world.itsa_client.id,
                                                            Authorisation.service == SERVICE)).first()
        authorisation_id = authorisation.id if authorisation else None
        if state == "removed":
            assert authorisation is not None
            authorisations.end_authorisation(db, authorisation, ended_by="client", actor_user_id=world.client_user.id,
                                             authority="self")
            db.commit()
        status = authorisations.effective_status(db.get(AuthorisationRequest, request_id), date.today())
    expected = {"declined": "rejected", "removed": "deauthorised", "expired-swept": "expired"}.get(state, state)
    assert status == expected
    return request_id, authorisation_id


def _no_server_error(client: TestClient, method: str, url: str, **kwargs: object) -> None:
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code < 500, f"{method} {url} answered {response.status_code}"
    if response.status_code in (301, 302, 303, 307, 308):  # and wherever it sends the person
        location = response.headers["location"]
        followed = client.get(location)
        assert followed.status_code < 500, f"{method} {url} -> {location} answered {followed.status_code}"


@pytest.mark.parametrize("state", STATES)
def test_the_client_s_pages_about_a_request(client: TestClient, world: World, engine: Engine, state: str) -> None:
    request_id, authorisation_id = _request_in(engine, world, state)
    sign_in(client, world.client_user.email)
    base = f"{RESPONSE_PREFIX}/{request_id}"
    link = client_link(world.other_firm, BY_KEY[SERVICE].url_part)
    pages = [link, link + "/respond", MANAGE, base + "/consent", base + "/check-your-answer", base + "/accepted",
             base + "/decline", base + "/declined"]
    if authorisation_id is not None:
        pages += [f"{MANAGE}/remove/{authorisation_id}", f"{MANAGE}/removed/{authorisation_id}"]
    for url in pages:
        _no_server_error(client, "GET", url)
    token = csrf_from(client.get(MANAGE).text)
    for url, data in ((base + "/consent", {"authorise": "yes"}), (base + "/accept", {}), (base + "/decline", {})):
        _no_server_error(client, "POST", url, data={**data, "csrf_token": token})


@pytest.mark.parametrize("state", STATES)
def test_the_agent_s_pages_about_a_request(client: TestClient, world: World, engine: Engine, state: str) -> None:
    request_id, _ = _request_in(engine, world, state)
    sign_in(client, world.other_agent.email)
    base = f"/authorisation-requests/{request_id}"
    pages = ["/authorisation-requests", f"/authorisation-requests?status={state.split('-')[0]}", base + "/sent",
             base + "/resend", base + "/cancel", base + "/cancelled", f"/clients/{world.itsa_client.id}",
             f"/clients/{world.itsa_client.id}/stop-acting", f"/clients/{world.itsa_client.id}/stop-acting/{SERVICE}",
             "/clients", "/whats-due"]
    for url in pages:
        _no_server_error(client, "GET", url)
    token = csrf_from(client.get("/authorisation-requests").text)
    _no_server_error(client, "POST", base + "/cancel", data={"csrf_token": token})
