"""HMRC's Agent Authorisation API (api.md §2 and §4): every endpoint and error code, on the pages' own rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal.domain import handshake
from portal.domain.models import AuditEvent, Authorisation, Membership, TaxpayerIdentifier
from portal.domain.services import BY_KEY
from portal.domain.sql import unit_of_work
from portal.domain.team_models import AccessGroup
from tests import factories
from tests.factories import World
from tests.oauth_dance import ALL_SCOPES, V2, Api, access_for

ITSA = {"service": "MTD-IT", "clientType": "personal", "clientIdType": "ni", "clientId": "CE654321A",
        "knownFact": "LS1 4DY"}
VAT = {"service": "MTD-VAT", "clientType": "business", "clientIdType": "vrn", "clientId": "101747696",
       "knownFact": "2007-05-18"}


def registered_on(engine: Engine, vrn: str, when: date) -> None:
    with unit_of_work(engine) as db:
        row = db.execute(select(TaxpayerIdentifier).where(col(TaxpayerIdentifier.value) == vrn)).scalar_one()
        row.registered_on = when


def new_vat_client(engine: Engine) -> None:
    with unit_of_work(engine) as db:
        taxpayer = factories.taxpayer(db, "Meadow Print Works Ltd", "business", vrn="042424213")
        db.execute(select(TaxpayerIdentifier))
        for row in db.execute(select(TaxpayerIdentifier).where(col(TaxpayerIdentifier.taxpayer_id) == taxpayer.id)
                              ).scalars():
            row.registered_on = date(2019, 4, 1)


def test_e1_creates_a_request_204_with_location_and_e3_reads_it_back(api: Api, world: World) -> None:
    response = api("POST", "/agents/{arn}/invitations", ITSA | {"agentType": "supporting"})
    assert response.status_code == 204, response.text
    location = response.headers["location"]
    assert location.startswith(f"/agents/{world.firm.arn}/invitations/")
    body = api("GET", location).json()
    assert body["invitationId"] == location.rsplit("/", 1)[1] and body["status"] == "Pending"
    assert body["service"] == "MTD-IT" and body["agentType"] == "supporting" and body["arn"] == world.firm.arn
    assert body["_links"]["self"]["href"] == location and body["created"].endswith("Z")
    assert body["expiresOn"] == (date.today() + timedelta(days=21)).isoformat() and "clientActionUrl" in body


def test_e1_vat_with_the_registration_date_and_service_as_an_array(api: Api, engine: Engine) -> None:
    new_vat_client(engine)
    body = VAT | {"service": ["MTD-VAT"], "clientId": "042424213", "knownFact": "2019-04-01"}
    assert api("POST", "/agents/{arn}/invitations", body).status_code == 204


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"service": "HMRC-CGT"}, 400, "SERVICE_NOT_SUPPORTED"),
    ({"clientType": "business"}, 400, "CLIENT_TYPE_NOT_SUPPORTED"),
    ({"clientId": "XX"}, 400, "CLIENT_ID_FORMAT_INVALID"),
    ({"clientIdType": "vrn"}, 400, "CLIENT_ID_DOES_NOT_MATCH_SERVICE"),
    ({"knownFact": "not a postcode"}, 400, "POSTCODE_FORMAT_INVALID"),
    ({"agentType": "deputy"}, 400, "AGENT_TYPE_NOT_SUPPORTED"),
    ({"clientId": "AA999999A"}, 403, "CLIENT_REGISTRATION_NOT_FOUND"),
    ({"knownFact": "M1 2AB"}, 403, "POSTCODE_DOES_NOT_MATCH"),
    ({"clientId": 5}, 400, "INVALID_PAYLOAD"),
])
def test_e1_refusals_carry_hmrcs_codes(api: Api, change: dict[str, Any], status: int, code: str) -> None:
    response = api("POST", "/agents/{arn}/invitations", ITSA | change)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert set(response.json()) == {"code", "message"}


def test_e1_vat_date_codes(api: Api) -> None:
    bad = api("POST", "/agents/{arn}/invitations", VAT | {"knownFact": "18/05/2007"})
    assert (bad.status_code, bad.json()["code"]) == (400, "VAT_REG_DATE_FORMAT_INVALID")


def test_e1_vat_date_mismatch(api: Api, engine: Engine) -> None:
    new_vat_client(engine)
    wrong = api("POST", "/agents/{arn}/invitations", VAT | {"clientId": "042424213", "knownFact": "2019-04-02"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "VAT_REG_DATE_DOES_NOT_MATCH")


def test_known_facts_are_upper_cased_and_spaces_ignored(api: Api) -> None:
    assert api("POST", "/agents/{arn}/invitations", ITSA | {"knownFact": "ls14dy"}).status_code == 204


def test_e1_a_second_pending_request_is_a_duplicate_with_the_first_ones_location(api: Api) -> None:
    first = api("POST", "/agents/{arn}/invitations", ITSA)
    second = api("POST", "/agents/{arn}/invitations", ITSA | {"agentType": "supporting"})
    assert (second.status_code, second.json()["code"]) == (403, "DUPLICATE_AUTHORISATION_REQUEST")
    assert second.headers["location"] == first.headers["location"]


def test_e1_already_authorised(api: Api) -> None:
    body = ITSA | {"clientId": "AB123456C"}  # Harbour is Jane Whitfield's main agent
    response = api("POST", "/agents/{arn}/invitations", body)
    assert (response.status_code, response.json()["code"]) == (403, "ALREADY_AUTHORISED")


def test_the_known_fact_lock_out_is_the_pages_own(api: Api, engine: Engine, world: World) -> None:
    for _ in range(5):
        assert api("POST", "/agents/{arn}/invitations", ITSA | {"knownFact": "M1 2AB"}).status_code == 403
    locked = api("POST", "/agents/{arn}/invitations", ITSA)
    assert (locked.status_code, locked.json()["code"]) == (429, "MESSAGE_THROTTLED_OUT")
    assert int(locked.headers["retry-after"]) > 0
    with unit_of_work(engine) as db:  # the look-up the ask pages make counts the same five failures
        found = handshake.look_up_client(db, user_id=world.agent.id, service=BY_KEY["HMRC-MTD-IT"],
                                         client_type="personal", identifier="CE654321A", known_fact="LS1 4DY")
    assert found is handshake.LookUp.TOO_MANY_ATTEMPTS


def test_e2_lists_the_last_30_days_and_204_when_none(api: Api) -> None:
    assert api("GET", "/agents/{arn}/invitations").status_code == 204
    api("POST", "/agents/{arn}/invitations", ITSA)
    listed = api("GET", "/agents/{arn}/invitations")
    assert listed.status_code == 200 and [i["status"] for i in listed.json()] == ["Pending"]
    assert "invitationId" in listed.json()[0]


def test_e3_and_e4_not_found(api: Api) -> None:
    for method in ("GET", "DELETE"):
        response = api(method, "/agents/{arn}/invitations/999999")
        assert (response.status_code, response.json()["code"]) == (404, "INVITATION_NOT_FOUND")


def test_e4_cancels_once_then_invalid_status(api: Api) -> None:
    location = api("POST", "/agents/{arn}/invitations", ITSA).headers["location"]
    assert api("DELETE", location).status_code == 204
    assert api("GET", location).json()["status"] == "Cancelled" and "updated" in api("GET", location).json()
    again = api("DELETE", location)
    assert (again.status_code, again.json()["code"]) == (403, "INVALID_INVITATION_STATUS")


def test_another_firms_request_is_not_found(api: Api, client: TestClient, world: World) -> None:
    location = api("POST", "/agents/{arn}/invitations", ITSA).headers["location"]
    client.cookies.clear()
    _app, tokens = access_for(client, "other@example.com")
    other = Api(client, str(tokens["access_token"]), world.other_firm.arn)
    request_id = location.rsplit("/", 1)[1]
    assert other("GET", f"/agents/{{arn}}/invitations/{request_id}").json()["code"] == "INVITATION_NOT_FOUND"


def test_e5_checks_a_relationship_with_the_known_fact(api: Api) -> None:
    held = ITSA | {"clientId": "AB123456C"}
    held.pop("clientType")
    assert api("POST", "/agents/{arn}/relationships", held).status_code == 204
    supporting = api("POST", "/agents/{arn}/relationships", held | {"agentType": "supporting"})
    assert (supporting.status_code, supporting.json()["code"]) == (404, "RELATIONSHIP_NOT_FOUND")
    wrong_fact = api("POST", "/agents/{arn}/relationships", held | {"knownFact": "M1 2AB"})
    assert (wrong_fact.status_code, wrong_fact.json()["code"]) == (403, "POSTCODE_DOES_NOT_MATCH")


def test_e6_deauthorises_then_no_relationship(api: Api, engine: Engine, world: World) -> None:
    body = {"service": "MTD-IT", "clientType": "personal", "clientIdType": "ni", "clientId": "AB123456C"}
    assert api("PUT", "/agents/{arn}/deauthorise-client", body).status_code == 204
    with Session(engine) as db:
        ended = db.execute(select(Authorisation).where(col(Authorisation.taxpayer_id) == world.itsa_client.id)
                           ).scalar_one()
        assert ended.ended_at is not None and ended.ended_by == "agent"
        event = db.execute(select(AuditEvent).where(col(AuditEvent.action) == "authorisation_ended")).scalar_one()
        assert event.detail["using"] == "Ledgerly Desktop" and event.authority == "agent"
    again = api("PUT", "/agents/{arn}/deauthorise-client", body)
    assert (again.status_code, again.json()["code"]) == (403, "NO_RELATIONSHIP")
    bad = api("PUT", "/agents/{arn}/deauthorise-client", body | {"clientId": "nope"})
    assert (bad.status_code, bad.json()["code"]) == (400, "CLIENT_ID_FORMAT_INVALID")


def test_e6_is_2_0_only_and_1_0_serves_the_rest(api: Api) -> None:
    body = {"service": "MTD-IT", "clientType": "personal", "clientIdType": "ni", "clientId": "AB123456C"}
    in_1_0 = api("PUT", "/agents/{arn}/deauthorise-client", body, accept="application/vnd.hmrc.1.0+json")
    assert (in_1_0.status_code, in_1_0.json()["code"]) == (404, "MATCHING_RESOURCE_NOT_FOUND")
    assert api("GET", "/agents/{arn}/invitations", accept="application/vnd.hmrc.1.0+json").status_code == 204


def test_changes_show_in_activity_as_the_agent_using_the_software(api: Api, client: TestClient) -> None:
    api("POST", "/agents/{arn}/invitations", ITSA)
    factories.sign_in(client, "agent@example.com")
    assert "using Ledgerly Desktop" in client.get("/activity").text


@pytest.mark.parametrize(("accept", "status", "code"), [
    (None, 406, "ACCEPT_HEADER_INVALID"), ("application/json", 406, "ACCEPT_HEADER_INVALID"),
    ("application/vnd.hmrc.3.0+json", 400, "BAD_REQUEST"), ("application/vnd.hmrc.2.0+xml", 400, "BAD_REQUEST"),
])
def test_the_accept_header_rules(api: Api, accept: str | None, status: int, code: str) -> None:
    response = api("GET", "/agents/{arn}/invitations", accept=accept)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_post_needs_json(api: Api) -> None:
    response = api.client.post(f"/agents/{api.arn}/invitations", content=b"service=MTD-IT",
                               headers={"Authorization": f"Bearer {api.token}", "Accept": V2,
                                        "Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.json()["code"]) == (400, "BAD_REQUEST")
    broken = api.client.post(f"/agents/{api.arn}/invitations", content=b"{", headers={
        "Authorization": f"Bearer {api.token}", "Accept": V2, "Content-Type": "application/json"})
    assert (broken.status_code, broken.json()["code"]) == (400, "INVALID_PAYLOAD")


def test_no_token_a_bad_token_a_cookie_or_a_missing_scope_is_unauthorized(api: Api, client: TestClient,
                                                                        world: World) -> None:
    assert api("GET", "/agents/{arn}/invitations", Authorization="").json()["code"] == "UNAUTHORIZED"
    assert api("GET", "/agents/{arn}/invitations", Authorization="Bearer nope").status_code == 401
    factories.sign_in(client, "agent@example.com")  # a signed-in browser's cookie is not a credential here
    response = client.get(f"/agents/{world.firm.arn}/invitations", headers={"Accept": V2})
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")
    client.cookies.clear()
    _app, narrow = access_for(client, "agent@example.com", scope="read:sent-invitations")
    limited = Api(client, str(narrow["access_token"]), world.firm.arn)
    assert limited("GET", "/agents/{arn}/invitations").status_code == 204
    assert limited("POST", "/agents/{arn}/invitations", ITSA).json()["code"] == "UNAUTHORIZED"


def test_another_agencys_arn_is_no_permission(api: Api, world: World) -> None:
    response = api("GET", f"/agents/{world.other_firm.arn}/invitations")
    assert (response.status_code, response.json()["code"]) == (403, "NO_PERMISSION_ON_AGENCY")


def test_an_agent_who_left_the_firm_is_not_subscribed(api: Api, engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        db.delete(db.execute(select(Membership).where(col(Membership.user_id) == world.agent.id)).scalar_one())
    response = api("GET", "/agents/{arn}/invitations")
    assert (response.status_code, response.json()["code"]) == (403, "AGENT_NOT_SUBSCRIBED")


def test_access_groups_apply_to_a_token_as_to_the_pages(client: TestClient, world: World, engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portal.api.http.RATE_LIMIT", 1000)
    with unit_of_work(engine) as db:
        firm = db.get(type(world.firm), world.firm.id)
        assert firm is not None
        firm.access_groups_enabled = True
        group = AccessGroup(firm_id=firm.id, name="Partners only")
        db.add(group)
        db.flush()
        factories.in_group(db, group, world.itsa_client)
    _app, tokens = access_for(client, "staff@example.com", scope=ALL_SCOPES)
    staff = Api(client, str(tokens["access_token"]), world.firm.arn)
    check = {"service": "MTD-IT", "clientIdType": "ni", "clientId": "AB123456C", "knownFact": "LS1 4DY"}
    assert staff("POST", "/agents/{arn}/relationships", check).json()["code"] == "RELATIONSHIP_NOT_FOUND"
    deauthorise = {"service": "MTD-IT", "clientType": "personal", "clientIdType": "ni", "clientId": "AB123456C"}
    assert staff("PUT", "/agents/{arn}/deauthorise-client", deauthorise).json()["code"] == "NO_RELATIONSHIP"


def test_a_failure_is_hmrcs_json_500_and_changes_nothing(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(handshake, "track_requests", broken)
    response = api("GET", "/agents/{arn}/invitations")
    assert (response.status_code, response.json()["code"]) == (500, "INTERNAL_SERVER_ERROR")
    assert "the database went away" not in response.text and "the database went away" in caplog.text
