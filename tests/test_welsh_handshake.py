"""The authorisation handshake in Welsh (issue 10): the agent's ask journey and request tracking, the client's
accept/decline page and "who can act for you", with Welsh statuses, roles, errors and the "Gwall:" title."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain import handshake
from portal.domain.client_links import client_link
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer, User
from portal.domain.services import BY_KEY
from tests.factories import World, csrf_from, sign_in
from tests.welsh import choose_welsh as _welsh

NEW = "/authorisation-requests/new"


def _ask(db: Session, firm: Firm, agent: User, taxpayer: Taxpayer, key: str) -> AuthorisationRequest:
    made = handshake.create_request(db, firm_id=firm.id, user_id=agent.id, service=BY_KEY[key],
                                    taxpayer=taxpayer, today=date.today())
    db.commit()
    return made


def test_the_ask_journeys_first_question_is_in_welsh(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    page = client.get(f"{NEW}/client-type?lang=cy")
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    assert "Pa fath o gleient yw hwn?" in page.text
    assert "Unigolyn neu unig fasnachwr" in page.text and "Cwmni neu bartneriaeth" in page.text
    assert "Parhau" in page.text
    assert "What type of client is this?" not in page.text and "Individual or sole trader" not in page.text


def test_a_failed_answer_gives_welsh_errors_and_a_gwall_title(client: TestClient, world: World) -> None:
    sign_in(client, "agent@example.com")
    _welsh(client)
    page = client.get(f"{NEW}/client-type")
    again = client.post(f"{NEW}/client-type", data={"csrf_token": csrf_from(page.text)})
    assert again.status_code == 200
    assert "<title>Gwall:" in again.text
    assert "Dewiswch y math o gleient" in again.text
    assert "Select the type of client" not in again.text
    # A later question, built from its own whole sentences: the reference and its error for VAT.
    client.post(f"{NEW}/client-type", data={"client_type": "business", "csrf_token": csrf_from(page.text)})
    service = client.get(f"{NEW}/service")
    assert "Ar gyfer beth rydych am i’ch cleient eich awdurdodi?" in service.text and "TAW" in service.text
    client.post(f"{NEW}/service", data={"service": "HMRC-MTD-VAT", "csrf_token": csrf_from(service.text)})
    reference = client.get(f"{NEW}/client-id")
    assert "Beth yw rhif cofrestru TAW eich cleient?" in reference.text
    wrong = client.post(f"{NEW}/client-id", data={"identifier": "12345", "csrf_token": csrf_from(reference.text)})
    assert "<title>Gwall:" in wrong.text
    assert "Nodwch rif cofrestru TAW yn y fformat cywir" in wrong.text


def test_the_clients_accept_or_decline_page_is_in_welsh(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-IT")
    sign_in(client, "jane@example.com")
    _welsh(client)
    page = client.get(client_link(world.other_firm, BY_KEY["HMRC-MTD-IT"].url_part) + "/respond")
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    # The role words sit inside whole Welsh sentences.
    assert ("Mae Northgate Accountancy am fod yn brif asiant i chi ar gyfer Treth Incwm "
            "(Troi Treth yn Ddigidol)") in page.text
    assert ("A ydych am awdurdodi Northgate Accountancy i fod yn brif asiant i chi ar gyfer Treth Incwm "
            "(Troi Treth yn Ddigidol)?") in page.text
    assert "Os ydych yn awdurdodi Northgate Accountancy, byddwn yn tynnu Harbour Tax fel eich prif asiant" in page.text
    assert "cyflwyno’ch Ffurflen Dreth diwedd blwyddyn" in page.text
    assert "wants to be your" not in page.text and "main agent" not in page.text
    again = client.post(f"/authorisation-response/{made.id}/consent", data={"csrf_token": csrf_from(page.text)})
    assert "<title>Gwall:" in again.text
    assert "Dewiswch ‘Iawn’ os ydych am awdurdodi Northgate Accountancy" in again.text
    declining = client.post(f"/authorisation-response/{made.id}/consent",
                            data={"authorise": "no", "csrf_token": csrf_from(page.text)})
    decline = client.get(declining.headers["location"])
    assert "A ydych yn siŵr eich bod am wrthod?" in decline.text and "Gwrthod y cais" in decline.text


def test_who_can_act_for_you_is_in_welsh(client: TestClient, world: World, db: Session) -> None:
    _ask(db, world.other_firm, world.other_agent, world.itsa_client, "HMRC-MTD-VAT")
    sign_in(client, "jane@example.com")
    page = client.get("/manage-your-tax-agents?lang=cy")
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    assert "Rheoli pwy sy’n gallu delio â’ch treth" in page.text
    assert "Ceisiadau presennol" in page.text and "Asiantau a chynorthwywyr awdurdodedig" in page.text
    assert "Prif asiant" in page.text  # Harbour Tax's role for Income Tax
    assert "Tynnu<span class=\"govuk-visually-hidden\"> Harbour Tax ar gyfer" in page.text
    assert "Manage who can deal with your tax" not in page.text and "Main agent" not in page.text


def test_the_agents_request_tracking_has_welsh_statuses(client: TestClient, world: World, db: Session) -> None:
    made = _ask(db, world.firm, world.agent, world.other_client, "HMRC-MTD-IT-SUPP")
    declined = _ask(db, world.firm, world.agent, world.itsa_client, "HMRC-MTD-VAT")
    handshake.decline_request(db, user_id=world.client_user.id, request=declined, today=date.today())
    db.commit()
    sign_in(client, "agent@example.com")
    page = client.get("/authorisation-requests?lang=cy")
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    assert "Rheoli’ch ceisiadau diweddar am awdurdodiad" in page.text
    assert "Nid yw’r cleient wedi ymateb eto" in page.text and "Gwrthodwyd gan y cleient" in page.text
    assert "Troi Treth yn Ddigidol ar gyfer Treth Incwm (asiant ategol)" in page.text
    assert "Pob statws" in page.text  # the status filter
    assert "Client has not yet responded" not in page.text and "Declined by client" not in page.text
    filtered = client.get("/authorisation-requests?status=rejected")
    assert "Gwrthodwyd gan y cleient" in filtered.text and made.id is not None
