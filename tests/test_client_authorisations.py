from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import html5lib
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import handshake
from portal.domain.client_links import client_link, normalise_agency_name
from portal.domain.models import (
    AuditEvent,
    Authorisation,
    AuthorisationRequest,
    Firm,
    HelperLink,
    Taxpayer,
    User,
    utcnow,
)
from portal.domain.services import BY_KEY
from portal.domain.sql import make_engine, unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

JANE = "jane@example.com"


# Helpers -------------------------------------------------------------------------------------------------

def _ask(db: Session, firm: Firm, agent: User, taxpayer: Taxpayer, key: str) -> AuthorisationRequest:
    made = handshake.create_request(db, firm_id=firm.id, user_id=agent.id, service=BY_KEY[key],
                                         taxpayer=taxpayer, today=date.today())
    db.commit()
    return made


def _respond_url(firm: Firm, key: str) -> str:
    return client_link(firm, BY_KEY[key].url_part) + "/respond"


def _say(client: TestClient, made: AuthorisationRequest, answer: str) -> None:
    page = client.get(f"/authorisation-response/{made.id}/consent")
    assert page.status_code == 200, page.text
    response = client.post(f"/authorisation-response/{made.id}/consent",
                           data={"authorise": answer, "csrf_token": csrf_from(page.text)})
    step = "check-your-answer" if answer == "yes" else "decline"
    assert response.status_code == 303 and response.headers["location"] == f"/authorisation-response/{made.id}/{step}"


def _post_accept(client: TestClient, made: AuthorisationRequest, token: str):  # type: ignore[no-untyped-def]
    return client.post(f"/authorisation-response/{made.id}/accept", data={"csrf_token": token})


def _accept(client: TestClient, made: AuthorisationRequest) -> str:
    """Answers yes and accepts; returns the CSRF token used, for replaying the POST."""
    _say(client, made, "yes")
    check = client.get(f"/authorisation-response/{made.id}/check-your-answer")
    assert check.status_code == 200 and "Accept and send" in check.text
    token = csrf_from(check.text)
    response = _post_accept(client, made, token)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/authorisation-response/{made.id}/accepted"
    return token


def _held(db: Session, taxpayer: Taxpayer) -> Authorisation:
    found = db.execute(select(Authorisation).where(Authorisation.taxpayer_id == taxpayer.id)).scalar_one()
    db.commit()  # the arranging session must not hold the (shared, in-memory) connection's transaction open
    return found


def _fresh(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def _live(engine: Engine, taxpayer_id: int, service: str) -> list[Authorisation]:
    with _fresh(engine) as s:
        return list(s.execute(select(Authorisation).where(Authorisation.taxpayer_id == taxpayer_id,
                                                          Authorisation.service == service,
                                                          Authorisation.ended_at.is_(None))).scalars())


def _actions(engine: Engine) -> list[str]:
    with _fresh(engine) as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def _check_html(response) -> None:  # type: ignore[no-untyped-def]
    if response.headers.get("content-type", "").startswith("text/html"):
        response.read()
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(response.text)


@contextmanager
def _another_browser(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
        browser.event_hooks["response"].append(_check_html)
        yield browser


def _helper(db: Session, settings: Settings, taxpayer: Taxpayer, email: str, name: str) -> HelperLink:
    person = factories.user(db, settings, email, name)
    link = HelperLink(taxpayer_id=taxpayer.id, invited_email=email, helper_user_id=person.id, status="active",
                      accepted_at=utcnow())
    db.add(link)
    db.commit()
    return link


# The client link -----------------------------------------------------------------------------------------

def test_agency_names_are_normalised_for_the_link() -> None:
    assert normalise_agency_name("Harbour  Tax") == "harbour-tax"
    assert normalise_agency_name("Smith & Sons (Leeds) Ltd.") == "smith--sons-leeds-ltd"


def test_a_link_with_a_wrong_code_name_or_service_is_not_found(client: TestClient, world: World) -> None:
    uid = world.firm.link_uid
    base = "/appoint-someone-to-deal-with-HMRC-for-you"
    assert client.get(f"{base}/{uid}/harbour-tax/vat").status_code == 200
    for path in (f"{base}/ZZZZ9999/harbour-tax/vat", f"{base}/{uid}/northgate-accountancy/vat",
                 f"{base}/{uid}/harbour-tax/self-assessment", f"{base}/{uid}/Harbour Tax/vat",
                 f"{base}/{uid}%00/harbour-tax/vat", f"{base}/{'A' * 300}/harbour-tax/vat",
                 f"{base}/{uid}/harbour-tax/self-assessment/respond"):
        assert client.get(path).status_code == 404, path


def test_the_start_page_sends_a_signed_out_client_to_sign_in_and_back(client: TestClient, world: World) -> None:
    link = client_link(world.firm, "income-tax")
    page = client.get(link)
    assert "Harbour Tax wants to deal with your tax" in page.text
    assert "expire after 21 days" in page.text
    expected = "/sign-in?next=" + quote(link + "/respond", safe="")
    assert f'href="{expected}"' in page.text and "Start now" in page.text
    token = csrf_from(client.get(expected).text)
    signed_in = client.post(expected, data={"email": JANE, "password": factories.PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == link + "/respond"


def test_responding_needs_sign_in(client: TestClient, world: World) -> None:
    response = client.get(_respond_url(world.firm, "HMRC-MTD-VAT"))
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")


def test_a_signed_in_client_starts_straight_at_the_request(client: TestClient, world: World) -> None:
    sign_in(client, JANE)
    link = client_link(world.firm, "vat")
    assert f'href="{link}/respond"' in client.get(link).text


def test_an_agent_who_opens_a_client_link_cannot_view_the_request(
        client: TestClient, world: World, db: Session) -> None:
    _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, "agent@example.com")
    for path in (client_link(world.other_firm, "vat"), _respond_url(world.other_firm, "HMRC-MTD-VAT")):
        page = client.get(path)
        assert page.status_code == 200 and "You cannot view this authorisation request" in page.text
        assert "wants to be your" not in page.text


# Accepting and declining ---------------------------------------------------------------------------------

def test_accepting_authorises_the_agent_and_puts_the_client_on_their_list(
        client: TestClient, app: Starlette, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    consent = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    assert "Northgate Accountancy wants to be your agent for VAT" in consent.text
    assert "view, change and submit your VAT returns" in consent.text
    assert "govuk-warning-text" not in consent.text  # nobody holds Jane's VAT yet
    _accept(client, made)
    done = client.get(f"/authorisation-response/{made.id}/accepted")
    assert "You have authorised Northgate Accountancy" in done.text and 'href="/manage-your-tax-agents"' in done.text
    assert [a.firm_id for a in _live(engine, world.itsa_client.id, "HMRC-MTD-VAT")] == [world.other_firm.id]
    with _another_browser(app) as agent:
        sign_in(agent, "other@example.com")
        assert "Jane Whitfield" in agent.get("/clients").text
        assert agent.get(f"/clients/{world.itsa_client.id}").status_code == 200
    assert "authorisation_request_accepted" in _actions(engine)


def test_a_new_main_agent_replaces_the_old_one_after_a_warning(
        client: TestClient, app: Starlette, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT")
    sign_in(client, JANE)
    consent = client.get(_respond_url(world.other_firm, "HMRC-MTD-IT")).text
    assert "govuk-warning-text" in consent
    assert "If you authorise Northgate Accountancy, we will remove Harbour Tax as your main agent" in consent
    assert "supporting agents you have authorised for Income Tax are not affected" in consent
    with _another_browser(app) as agent:
        sign_in(agent, "agent@example.com")
        assert agent.get(f"/clients/{world.itsa_client.id}").status_code == 200
        _accept(client, made)
        assert agent.get(f"/clients/{world.itsa_client.id}").status_code == 404
    assert [a.firm_id for a in _live(engine, world.itsa_client.id, "HMRC-MTD-IT")] == [world.other_firm.id]
    with _fresh(engine) as s:
        old = s.execute(select(Authorisation).where(Authorisation.firm_id == world.firm.id,
                                                    Authorisation.taxpayer_id == world.itsa_client.id)).scalar_one()
    assert old.ended_at is not None and old.ended_by == "client"
    assert {"authorisation_ended", "authorisation_request_accepted"} <= set(_actions(engine))


def test_a_supporting_agent_does_not_replace_the_main_agent(
        client: TestClient, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT-SUPP")
    sign_in(client, JANE)
    consent = client.get(_respond_url(world.other_firm, "HMRC-MTD-IT-SUPP")).text
    assert "wants to be your supporting agent" in consent and "govuk-warning-text" not in consent
    assert "will not remove your main agent" in consent
    _accept(client, made)
    assert [a.firm_id for a in _live(engine, world.itsa_client.id, "HMRC-MTD-IT")] == [world.firm.id]
    assert [a.firm_id for a in _live(engine, world.itsa_client.id, "HMRC-MTD-IT-SUPP")] == [world.other_firm.id]


def test_choosing_neither_answer_shows_an_error(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    for answer in ("", "maybe"):
        again = client.post(f"/authorisation-response/{made.id}/consent",
                            data={"authorise": answer, "csrf_token": csrf_from(page.text)})
        assert again.status_code == 200
        assert "Select yes if you want to authorise Northgate Accountancy" in again.text
        assert "<title>Error:" in again.text


def test_the_check_page_needs_a_yes_first(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    response = client.get(f"/authorisation-response/{made.id}/check-your-answer")
    assert response.status_code == 303 and response.headers["location"].endswith("/consent")


def test_declining_a_request(client: TestClient, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    _say(client, made, "no")
    confirm = client.get(f"/authorisation-response/{made.id}/decline")
    assert "Are you sure you want to decline?" in confirm.text
    response = client.post(f"/authorisation-response/{made.id}/decline", data={"csrf_token": csrf_from(confirm.text)})
    assert response.status_code == 303 and response.headers["location"] == f"/authorisation-response/{made.id}/declined"
    assert "You have declined the request" in client.get(response.headers["location"]).text
    with _fresh(engine) as s:
        assert s.get(AuthorisationRequest, made.id).status == "rejected"  # type: ignore[union-attr]
    assert _live(engine, world.itsa_client.id, "HMRC-MTD-VAT") == []
    assert "authorisation_request_declined" in _actions(engine)


# Exit pages ----------------------------------------------------------------------------------------------

def test_an_expired_request_has_its_own_page(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    made.expires_on = date.today() - timedelta(days=1)
    db.add(made)
    db.commit()
    sign_in(client, JANE)
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    assert page.status_code == 200 and "This authorisation request has expired" in page.text
    token = csrf_from(page.text)
    late = _post_accept(client, made, token)
    assert late.status_code == 200 and "This authorisation request has expired" in late.text


def test_a_cancelled_request_has_its_own_page(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    handshake.cancel_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id, request=made,
                                  today=date.today())
    db.commit()
    sign_in(client, JANE)
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    assert page.status_code == 200 and "This authorisation request has been cancelled" in page.text


def test_an_answered_request_says_so_when_opened_again(client: TestClient, world: World, db: Session) -> None:
    accepted = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    declined = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT-SUPP")
    sign_in(client, JANE)
    _accept(client, accepted)
    _say(client, declined, "no")
    client.post(f"/authorisation-response/{declined.id}/decline",
                data={"csrf_token": csrf_from(client.get("/manage-your-tax-agents").text)})
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    assert page.status_code == 200 and "You have already accepted this authorisation request" in page.text
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-IT-SUPP"))
    assert page.status_code == 200 and "You have already declined this authorisation request" in page.text


def test_the_wrong_sign_in_is_told_no_request_was_found(client: TestClient, world: World, db: Session) -> None:
    _ask(db, world.other_firm, world.other_agent, world.vat_client, "HMRC-MTD-VAT")  # Granite's, not Jane's
    sign_in(client, JANE)
    page = client.get(_respond_url(world.other_firm, "HMRC-MTD-VAT"))
    assert page.status_code == 200
    assert "We cannot find a request from Northgate Accountancy" in page.text
    assert "You may have signed in with the wrong user ID" in page.text and 'action="/sign-out"' in page.text


def test_the_pending_request_is_chosen_over_an_older_answered_one(
        client: TestClient, world: World, db: Session) -> None:
    old = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    handshake.decline_request(db, user_id=world.client_user.id, request=old, today=date.today())
    db.commit()
    _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    assert "Do you want to authorise Northgate Accountancy" in client.get(
        _respond_url(world.other_firm, "HMRC-MTD-VAT")).text


# Races ---------------------------------------------------------------------------------------------------

def test_accepting_twice_makes_one_authorisation_and_says_it_is_already_accepted(
        client: TestClient, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    token = _accept(client, made)
    again = _post_accept(client, made, token)
    assert again.status_code == 200 and "You have already accepted this authorisation request" in again.text
    assert len(_live(engine, world.itsa_client.id, "HMRC-MTD-VAT")) == 1
    with _fresh(engine) as s:
        assert s.execute(select(func.count()).select_from(Authorisation)
                         .where(Authorisation.request_id == made.id)).scalar_one() == 1
    assert _actions(engine).count("authorisation_request_accepted") == 1


@pytest.fixture
def threaded(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[tuple[Starlette, World, Engine]]:
    """An app whose database takes connections from many threads: PostgreSQL as it is, SQLite as a file."""
    shared = engine
    if engine.dialect.name == "sqlite":
        shared = make_engine(f"sqlite:///{tmp_path / 'threads.db'}")
        SQLModel.metadata.create_all(shared)
    with unit_of_work(shared) as session:
        world = factories.build_world(session, settings)
    yield create_app(settings=settings, engine=shared), world, shared
    if shared is not engine:
        shared.dispose()


def test_two_accepts_at_the_same_moment_make_exactly_one_authorisation(
        threaded: tuple[Starlette, World, Engine]) -> None:
    app, world, engine = threaded
    with unit_of_work(engine) as db:
        made = handshake.create_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id,
                                             service=BY_KEY["HMRC-MTD-VAT"], taxpayer=world.itsa_client,
                                             today=date.today())
    with _another_browser(app) as first, _another_browser(app) as second:
        tokens = []
        for browser in (first, second):
            sign_in(browser, JANE)
            _say(browser, made, "yes")
            tokens.append(csrf_from(browser.get(f"/authorisation-response/{made.id}/check-your-answer").text))
        barrier, results = threading.Barrier(2), []

        def go(browser: TestClient, token: str) -> None:
            barrier.wait()
            results.append(_post_accept(browser, made, token))

        threads = [threading.Thread(target=go, args=pair) for pair in zip((first, second), tokens, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(r.status_code for r in results) == [200, 303]
    assert "You have already accepted" in next(r for r in results if r.status_code == 200).text
    assert len(_live(engine, world.itsa_client.id, "HMRC-MTD-VAT")) == 1
    assert _actions(engine).count("authorisation_request_accepted") == 1


# Someone else's objects ----------------------------------------------------------------------------------

def test_someone_elses_request_is_not_found(
        client: TestClient, world: World, db: Session, engine: Engine) -> None:
    made = _ask(db, world.firm, world.agent, world.other_client, "HMRC-MTD-VAT")  # Oscar's, owned by nobody
    sign_in(client, JANE)
    token = csrf_from(client.get("/manage-your-tax-agents").text)
    for step in ("consent", "check-your-answer", "accepted", "decline", "declined"):
        assert client.get(f"/authorisation-response/{made.id}/{step}").status_code == 404
    assert client.post(f"/authorisation-response/{made.id}/accept", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/authorisation-response/{made.id}/decline", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/authorisation-response/{2**31}/consent").status_code == 404
    assert _live(engine, world.other_client.id, "HMRC-MTD-VAT") == []


def test_someone_elses_authorisation_or_helper_cannot_be_removed(
        client: TestClient, world: World, db: Session, settings: Settings, engine: Engine) -> None:
    oscar = _held(db, world.other_client)
    link = _helper(db, settings, world.vat_client, "pal@example.com", "Pat Pal")
    sign_in(client, JANE)
    token = csrf_from(client.get("/manage-your-tax-agents").text)
    for path in (f"/manage-your-tax-agents/remove/{oscar.id}", f"/manage-your-tax-agents/remove-helper/{link.id}",
                 f"/manage-your-tax-agents/removed/{oscar.id}", f"/manage-your-tax-agents/remove/{2**31}",
                 "/manage-your-tax-agents/remove/999999"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/manage-your-tax-agents/remove/{oscar.id}", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage-your-tax-agents/remove-helper/{link.id}",
                       data={"csrf_token": token}).status_code == 404
    assert len(_live(engine, world.other_client.id, "HMRC-MTD-IT")) == 1


# Manage who can deal with your tax -----------------------------------------------------------------------

def test_the_manage_page_shows_requests_agents_helpers_and_history(
        client: TestClient, world: World, db: Session, settings: Settings) -> None:
    pending = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    gone = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT-SUPP")
    gone.expires_on = date.today() - timedelta(days=2)
    db.add(gone)
    db.commit()
    _helper(db, settings, world.itsa_client, "sam@example.com", "Sam Whitfield")
    sign_in(client, JANE)
    page = client.get("/manage-your-tax-agents").text
    current, rest = page.split("Authorised agents and helpers", 1)
    agents, past = rest.split("History", 1)
    assert "Northgate Accountancy" in current and pending.expires_on.strftime("%B %Y") in current
    assert f'href="{_respond_url(world.other_firm, "HMRC-MTD-VAT")}"' in current
    assert "Harbour Tax" in agents and "Main agent" in agents and "Sam Whitfield" in agents
    assert "Trusted helper" in agents and agents.count(">Remove<") == 2
    assert "The request expired" in past and "Northgate Accountancy" in past


def test_history_records_each_answer_newest_first(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    handshake.decline_request(db, user_id=world.client_user.id, request=made, today=date.today())
    db.commit()
    other = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT-SUPP")
    handshake.cancel_request(db, firm_id=world.other_firm.id, user_id=world.other_agent.id, request=other,
                                  today=date.today())
    db.commit()
    sign_in(client, JANE)
    past = client.get("/manage-your-tax-agents").text.split(">History<", 1)[1]
    assert past.index("The agent cancelled the request") < past.index("You declined the request")


def test_someone_with_no_tax_account_is_told_so(client: TestClient, world: World, db: Session,
                                                 settings: Settings) -> None:
    factories.user(db, settings, "nobody@example.com", "No Body")
    db.commit()
    sign_in(client, "nobody@example.com")
    page = client.get("/manage-your-tax-agents")
    assert page.status_code == 200 and "There is no tax account linked to your sign-in details" in page.text


def test_several_taxpayers_are_shown_in_groups(client: TestClient, world: World, db: Session) -> None:
    business = factories.taxpayer(db, "Whitfield Joinery Ltd", "business", owner=world.client_user, vrn="101747687")
    db.commit()
    _ask(db, world.other_firm, world.other_agent, business, "HMRC-MTD-VAT")
    sign_in(client, JANE)
    page = client.get("/manage-your-tax-agents").text
    jane, joinery = page.index('<h2 class="govuk-heading-l">Jane Whitfield</h2>'), page.index(
        '<h2 class="govuk-heading-l">Whitfield Joinery Ltd</h2>')
    assert jane < joinery and "Northgate Accountancy" in page[joinery:] and "Northgate" not in page[jane:joinery]


def test_removing_an_agent_ends_their_access_at_once(
        client: TestClient, app: Starlette, world: World, db: Session, engine: Engine) -> None:
    held = _held(db, world.itsa_client)
    sign_in(client, JANE)
    with _another_browser(app) as agent:
        sign_in(agent, "agent@example.com")
        assert agent.get(f"/clients/{world.itsa_client.id}").status_code == 200
        confirm = client.get(f"/manage-your-tax-agents/remove/{held.id}")
        assert "Are you sure you want to remove Harbour Tax for Income Tax (Making Tax Digital)?" in confirm.text
        assert "govuk-warning-text" in confirm.text
        response = client.post(f"/manage-your-tax-agents/remove/{held.id}",
                               data={"csrf_token": csrf_from(confirm.text)})
        assert response.status_code == 303
        assert response.headers["location"] == f"/manage-your-tax-agents/removed/{held.id}"
        assert "You have removed Harbour Tax" in client.get(response.headers["location"]).text
        assert agent.get(f"/clients/{world.itsa_client.id}").status_code == 404
        assert "Jane Whitfield" not in agent.get("/clients").text
    again = client.post(f"/manage-your-tax-agents/remove/{held.id}", data={"csrf_token": csrf_from(confirm.text)})
    assert again.status_code == 200 and "Harbour Tax is no longer authorised" in again.text
    with _fresh(engine) as s:
        assert s.get(Authorisation, held.id).ended_by == "client"  # type: ignore[union-attr]
    assert _actions(engine).count("authorisation_ended") == 1
    assert "No longer authorised: removed by you" in client.get("/manage-your-tax-agents").text


def test_removing_a_trusted_helper(
        client: TestClient, world: World, db: Session, settings: Settings, engine: Engine) -> None:
    link = _helper(db, settings, world.itsa_client, "sam@example.com", "Sam Whitfield")
    sign_in(client, JANE)
    confirm = client.get(f"/manage-your-tax-agents/remove-helper/{link.id}")
    assert "Are you sure you want to remove Sam Whitfield as your trusted helper?" in confirm.text
    response = client.post(f"/manage-your-tax-agents/remove-helper/{link.id}",
                           data={"csrf_token": csrf_from(confirm.text)})
    assert response.status_code == 303
    assert "You have removed Sam Whitfield" in client.get(response.headers["location"]).text
    with _fresh(engine) as s:
        ended = s.get(HelperLink, link.id)
        assert ended is not None and ended.status == "ended" and ended.ended_by == "client" and ended.ended_at
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "helper_removed")).scalar_one()
    assert event.authority == "self" and event.taxpayer_id == world.itsa_client.id
    assert event.actor_user_id == world.client_user.id
    again = client.post(f"/manage-your-tax-agents/remove-helper/{link.id}",
                        data={"csrf_token": csrf_from(confirm.text)})
    assert again.status_code == 200 and _actions(engine).count("helper_removed") == 1
