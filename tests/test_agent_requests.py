from __future__ import annotations

import re
from datetime import date, timedelta

import httpx2 as httpx
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain import firm_access, identifiers
from portal.domain.client_links import client_link, normalise_agency_name
from portal.domain.models import (
    AuditEvent,
    Authorisation,
    AuthorisationRequest,
    Firm,
    RateLimitEvent,
    Taxpayer,
    TaxpayerIdentifier,
    UserSession,
    utcnow,
)
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

NEW = "/authorisation-requests/new"
VAT_REGISTERED = date(2017, 4, 1)
VAT_DATE = {"date-day": "1", "date-month": "4", "date-year": "2017"}
WRONG_VAT_DATE = {"date-day": "2", "date-month": "4", "date-year": "2017"}


# --- helpers -------------------------------------------------------------------------------------------------------


def _vat_client(engine: Engine, name: str = "Moorland Dairy Ltd", n: int = 4242) -> tuple[int, str]:
    """A business registered for VAT on VAT_REGISTERED that no firm acts for: (taxpayer id, VRN)."""
    vrn = identifiers.make_vrn(n)
    with unit_of_work(engine) as db:
        taxpayer = factories.taxpayer(db, name, "business", vrn=vrn)
        db.execute(update(TaxpayerIdentifier).where(TaxpayerIdentifier.taxpayer_id == taxpayer.id)
                   .values(registered_on=VAT_REGISTERED))
        return taxpayer.id, vrn


def _answer(client: TestClient, step: str, **data: str) -> httpx.Response:
    page = client.get(f"{NEW}/{step}")
    assert page.status_code == 200, (step, page.status_code, page.headers.get("location"))
    return client.post(f"{NEW}/{step}", data={**data, "csrf_token": csrf_from(page.text)})


def _goes_to(response: httpx.Response, location: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == location


def _vat_up_to_known_fact(client: TestClient, vrn: str, client_type: str = "business") -> None:
    _goes_to(_answer(client, "client-type", client_type=client_type), f"{NEW}/service")
    _goes_to(_answer(client, "service", service="HMRC-MTD-VAT"), f"{NEW}/client-id")
    _goes_to(_answer(client, "client-id", identifier=vrn), f"{NEW}/known-fact")


def _vat_up_to_check_answers(client: TestClient, vrn: str) -> None:
    _vat_up_to_known_fact(client, vrn)
    _goes_to(_answer(client, "known-fact", **VAT_DATE), f"{NEW}/confirm-client")
    _goes_to(_answer(client, "confirm-client", confirm="yes"), f"{NEW}/check-your-answers")


def _send(client: TestClient) -> httpx.Response:
    return _answer(client, "check-your-answers")


def _requests(engine: Engine) -> list[AuthorisationRequest]:
    with Session(engine) as db:
        return list(db.execute(select(AuthorisationRequest).order_by(AuthorisationRequest.id)).scalars())


def _failed_lookups(engine: Engine) -> int:
    with Session(engine) as db:
        return db.execute(select(func.count()).select_from(RateLimitEvent)).scalar_one()


def _audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def _add_request(engine: Engine, world: World, taxpayer_id: int, *, service: str = "HMRC-MTD-VAT",
                 status: str = "pending", days_ago: int = 0, expires_in: int = 21, firm_id: int | None = None) -> int:
    with unit_of_work(engine) as db:
        record = AuthorisationRequest(
            firm_id=firm_id or world.firm.id, taxpayer_id=taxpayer_id, service=service,
            regime=BY_KEY[service].regime, status=status, created_by_user_id=world.agent.id,
            created_at=utcnow() - timedelta(days=days_ago), expires_on=date.today() + timedelta(days=expires_in))
        db.add(record)
        db.flush()
        return record.id


def _rows(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header">([^<]+)</th>', html)


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


# --- asking a client for authorisation -----------------------------------------------------------------------------


def test_an_agent_asks_a_vat_client_for_authorisation_page_by_page(client: TestClient, world: World,
                                                                      engine: Engine) -> None:
    taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _goes_to(client.get(NEW), f"{NEW}/client-type")
    assert "What type of client is this?" in client.get(f"{NEW}/client-type").text
    _goes_to(_answer(client, "client-type", client_type="business"), f"{NEW}/service")
    service_page = client.get(f"{NEW}/service").text
    assert "What do you want your client to authorise you for?" in service_page
    assert "You need to send a separate request for each tax service." in service_page
    _goes_to(_answer(client, "service", service="HMRC-MTD-VAT"), f"{NEW}/client-id")
    client_id_page = client.get(f"{NEW}/client-id").text
    assert "What is your client&#39;s VAT registration number?" in client_id_page
    assert "This is 9 numbers, for example 123456789" in client_id_page
    _goes_to(_answer(client, "client-id", identifier=f" {vrn[:3]} {vrn[3:]} "), f"{NEW}/known-fact")
    assert "When did your client&#39;s VAT registration start?" in client.get(f"{NEW}/known-fact").text
    _goes_to(_answer(client, "known-fact", **VAT_DATE), f"{NEW}/confirm-client")
    assert "Is Moorland Dairy Ltd the client you want authorisation from?" in client.get(f"{NEW}/confirm-client").text
    _goes_to(_answer(client, "confirm-client", confirm="yes"), f"{NEW}/check-your-answers")
    answers = client.get(f"{NEW}/check-your-answers").text
    for shown in ("Company or partnership", "VAT", vrn, "1 April 2017", "Confirm and send",
                  f'href="{NEW}/known-fact">Change<span class="govuk-visually-hidden"> VAT registration date'):
        assert shown in answers

    sent = _send(client)
    [created] = _requests(engine)
    _goes_to(sent, f"/authorisation-requests/{created.id}/sent")
    assert (created.taxpayer_id, created.service, created.status) == (taxpayer_id, "HMRC-MTD-VAT", "pending")
    assert created.expires_on == date.today() + timedelta(days=21)
    page = client.get(sent.headers["location"]).text
    assert "govuk-panel--confirmation" in page and "Authorisation request created" in page
    assert f"http://testserver/appoint-someone-to-deal-with-HMRC-for-you/{world.firm.link_uid}/harbour-tax/vat" in page
    assert "Your client has 21 days to respond" in page and _long_date(created.expires_on) in page
    assert "authorisation_request_created" in _audit_actions(engine)
    # The journey is forgotten: its pages start again.
    _goes_to(client.get(f"{NEW}/check-your-answers"), f"{NEW}/client-type")


def test_a_standard_user_asks_for_income_tax_as_a_supporting_agent(client: TestClient, world: World,
                                                                   engine: Engine) -> None:
    sign_in(client, "staff@example.com")
    _goes_to(_answer(client, "client-type", client_type="personal"), f"{NEW}/service")
    _goes_to(_answer(client, "service", service="income-tax"), f"{NEW}/agent-role")
    assert "How do you want to act for your client?" in client.get(f"{NEW}/agent-role").text
    _goes_to(_answer(client, "agent-role", role="supporting"), f"{NEW}/client-id")
    assert "For example, QQ 12 34 56 C" in client.get(f"{NEW}/client-id").text
    _goes_to(_answer(client, "client-id", identifier="ce 65 43 21 a"), f"{NEW}/known-fact")
    assert "What is your client&#39;s postcode?" in client.get(f"{NEW}/known-fact").text
    _goes_to(_answer(client, "known-fact", postcode="ls14dy"), f"{NEW}/confirm-client")
    _goes_to(_answer(client, "confirm-client", confirm="yes"), f"{NEW}/check-your-answers")
    answers = client.get(f"{NEW}/check-your-answers").text
    assert "Making Tax Digital for Income Tax (supporting agent)" in answers and "CE 65 43 21 A" in answers
    assert "LS1 4DY" in answers

    sent = _send(client)
    [created] = _requests(engine)
    _goes_to(sent, f"/authorisation-requests/{created.id}/sent")
    assert (created.taxpayer_id, created.service, created.created_by_user_id) == (
        world.other_client.id, "HMRC-MTD-IT-SUPP", world.staff.id)
    assert f"/{world.firm.link_uid}/harbour-tax/income-tax" in client.get(sent.headers["location"]).text


def test_income_tax_and_trusts_are_offered_once_each(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _answer(client, "client-type", client_type="personal")
    personal = client.get(f"{NEW}/service").text
    assert personal.count("Making Tax Digital for Income Tax") == 1 and "supporting agent" not in personal
    assert "Income Record Viewer" in personal and "Pillar 2" not in personal
    _answer(client, "client-type", client_type="trust")
    trust = client.get(f"{NEW}/service").text
    assert trust.count("Trusts and estates") == 1 and "non-taxable" not in trust


def test_a_trust_is_found_without_a_known_fact(client: TestClient, world: World, engine: Engine) -> None:
    utr = identifiers.make_utr(987654321)
    with unit_of_work(engine) as db:
        factories.taxpayer(db, "Whitfield Family Trust", "trust", utr=utr)
    sign_in(client, "agent@example.com")
    _answer(client, "client-type", client_type="trust")
    _goes_to(_answer(client, "service", service="trusts"), f"{NEW}/trust-taxable")
    assert "Is your client&#39;s trust or estate taxable?" in client.get(f"{NEW}/trust-taxable").text
    _goes_to(_answer(client, "trust-taxable", taxable="yes"), f"{NEW}/client-id")
    assert "This is 10 numbers, for example 12345 67890" in client.get(f"{NEW}/client-id").text
    _goes_to(_answer(client, "client-id", identifier=utr), f"{NEW}/confirm-client")
    _goes_to(client.get(f"{NEW}/known-fact"), f"{NEW}/confirm-client")
    _answer(client, "confirm-client", confirm="yes")
    _goes_to(_send(client), f"/authorisation-requests/{_requests(engine)[0].id}/sent")
    assert _requests(engine)[0].service == "HMRC-TERS-ORG"


def test_pages_ahead_of_the_answers_send_the_agent_back_to_the_first_unanswered_question(
        client: TestClient, world: World, engine: Engine) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _goes_to(client.get(f"{NEW}/check-your-answers"), f"{NEW}/client-type")
    _goes_to(client.post(f"{NEW}/check-your-answers", data={"csrf_token": csrf_from(client.get("/clients").text)}),
             f"{NEW}/client-type")
    _vat_up_to_check_answers(client, vrn)
    # Changing the client type forgets every later answer.
    _answer(client, "client-type", client_type="personal")
    _goes_to(client.get(f"{NEW}/check-your-answers"), f"{NEW}/service")
    _goes_to(client.get(f"{NEW}/agent-role"), f"{NEW}/service")
    assert _requests(engine) == []


def test_answers_with_mistakes_are_shown_again_with_govuk_error_messages(client: TestClient, world: World,
                                                                          engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    blank = _answer(client, "client-type")
    assert blank.status_code == 200 and "<title>Error: What type of client is this?" in blank.text
    assert '<a href="#client_type">Select the type of client</a>' in blank.text
    _answer(client, "client-type", client_type="business")
    _answer(client, "service", service="HMRC-MTD-VAT")
    for typed, message in (("", "Enter your client&#39;s VAT registration number"),
                           ("12345", "Enter a VAT registration number in the correct format")):
        response = _answer(client, "client-id", identifier=typed)
        assert response.status_code == 200 and message in response.text and 'value="' + typed + '"' in response.text
    _answer(client, "client-type", client_type="personal")
    _answer(client, "service", service="income-tax")
    _answer(client, "agent-role", role="main")
    nino = _answer(client, "client-id", identifier="QQ 12 34 56")
    assert identifiers.NINO_FORMAT_MESSAGE in nino.text
    _answer(client, "client-id", identifier="AB123456C")
    assert "Enter a real postcode" in _answer(client, "known-fact", postcode="NOT A POSTCODE").text
    _answer(client, "client-type", client_type="business")
    _answer(client, "service", service="HMRC-MTD-VAT")
    _answer(client, "client-id", identifier="101747696")
    bad_date = _answer(client, "known-fact", **{"date-day": "31", "date-month": "2", "date-year": "2017"})
    assert "The date your client&#39;s VAT registration started must be a real date" in bad_date.text
    assert _failed_lookups(engine) == 0  # answers in the wrong format are not look-ups


def test_a_wrong_known_fact_says_we_could_not_find_your_client(client: TestClient, world: World,
                                                                engine: Engine) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, vrn)
    _goes_to(_answer(client, "known-fact", **WRONG_VAT_DATE), f"{NEW}/client-not-found")
    page = client.get(f"{NEW}/client-not-found").text
    assert "We could not find your client" in page and "Moorland Dairy Ltd" not in page
    assert f'href="{NEW}/known-fact">Change' in page and "2 April 2017" in page
    assert _failed_lookups(engine) == 1
    _goes_to(client.get(f"{NEW}/confirm-client"), f"{NEW}/known-fact")  # no name is shown for a failed look-up


def test_an_unknown_reference_or_the_wrong_client_type_says_we_could_not_find_your_client(
        client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, identifiers.make_vrn(999))
    _goes_to(_answer(client, "known-fact", **VAT_DATE), f"{NEW}/client-not-found")
    _taxpayer_id, vrn = _vat_client(engine)
    _vat_up_to_known_fact(client, vrn, client_type="personal")  # it is a company
    _goes_to(_answer(client, "known-fact", **VAT_DATE), f"{NEW}/client-not-found")
    assert _failed_lookups(engine) == 2
    assert _requests(engine) == []


def test_a_request_already_waiting_for_the_client_is_refused(client: TestClient, world: World,
                                                              engine: Engine) -> None:
    taxpayer_id, vrn = _vat_client(engine)
    _add_request(engine, world, taxpayer_id)
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, vrn)
    _answer(client, "known-fact", **VAT_DATE)
    _goes_to(_answer(client, "confirm-client", confirm="yes"), f"{NEW}/already-pending")
    page = client.get(f"{NEW}/already-pending").text
    assert "You already created an authorisation request for this tax service" in page
    assert 'href="/authorisation-requests"' in page
    assert len(_requests(engine)) == 1


def test_a_request_made_in_another_tab_before_sending_is_refused_at_submit(client: TestClient, world: World,
                                                                            engine: Engine) -> None:
    taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_check_answers(client, vrn)
    _add_request(engine, world, taxpayer_id)
    _goes_to(_send(client), f"{NEW}/already-pending")
    assert len(_requests(engine)) == 1


def test_a_client_who_has_already_authorised_the_firm_is_not_asked_again(client: TestClient, world: World,
                                                                         engine: Engine) -> None:
    with unit_of_work(engine) as db:
        db.execute(update(TaxpayerIdentifier).where(TaxpayerIdentifier.taxpayer_id == world.vat_client.id,
                                                    TaxpayerIdentifier.kind == "vrn")
                   .values(registered_on=VAT_REGISTERED))
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, "101747696")
    _answer(client, "known-fact", **VAT_DATE)
    _goes_to(_answer(client, "confirm-client", confirm="yes"), f"{NEW}/already-authorised")
    page = client.get(f"{NEW}/already-authorised").text
    assert "You are already authorised" in page
    assert "You do not need to ask them to authorise you for this service again" in page
    assert _requests(engine) == []


def test_saying_it_is_not_the_right_client_asks_for_the_reference_again(client: TestClient, world: World,
                                                                         engine: Engine) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_known_fact(client, vrn)
    _answer(client, "known-fact", **VAT_DATE)
    _goes_to(_answer(client, "confirm-client", confirm="no"), f"{NEW}/client-id")
    _goes_to(client.get(f"{NEW}/confirm-client"), f"{NEW}/client-id")


def test_the_known_fact_is_checked_again_on_the_server_when_the_request_is_sent(
        client: TestClient, world: World, engine: Engine) -> None:
    taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_check_answers(client, vrn)
    # The answers held for the journey change after the client was confirmed (a bug or a tampered session).
    with unit_of_work(engine) as db:
        for record in db.execute(select(UserSession)).scalars():
            if "ask" in record.journeys:
                record.journeys = {**record.journeys, "ask": {**record.journeys["ask"], "known_fact": "2001-01-01"}}
    page = client.get(f"{NEW}/check-your-answers")
    assert page.status_code == 200
    _goes_to(client.post(f"{NEW}/check-your-answers", data={"csrf_token": csrf_from(page.text)}),
             f"{NEW}/client-not-found")
    assert _requests(engine) == [] and _failed_lookups(engine) == 1

    # HMRC's record changes between confirming the client and sending: the send is refused too.
    _vat_up_to_check_answers(client, vrn)
    with unit_of_work(engine) as db:
        db.execute(update(TaxpayerIdentifier).where(TaxpayerIdentifier.taxpayer_id == taxpayer_id)
                   .values(registered_on=date(2018, 1, 1)))
    _goes_to(_send(client), f"{NEW}/client-not-found")
    assert _requests(engine) == [] and _failed_lookups(engine) == 2


def test_the_sixth_failed_look_up_in_15_minutes_is_refused_even_with_the_right_answers_on_any_worker(
        client: TestClient, world: World, engine: Engine, settings: Settings) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_check_answers(client, vrn)  # ready to send, with the right answers
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as other_worker:
        sign_in(other_worker, "agent@example.com")
        _vat_up_to_known_fact(other_worker, vrn)
        for _ in range(5):
            _goes_to(_answer(other_worker, "known-fact", **WRONG_VAT_DATE), f"{NEW}/client-not-found")
        _goes_to(_answer(other_worker, "known-fact", **VAT_DATE), f"{NEW}/too-many-attempts")
    _goes_to(_send(client), f"{NEW}/too-many-attempts")
    page = client.get(f"{NEW}/too-many-attempts").text
    assert "You have tried too many times" in page and "Try again in 15 minutes" in page
    assert _requests(engine) == []
    # Another agent of the firm is not locked out by it.
    with TestClient(create_app(settings=settings, engine=engine), follow_redirects=False) as colleague:
        sign_in(colleague, "staff@example.com")
        _vat_up_to_known_fact(colleague, vrn)
        _goes_to(_answer(colleague, "known-fact", **VAT_DATE), f"{NEW}/confirm-client")
    # After 15 minutes the failed attempts no longer count.
    with unit_of_work(engine) as db:
        db.execute(update(RateLimitEvent).values(at=utcnow() - timedelta(minutes=16)))
    _goes_to(_send(client), f"/authorisation-requests/{_requests(engine)[0].id}/sent")


def test_a_second_click_on_confirm_and_send_shows_the_same_request(client: TestClient, world: World,
                                                                  engine: Engine) -> None:
    _taxpayer_id, vrn = _vat_client(engine)
    sign_in(client, "agent@example.com")
    _vat_up_to_check_answers(client, vrn)
    token = csrf_from(client.get(f"{NEW}/check-your-answers").text)
    first = client.post(f"{NEW}/check-your-answers", data={"csrf_token": token})
    second = client.post(f"{NEW}/check-your-answers", data={"csrf_token": token})
    assert first.headers["location"] == second.headers["location"]
    assert len(_requests(engine)) == 1


def test_the_client_link_uses_the_firms_code_and_normalised_name(world: World) -> None:
    assert normalise_agency_name("Smith  &  Jones\tTax Ltd.") == "smith--jones-tax-ltd"
    assert normalise_agency_name("O'Brien-Hart Accountants") == "obrien-hart-accountants"
    firm = Firm(arn="XARN0000001", name="Harbour Tax (Leeds)", email="x@example.com", link_uid="ABCD2345")
    assert client_link(firm, BY_KEY["HMRC-PPT-ORG"].url_part) == \
        "/appoint-someone-to-deal-with-HMRC-for-you/ABCD2345/harbour-tax-leeds/plastic-packaging-tax"


# --- track, resend and cancel --------------------------------------------------------------------------------------


def test_track_requests_lists_the_last_30_days_newest_first_with_what_each_status_allows(
        client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        ids = [factories.taxpayer(db, name, "business").id for name in ("Alder Ltd", "Birch Ltd", "Cedar Ltd",
                                                                            "Damson Ltd")]
    pending = _add_request(engine, world, ids[0], days_ago=1)
    _add_request(engine, world, ids[1], status="accepted", days_ago=2)
    _add_request(engine, world, ids[2], status="rejected", days_ago=3)
    _add_request(engine, world, ids[3], days_ago=31)  # too old to track
    _add_request(engine, world, world.other_client.id, firm_id=world.other_firm.id)
    sign_in(client, "agent@example.com")
    page = client.get("/authorisation-requests").text
    assert "Manage your recent authorisation requests" in page
    assert _rows(page) == ["Alder Ltd", "Birch Ltd", "Cedar Ltd"]
    assert "Client has not yet responded" in page
    assert f"Expires on {_long_date(date.today() + timedelta(days=21))}" in page
    assert f'href="/authorisation-requests/{pending}/resend">Resend link' in page
    assert f'href="/authorisation-requests/{pending}/cancel">Cancel request' in page
    assert f'href="/clients/{ids[1]}/stop-acting">Stop acting for this client' in page
    assert "Declined by client" in page and 'href="/authorisation-requests/new">Start a new request' in page

    assert _rows(client.get("/authorisation-requests?client=BIRCH").text) == ["Birch Ltd"]
    assert _rows(client.get("/authorisation-requests?status=pending").text) == ["Alder Ltd"]
    assert _rows(client.get("/authorisation-requests?status=expiring").text) == []
    assert _rows(client.get("/authorisation-requests?status=rejected&client=cedar").text) == ["Cedar Ltd"]
    nothing = client.get("/authorisation-requests?client=zzz").text
    assert "No authorisation requests match your filters" in nothing and _rows(nothing) == []
    too_long = client.get("/authorisation-requests?client=" + "x" * 101).text
    assert "<title>Error: Manage your recent authorisation requests" in too_long
    assert "Client name must be 100 characters or fewer" in too_long and len(_rows(too_long)) == 3


def test_a_firm_with_no_recent_requests_is_told_so(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get("/authorisation-requests").text
    assert "You have not created any authorisation requests in the last 30 days" in page


def test_twelve_requests_are_shown_ten_a_page_with_the_page_in_the_title(client: TestClient, world: World,
                                                                        engine: Engine) -> None:
    with unit_of_work(engine) as db:
        ids = [factories.taxpayer(db, f"Client {n:02d}", "business").id for n in range(12)]
    for n, taxpayer_id in enumerate(ids):
        _add_request(engine, world, taxpayer_id, days_ago=n)
    sign_in(client, "agent@example.com")
    first = client.get("/authorisation-requests").text
    assert "<title>Manage your recent authorisation requests (page 1 of 2)" in first
    assert _rows(first) == [f"Client {n:02d}" for n in range(10)]
    assert 'class="govuk-pagination"' in first and 'href="/authorisation-requests?page=2" rel="next"' in first
    second = client.get("/authorisation-requests?page=2").text
    assert _rows(second) == ["Client 10", "Client 11"]
    assert _rows(client.get("/authorisation-requests?page=99").text) == ["Client 10", "Client 11"]
    filtered = client.get("/authorisation-requests?status=pending&client=client").text
    assert 'href="/authorisation-requests?client=client&amp;status=pending&amp;page=2"' in filtered


def test_a_request_past_its_date_shows_as_expired_before_any_sweep(client: TestClient, world: World,
                                                                   engine: Engine) -> None:
    taxpayer_id, _vrn = _vat_client(engine)
    overdue = _add_request(engine, world, taxpayer_id, days_ago=22, expires_in=-1)
    sign_in(client, "agent@example.com")
    page = client.get("/authorisation-requests").text
    assert "Request expired as client did not respond in time" in page and "Resend link" not in page
    assert _rows(client.get("/authorisation-requests?status=expired").text) == ["Moorland Dairy Ltd"]
    assert _rows(client.get("/authorisation-requests?status=pending").text) == []
    assert "no longer waiting for a response" in client.get(f"/authorisation-requests/{overdue}/cancel").text
    assert _requests(engine)[0].status == "pending"  # nothing was written: the status is worked out


def test_resend_shows_the_link_again(client: TestClient, world: World, engine: Engine) -> None:
    taxpayer_id, _vrn = _vat_client(engine)
    request_id = _add_request(engine, world, taxpayer_id)
    sign_in(client, "staff@example.com")
    page = client.get(f"/authorisation-requests/{request_id}/resend").text
    assert "Resend the authorisation request link" in page
    assert f"/appoint-someone-to-deal-with-HMRC-for-you/{world.firm.link_uid}/harbour-tax/vat" in page


def test_cancelling_a_request_asks_first_then_cancels_it_once(client: TestClient, world: World,
                                                             engine: Engine) -> None:
    taxpayer_id, _vrn = _vat_client(engine)
    request_id = _add_request(engine, world, taxpayer_id)
    sign_in(client, "agent@example.com")
    url = f"/authorisation-requests/{request_id}/cancel"
    page = client.get(url)
    assert "Are you sure you want to cancel this authorisation request?" in page.text
    token = csrf_from(page.text)
    unanswered = client.post(url, data={"csrf_token": token})
    assert "Select yes if you want to cancel this authorisation request" in unanswered.text
    _goes_to(client.post(url, data={"confirm": "no", "csrf_token": token}), "/authorisation-requests")
    assert _requests(engine)[0].status == "pending"

    _goes_to(client.post(url, data={"confirm": "yes", "csrf_token": token}), f"{url}led")
    done = client.get(f"{url}led").text
    assert "govuk-panel--confirmation" in done and "Authorisation request cancelled" in done
    assert _requests(engine)[0].status == "cancelled"
    assert "authorisation_request_cancelled" in _audit_actions(engine)
    # A second click (or another tab) is told the request is no longer pending, not shown an error.
    _goes_to(client.post(url, data={"confirm": "yes", "csrf_token": token}), url)
    assert "no longer waiting for a response" in client.get(url).text
    assert _audit_actions(engine).count("authorisation_request_cancelled") == 1
    assert "Cancelled by you" in client.get("/authorisation-requests").text


def test_another_firms_request_is_not_found(client: TestClient, world: World, engine: Engine) -> None:
    theirs = _add_request(engine, world, world.other_client.id, firm_id=world.other_firm.id)
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/authorisation-requests").text)
    for path in ("sent", "resend", "cancel", "cancelled"):
        assert client.get(f"/authorisation-requests/{theirs}/{path}").status_code == 404
        assert client.get(f"/authorisation-requests/99999999999/{path}").status_code == 404
    assert client.post(f"/authorisation-requests/{theirs}/cancel",
                       data={"confirm": "yes", "csrf_token": token}).status_code == 404
    assert _requests(engine)[0].status == "pending"


def test_someone_without_an_agent_services_account_cannot_use_any_of_it(client: TestClient, world: World,
                                                                         engine: Engine) -> None:
    theirs = _add_request(engine, world, world.vat_client.id)
    sign_in(client, "jane@example.com")
    token = csrf_from(client.get("/account").text)
    for path in ("", "/new", "/new/client-type", "/new/service", "/new/client-id", "/new/known-fact",
                 "/new/confirm-client", "/new/check-your-answers", "/new/client-not-found",
                 "/new/too-many-attempts", "/new/already-pending", "/new/already-authorised", "/stopped",
                 f"/{theirs}/sent", f"/{theirs}/resend", f"/{theirs}/cancel", f"/{theirs}/cancelled"):
        assert client.get(f"/authorisation-requests{path}").status_code == 404, path
    assert client.post(f"{NEW}/client-type", data={"client_type": "personal", "csrf_token": token}).status_code == 404
    # Jane's own tax record: she is not acting for it as an agent.
    assert client.get(f"/clients/{world.itsa_client.id}").status_code == 200
    assert client.get(f"/clients/{world.itsa_client.id}/stop-acting").status_code == 404


def test_a_signed_out_person_is_sent_to_sign_in(client: TestClient, world: World) -> None:
    assert client.get("/authorisation-requests").headers["location"].startswith("/sign-in")


# --- stop acting for a client --------------------------------------------------------------------------------------


def test_a_standard_user_kept_out_of_a_client_by_access_groups_gets_no_stop_link_to_a_404(
        client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        firm_access.set_access_groups(db, firm_id=world.firm.id, actor_user_id=world.agent.id, enabled=True)
        theirs = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=world.agent.id, name="Theirs")
        firm_access.add_clients(db, theirs, actor_user_id=world.agent.id, taxpayer_ids=[world.vat_client.id])
    _add_request(engine, world, world.vat_client.id, status="accepted", days_ago=1)
    _add_request(engine, world, world.itsa_client.id, service="HMRC-MTD-IT", status="accepted", days_ago=2)
    stop = 'href="/clients/{}/stop-acting"'
    sign_in(client, "staff@example.com")
    page = client.get("/authorisation-requests").text
    assert _rows(page) == ["Granite Bakery Ltd", "Jane Whitfield"]  # the firm's requests, as before
    assert stop.format(world.vat_client.id) not in page  # in a group the staff member is not in
    assert client.get(f"/clients/{world.vat_client.id}/stop-acting").status_code == 404
    assert stop.format(world.itsa_client.id) in page  # in no group: theirs to act for
    client.post("/sign-out", data={"csrf_token": factories.csrf_from(page)})
    sign_in(client, "agent@example.com")
    assert stop.format(world.vat_client.id) in client.get("/authorisation-requests").text  # the administrator


def test_stopping_acting_for_a_client_ends_access_at_once(client: TestClient, world: World,
                                                          engine: Engine) -> None:
    client_id = world.vat_client.id
    sign_in(client, "agent@example.com")
    choose = client.get(f"/clients/{client_id}/stop-acting")
    assert "Which tax service do you want to stop acting for?" in choose.text and "VAT" in choose.text
    token = csrf_from(choose.text)
    assert "Select the tax service" in client.post(f"/clients/{client_id}/stop-acting",
                                                   data={"csrf_token": token}).text
    _goes_to(client.post(f"/clients/{client_id}/stop-acting", data={"service": "HMRC-MTD-VAT", "csrf_token": token}),
             f"/clients/{client_id}/stop-acting/HMRC-MTD-VAT")
    confirm = client.get(f"/clients/{client_id}/stop-acting/HMRC-MTD-VAT").text
    assert "Are you sure you want to stop acting for Granite Bakery Ltd for VAT?" in confirm
    assert "govuk-warning-text" in confirm and "will no longer be able to deal with VAT" in confirm

    _goes_to(client.post(f"/clients/{client_id}/stop-acting/HMRC-MTD-VAT", data={"csrf_token": token}),
             "/authorisation-requests/stopped")
    done = client.get("/authorisation-requests/stopped").text
    assert "You are no longer authorised" in done and "Granite Bakery Ltd" in done
    # The page names the tax service, and its title and header still name the portal (the two names once clashed).
    assert "<title>You are no longer authorised – Agent Online Self-Serve</title>" in done
    assert 'class="govuk-service-navigation__link">Agent Online Self-Serve</a>' in done
    assert client.get(f"/clients/{client_id}").status_code == 404
    assert client.get(f"/clients/{client_id}/stop-acting").status_code == 404
    with Session(engine) as db:
        event = db.execute(select(AuditEvent).where(AuditEvent.action == "authorisation_ended")).scalar_one()
        ended = db.execute(select(Authorisation).where(Authorisation.taxpayer_id == client_id)).scalar_one()
    assert (event.actor_user_id, event.authority, event.detail["ended_by"]) == (world.agent.id, "agent", "agent")
    assert ended.ended_at is not None and ended.ended_by == "agent"


def test_stopping_one_service_keeps_the_others(client: TestClient, world: World, engine: Engine) -> None:
    with unit_of_work(engine) as db:
        factories.authorise(db, db.get(Firm, world.firm.id), db.get(Taxpayer, world.itsa_client.id),
                            "PERSONAL-INCOME-RECORD")
    sign_in(client, "staff@example.com")
    url = f"/clients/{world.itsa_client.id}/stop-acting/PERSONAL-INCOME-RECORD"
    token = csrf_from(client.get(url).text)
    _goes_to(client.post(url, data={"csrf_token": token}), "/authorisation-requests/stopped")
    assert client.get(f"/clients/{world.itsa_client.id}").status_code == 200
    assert client.get(url).status_code == 404  # already ended


def test_stop_acting_is_not_found_for_a_client_the_firm_does_not_act_for(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    token = csrf_from(client.get("/clients").text)
    other = world.other_client.id
    assert client.get(f"/clients/{other}/stop-acting").status_code == 404
    assert client.get(f"/clients/{other}/stop-acting/HMRC-MTD-IT").status_code == 404
    assert client.post(f"/clients/{other}/stop-acting/HMRC-MTD-IT", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/clients/{world.vat_client.id}/stop-acting/HMRC-MTD-IT").status_code == 404
