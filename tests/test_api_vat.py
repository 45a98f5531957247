"""HMRC's VAT (MTD) API (api.md §8) and the sandbox test support (§5)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.testclient import TestClient

from portal.domain.models import AuditEvent, Authorisation, Submission
from portal.domain.sql import unit_of_work
from portal.settings import Settings
from tests import factories
from tests.oauth_dance import Api, access_for
from tests.test_api_agents import ITSA
from tests.welsh import choose_welsh

V1 = "application/vnd.hmrc.1.0+json"
VRN = "101747696"


def period_key() -> str:
    return f"VAT{date.today() - timedelta(days=3):%y%m%d}"


def nine_boxes(**change: Any) -> dict[str, Any]:
    return {"periodKey": period_key(), "vatDueSales": 105.5, "vatDueAcquisitions": -100.45, "totalVatDue": 5.05,
            "vatReclaimedCurrPeriod": 105.15, "netVatDue": 100.1, "totalValueSalesExVAT": 300,
            "totalValuePurchasesExVAT": 300, "totalValueGoodsSuppliedExVAT": 3000, "totalAcquisitionsExVAT": 3000,
            "finalised": True} | change


def test_obligations_with_the_filters(api: Api) -> None:
    today = date.today()
    found = api("GET", f"/organisations/vat/{VRN}/obligations?from={today - timedelta(days=300)}&to={today}",
                accept=V1)
    assert found.status_code == 200, found.text
    [obligation] = found.json()["obligations"]
    assert obligation["status"] == "O" and obligation["periodKey"] == period_key()
    assert api("GET", f"/organisations/vat/{VRN}/obligations?status=O", accept=V1).status_code == 200
    fulfilled = api("GET", f"/organisations/vat/{VRN}/obligations?status=F&from={today - timedelta(days=300)}"
                    f"&to={today}", accept=V1)
    assert (fulfilled.status_code, fulfilled.json()["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(("query", "code"), [
    ("", "INVALID_DATE_FROM"), ("?from=2026-01-01", "INVALID_DATE_TO"), ("?from=2026-13-01&to=2026-01-01",
                                                                           "INVALID_DATE_FROM"),
    ("?from=2026-01-01&to=2025-01-01", "INVALID_DATE_RANGE"), ("?from=2024-01-01&to=2026-01-01", "INVALID_DATE_RANGE"),
    ("?status=X", "INVALID_STATUS"),
])
def test_obligation_filter_errors(api: Api, query: str, code: str) -> None:
    response = api("GET", f"/organisations/vat/{VRN}/obligations{query}", accept=V1)
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_vrn_invalid_and_not_authorised(api: Api) -> None:
    bad = api("GET", "/organisations/vat/12345/obligations?status=O", accept=V1)
    assert (bad.status_code, bad.json()["code"]) == (400, "VRN_INVALID")
    # Jane Whitfield is registered for VAT, but the firm acts for her Income Tax only: the gate says no.
    other = api("GET", "/organisations/vat/101747641/obligations?status=O", accept=V1)
    assert (other.status_code, other.json()["code"]) == (403, "CLIENT_OR_AGENT_NOT_AUTHORISED")


def test_submit_once_then_duplicate_then_view(api: Api, engine: Engine) -> None:
    sent = api("POST", f"/organisations/vat/{VRN}/returns", nine_boxes(), accept=V1)
    assert sent.status_code == 201, sent.text
    assert sent.json()["formBundleNumber"] == sent.headers["receipt-id"] and "x-correlationid" in sent.headers
    again = api("POST", f"/organisations/vat/{VRN}/returns", nine_boxes(), accept=V1)
    assert (again.status_code, again.json()["code"]) == (403, "DUPLICATE_SUBMISSION")
    viewed = api("GET", f"/organisations/vat/{VRN}/returns/{period_key()}", accept=V1)
    assert viewed.status_code == 200 and viewed.json() == {k: v for k, v in nine_boxes().items() if k != "finalised"}
    with Session(engine) as db:
        event = db.execute(select(AuditEvent).where(col(AuditEvent.action) == "vat_return_submitted")).scalar_one()
        assert event.detail["using"] == "Ledgerly Desktop"


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"totalVatDue": 6}, 400, "VAT_TOTAL_VALUE"),
    ({"netVatDue": 99}, 400, "VAT_NET_VALUE"),
    ({"finalised": False}, 403, "NOT_FINALISED"),
    ({"periodKey": "ab"}, 400, "PERIOD_KEY_INVALID"),
    ({"vatDueSales": "105.50"}, 400, "INVALID_NUMERIC_VALUE"),
    ({"vatDueSales": 105.555}, 400, "INVALID_MONETARY_AMOUNT"),
    ({"totalValueSalesExVAT": 300.5}, 400, "INVALID_MONETARY_AMOUNT"),
    ({"vatDueSales": 10_000_000_000_000.0}, 400, "INVALID_MONETARY_AMOUNT"),
    ({"surprise": 1}, 400, "INVALID_REQUEST"),
    ({"periodKey": "ZZZZ"}, 404, "NOT_FOUND"),
])
def test_submission_refusals(api: Api, change: dict[str, Any], status: int, code: str) -> None:
    response = api("POST", f"/organisations/vat/{VRN}/returns", nine_boxes(**change), accept=V1)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_the_api_answers_in_english_whatever_language_the_browser_chose(api: Api) -> None:
    too_big = nine_boxes(vatDueSales=10_000_000_000_000.0)  # refused with the nine-box rule's own message
    english = api("POST", f"/organisations/vat/{VRN}/returns", too_big, accept=V1).json()
    choose_welsh(api.client)
    chosen_welsh = api("POST", f"/organisations/vat/{VRN}/returns?lang=cy", too_big, accept=V1)
    assert chosen_welsh.json() == english and english["code"] == "INVALID_MONETARY_AMOUNT"
    assert "language=" not in chosen_welsh.headers.get("set-cookie", "")


def test_a_period_not_ended_and_a_return_not_found(api: Api, engine: Engine, world: factories.World) -> None:
    with unit_of_work(engine) as db:
        factories.obligation(db, world.vat_client, "VAT", date.today() + timedelta(days=60), kind="VAT return")
    future = f"VAT{date.today() + timedelta(days=60):%y%m%d}"
    response = api("POST", f"/organisations/vat/{VRN}/returns", nine_boxes(periodKey=future), accept=V1)
    assert (response.status_code, response.json()["code"]) == (403, "TAX_PERIOD_NOT_ENDED")
    missing = api("GET", f"/organisations/vat/{VRN}/returns/{future}", accept=V1)
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")


def test_a_return_over_four_years_old_is_out_of_range(api: Api, engine: Engine, world: factories.World) -> None:
    with unit_of_work(engine) as db:
        factories.obligation(db, world.vat_client, "VAT", date.today() - timedelta(days=5 * 365), kind="VAT return")
    old = f"VAT{date.today() - timedelta(days=5 * 365):%y%m%d}"
    response = api("GET", f"/organisations/vat/{VRN}/returns/{old}", accept=V1)
    assert (response.status_code, response.json()["code"]) == (403, "DATE_RANGE_TOO_LARGE")


def test_two_identical_vat_submissions_at_once_send_one(two_workers: tuple[TestClient, TestClient],
                                                       file_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portal.api.http.RATE_LIMIT", 1000)
    one, two = two_workers
    _app, tokens = access_for(one, "agent@example.com")
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": V1}
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda c: c.post(f"/organisations/vat/{VRN}/returns", json=nine_boxes(),
                                                    headers=headers).status_code, (one, two)))
    assert statuses == [201, 403]
    with Session(file_engine) as db:
        assert db.execute(select(func.count()).select_from(Submission)).scalar_one() == 1


def test_test_support_looks_up_known_facts_and_answers_as_the_client(api: Api, engine: Engine,
                                                                     world: factories.World) -> None:
    with unit_of_work(engine) as db:
        owner = factories.user(db, Settings(database_url="sqlite://", secret_key="k" * 40, environment="test"),
                               "oscar@example.com")
        taxpayer = db.get(type(world.other_client), world.other_client.id)
        assert taxpayer is not None
        taxpayer.owner_user_id = owner.id
    fact = api("GET", "/agent-authorisation-test-support/known-facts/mtd-it/nino/CE654321A")
    assert fact.status_code == 200 and fact.json()["knownFact"] == "LS1 4DY"
    created = api("POST", "/agents/{arn}/invitations", fact.json())
    assert created.status_code == 204, created.text
    request_id = created.headers["location"].rsplit("/", 1)[1]
    answer = f"/agent-authorisation-test-support/known-facts/invitations/{request_id}"
    assert api("PUT", answer).status_code == 204
    assert api("PUT", answer).status_code == 409 and api("DELETE", answer).status_code == 409
    assert api("PUT", "/agent-authorisation-test-support/known-facts/invitations/999999").status_code == 404
    check = {"service": "MTD-IT", "clientIdType": "ni", "clientId": "CE654321A", "knownFact": "LS1 4DY"}
    assert api("POST", "/agents/{arn}/relationships", check).status_code == 204
    with Session(engine) as db:
        assert db.execute(select(Authorisation).where(col(Authorisation.taxpayer_id) == world.other_client.id,
                                                      col(Authorisation.firm_id) == world.firm.id)).scalar_one()
    vat_fact = api("GET", f"/agent-authorisation-test-support/known-facts/mtd-vat/vrn/{VRN}")
    assert vat_fact.status_code == 200 and vat_fact.json()["clientType"] == "business"
    assert api("GET", "/agent-authorisation-test-support/known-facts/mtd-vat/vrn/042424213").status_code == 404


def test_test_support_rejects_as_the_client(api: Api, engine: Engine, world: factories.World) -> None:
    with unit_of_work(engine) as db:
        taxpayer = db.get(type(world.other_client), world.other_client.id)
        assert taxpayer is not None
        taxpayer.owner_user_id = world.client_user.id
    request_id = api("POST", "/agents/{arn}/invitations", ITSA).headers["location"].rsplit("/", 1)[1]
    assert api("DELETE", f"/agent-authorisation-test-support/known-facts/invitations/{request_id}"
               ).status_code == 204
    assert api("GET", f"/agents/{{arn}}/invitations/{request_id}").json()["status"] == "Rejected"


def test_test_support_cannot_answer_for_a_client_with_no_account(api: Api) -> None:
    # Oscar Pennine (world.other_client) has no sign-in of his own: nobody the test client could answer as.
    request_id = api("POST", "/agents/{arn}/invitations", ITSA).headers["location"].rsplit("/", 1)[1]
    for method in ("PUT", "DELETE"):
        answered = api(method, f"/agent-authorisation-test-support/known-facts/invitations/{request_id}")
        assert (answered.status_code, answered.json()["code"]) == (409, "CLIENT_HAS_NO_ACCOUNT")
    assert api("GET", f"/agents/{{arn}}/invitations/{request_id}").json()["status"] == "Pending"


def test_test_support_is_not_served_in_production(settings: Settings, engine: Engine) -> None:
    from portal.app import create_app
    production = Settings(database_url="sqlite://", secret_key="p" * 40, environment="production")
    app = create_app(settings=production, engine=engine)
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/agent-authorisation-test-support")]
