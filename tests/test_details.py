from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain.models import AuditEvent, HelperLink, Taxpayer
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.factories import World, csrf_from, sign_in

ADDRESS = {"address_line1": "1 Quay Street", "address_line2": "", "town": "Leeds", "postcode": "ls2 7eq"}
CONTACT = {"email": "jane.w@example.com", "phone": "+44 (0)113 496 0000"}


def _post(client: TestClient, url: str, data: dict[str, str], page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page or "/sign-in").text)
    return client.post(url, data={**data, "csrf_token": token})


def _change(client: TestClient, taxpayer_id: int, part: str, answers: dict[str, str]) -> None:
    base = f"/clients/{taxpayer_id}/details/{part}"
    answered = _post(client, base, answers, base)
    assert answered.status_code == 303 and answered.headers["location"] == f"{base}/check", answered.text
    saved = _post(client, f"{base}/check", {}, f"{base}/check")
    assert saved.status_code == 303 and saved.headers["location"] == f"{base}/saved"


def _taxpayer(engine: Engine, taxpayer_id: int) -> Taxpayer:
    with Session(engine) as session:
        record = session.get(Taxpayer, taxpayer_id)
        assert record is not None
        return record


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _change_links(html: str) -> list[str]:
    return re.findall(r'>Change<span class="govuk-visually-hidden"> ([^<]+)</span>', html)


def _helper_for(engine: Engine, settings: Settings, taxpayer: Taxpayer, email: str = "helper@example.com") -> None:
    with unit_of_work(engine) as db:
        person = factories.user(db, settings, email, "Harriet Helper")
        db.add(HelperLink(taxpayer_id=taxpayer.id, invited_email=email, helper_user_id=person.id, status="active"))


def _supporting_client(engine: Engine, world: World) -> int:
    with unit_of_work(engine) as db:
        client = factories.taxpayer(db, "Sam Support", nino="AB654321C")
        factories.authorise(db, world.firm, client, "HMRC-MTD-IT-SUPP")
        assert client.id is not None
        return client.id


# --- the taxpayer themselves ---------------------------------------------------------------------------------------


def test_the_taxpayer_sees_their_details_with_change_links(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/details")
    assert page.status_code == 200
    assert "<title>Your details – Jane Whitfield" in page.text
    assert "LS1 4DY" in page.text
    # issue 15 added the last row: whether the client is a Scottish taxpayer
    assert _change_links(page.text) == ["postal address", "email address", "phone number",
                                        "whether a Scottish taxpayer"]


def test_the_taxpayer_changes_their_address_and_the_change_is_audited(
        client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details/address"
    form = client.get(base)
    assert 'value="LS1 4DY"' in form.text  # starts from what is held now
    answered = _post(client, base, ADDRESS, base)
    assert answered.status_code == 303 and answered.headers["location"] == f"{base}/check"
    check = client.get(f"{base}/check")
    assert "1 Quay Street" in check.text and "LS2 7EQ" in check.text
    assert "Save address" in check.text
    assert _change_links(check.text) == ["postal address"]
    assert _taxpayer(engine, world.itsa_client.id).address_line1 == ""  # nothing saved before the button
    saved = _post(client, f"{base}/check", {}, f"{base}/check")
    assert saved.status_code == 303 and saved.headers["location"] == f"{base}/saved"
    assert "Address updated" in client.get(saved.headers["location"]).text
    held = _taxpayer(engine, world.itsa_client.id)
    assert (held.address_line1, held.town, held.postcode) == ("1 Quay Street", "Leeds", "LS2 7EQ")
    [event] = _events(engine, "address_changed")
    assert (event.authority, event.actor_user_id, event.firm_id, event.taxpayer_id) == (
        "self", world.client_user.id, None, world.itsa_client.id)
    assert event.detail["old"]["postcode"] == "LS1 4DY" and event.detail["new"]["postcode"] == "LS2 7EQ"


def test_address_errors_are_shown_by_their_fields_and_keep_what_was_typed(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details/address"
    page = _post(client, base, {"address_line1": "", "address_line2": "Flat 2", "town": "", "postcode": "NOT A CODE"},
                 base)
    assert page.status_code == 200
    assert "<title>Error:" in page.text
    for message in ("Enter address line 1, typically the building and street", "Enter town or city",
                    "Enter a real postcode"):
        assert page.text.count(message) == 2  # in the summary and by the field
    assert 'value="Flat 2"' in page.text and 'value="NOT A CODE"' in page.text
    assert _post(client, base, {**ADDRESS, "postcode": ""}, base).text.count("Enter postcode") == 2


def test_over_long_values_are_refused_and_nothing_is_saved(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details"
    address = _post(client, f"{base}/address", {**ADDRESS, "address_line1": "a" * 101, "address_line2": "b" * 101,
                                                "town": "c" * 61}, f"{base}/address")
    assert "Address line 1 must be 100 characters or fewer" in address.text
    assert "Address line 2 must be 100 characters or fewer" in address.text
    assert "Town or city must be 60 characters or fewer" in address.text
    contact = _post(client, f"{base}/contact", {"email": "a" * 250 + "@example.com", "phone": "1" * 31},
                    f"{base}/contact")
    assert "Email address must be 254 characters or fewer" in contact.text
    assert "Phone number must be 30 characters or fewer" in contact.text
    # Nothing reached the check page, and nothing reached the database.
    assert client.get(f"{base}/address/check").headers["location"] == f"{base}/address"
    assert client.get(f"{base}/contact/check").headers["location"] == f"{base}/contact"
    assert _taxpayer(engine, world.itsa_client.id).address_line1 == ""
    assert _events(engine, "address_changed") == []


def test_values_at_the_limits_are_saved(client: TestClient, world: World, engine: Engine) -> None:
    # On PostgreSQL an over-long value would be an error: this proves the limits match the columns.
    sign_in(client, "jane@example.com")
    _change(client, world.itsa_client.id, "address", {"address_line1": "a" * 100, "address_line2": "b" * 100,
                                                      "town": "c" * 60, "postcode": "bfpo 1234"})
    _change(client, world.itsa_client.id, "contact", {"email": "a" * 242 + "@example.com", "phone": "1" * 30})
    held = _taxpayer(engine, world.itsa_client.id)
    assert held.town == "c" * 60 and held.postcode == "BFPO1234" and len(held.email) == 254


def test_contact_details_need_an_email_and_a_plausible_phone(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details/contact"
    page = _post(client, base, {"email": "", "phone": "call me"}, base)
    assert page.text.count("Enter an email address") == 2
    assert "Enter a phone number, like" in page.text
    assert "Enter an email address in the correct format" in _post(client, base, {"email": "jane@", "phone": ""},
                                                                   base).text
    _change(client, world.itsa_client.id, "contact", {"email": "jane.w@example.com", "phone": ""})  # phone optional
    assert _taxpayer(engine, world.itsa_client.id).email == "jane.w@example.com"
    [event] = _events(engine, "contact_details_changed")
    assert event.detail["new"] == {"email": "jane.w@example.com", "phone": ""}
    assert "Contact details updated" in client.get(f"{base}/saved").text


def test_the_check_page_sends_you_back_to_the_question_without_answers(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details/address"
    assert client.get(f"{base}/check").headers["location"] == base
    refused = _post(client, f"{base}/check", {}, base)
    assert refused.status_code == 303 and refused.headers["location"] == base


def test_changing_your_answer_starts_from_what_you_typed(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    base = f"/clients/{world.itsa_client.id}/details/address"
    _post(client, base, ADDRESS, base)
    assert 'value="1 Quay Street"' in client.get(base).text


# --- agents --------------------------------------------------------------------------------------------------------


def test_the_main_income_tax_agent_changes_the_address_and_the_client_sees_it_at_once(
        client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/details")
    assert "<title>Details – Jane Whitfield" in page.text and "You are acting for" in page.text
    # issue 15 added the last row: whether the client is a Scottish taxpayer
    assert _change_links(page.text) == ["postal address", "email address", "phone number",
                                        "whether a Scottish taxpayer"]
    _change(client, world.itsa_client.id, "address", ADDRESS)
    [event] = _events(engine, "address_changed")
    assert (event.authority, event.actor_user_id, event.firm_id) == ("agent", world.agent.id, world.firm.id)
    sign_in(client, "jane@example.com")
    assert "1 Quay Street" in client.get(f"/clients/{world.itsa_client.id}/details").text


def test_a_vat_agent_may_change_details(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "staff@example.com")
    assert _change_links(client.get(f"/clients/{world.vat_client.id}/details").text)
    _change(client, world.vat_client.id, "contact", CONTACT)
    assert _taxpayer(engine, world.vat_client.id).phone == CONTACT["phone"]


def test_a_supporting_agent_sees_details_but_cannot_change_them(
        client: TestClient, world: World, engine: Engine) -> None:
    taxpayer_id = _supporting_client(engine, world)
    sign_in(client, "agent@example.com")
    page = client.get(f"/clients/{taxpayer_id}/details")
    assert page.status_code == 200 and "Sam Support" in page.text
    assert _change_links(page.text) == []
    base = f"/clients/{taxpayer_id}/details"
    for part in ("address", "contact"):
        assert client.get(f"{base}/{part}").status_code == 404
        assert client.get(f"{base}/{part}/check").status_code == 404
        assert client.get(f"{base}/{part}/saved").status_code == 404
        assert _post(client, f"{base}/{part}", ADDRESS | CONTACT, base).status_code == 404
        assert _post(client, f"{base}/{part}/check", {}, base).status_code == 404
    assert _taxpayer(engine, taxpayer_id).address_line1 == ""


def test_another_firms_agent_finds_nothing(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "other@example.com")
    base = f"/clients/{world.itsa_client.id}/details"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/address").status_code == 404
    assert _post(client, f"{base}/address", ADDRESS).status_code == 404
    assert _post(client, f"{base}/address/check", {}).status_code == 404
    assert _events(engine, "address_changed") == []


def test_unknown_parts_and_impossible_ids_are_not_found(client: TestClient, world: World) -> None:
    sign_in(client, "jane@example.com")
    assert client.get(f"/clients/{world.itsa_client.id}/details/name").status_code == 404
    assert client.get(f"/clients/{2**31}/details").status_code == 404
    assert client.get(f"/clients/{2**31}/details/address").status_code == 404


def test_signed_out_people_are_asked_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get(f"/clients/{world.itsa_client.id}/details")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


# --- trusted helpers -----------------------------------------------------------------------------------------------


def test_a_trusted_helper_changes_contact_details(
        client: TestClient, world: World, engine: Engine, settings: Settings) -> None:
    _helper_for(engine, settings, world.itsa_client)
    sign_in(client, "helper@example.com")
    page = client.get(f"/clients/{world.itsa_client.id}/details")
    assert "You are helping" in page.text and _change_links(page.text)
    _change(client, world.itsa_client.id, "contact", CONTACT)
    [event] = _events(engine, "contact_details_changed")
    assert (event.authority, event.firm_id) == ("helper", None)
    assert _taxpayer(engine, world.itsa_client.id).email == CONTACT["email"]


def test_an_ended_helper_finds_nothing(client: TestClient, world: World, engine: Engine, settings: Settings) -> None:
    _helper_for(engine, settings, world.itsa_client)
    with unit_of_work(engine) as db:
        for link in db.execute(select(HelperLink)).scalars():
            link.status = "ended"
    sign_in(client, "helper@example.com")
    assert client.get(f"/clients/{world.itsa_client.id}/details").status_code == 404
    assert client.get(f"/clients/{world.itsa_client.id}/details/address").status_code == 404


# --- Scottish taxpayer (issue 15) ------------------------------------------------------------------------------------


def test_the_main_agent_records_that_the_client_is_a_scottish_taxpayer(client: TestClient, world: World,
                                                                       engine: Engine) -> None:
    sign_in(client, "agent@example.com")
    base = f"/clients/{world.itsa_client.id}/details/scottish-taxpayer"
    assert "Scottish taxpayer</dt><dd class=\"govuk-summary-list__value\">No<" in client.get(
        f"/clients/{world.itsa_client.id}/details").text
    question = client.get(base).text
    assert "Is Jane Whitfield a Scottish taxpayer?" in question and 'value="no" checked' in question
    refused = _post(client, base, {}, base)
    assert refused.status_code == 200 and refused.text.count("Select yes if the main home is in Scotland") == 2
    _change(client, world.itsa_client.id, "scottish-taxpayer", {"scottish_taxpayer": "yes"})
    assert _taxpayer(engine, world.itsa_client.id).scottish_taxpayer is True
    [event] = _events(engine, "scottish_taxpayer_changed")
    assert (event.authority, event.firm_id) == ("agent", world.firm.id)
    assert (event.detail["old"], event.detail["new"]) == ({"scottish_taxpayer": "no"}, {"scottish_taxpayer": "yes"})
    sign_in(client, "jane@example.com")
    assert "Yes: Scottish rates of Income Tax" in client.get(f"/clients/{world.itsa_client.id}/details").text


def test_a_supporting_agent_cannot_change_whether_the_client_is_a_scottish_taxpayer(
        client: TestClient, world: World, engine: Engine) -> None:
    taxpayer_id = _supporting_client(engine, world)
    sign_in(client, "agent@example.com")
    base = f"/clients/{taxpayer_id}/details/scottish-taxpayer"
    assert client.get(base).status_code == 404
    assert _post(client, base, {"scottish_taxpayer": "yes"}, f"/clients/{taxpayer_id}/details").status_code == 404
    assert _taxpayer(engine, taxpayer_id).scottish_taxpayer is False


def test_a_business_has_no_scottish_taxpayer_question(client: TestClient, world: World) -> None:
    sign_in(client, "staff@example.com")
    page = client.get(f"/clients/{world.vat_client.id}/details").text
    assert "Scottish taxpayer" not in page
    assert client.get(f"/clients/{world.vat_client.id}/details/scottish-taxpayer").status_code == 404
