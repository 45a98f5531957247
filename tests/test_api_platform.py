"""The API's platform promises: 3 requests a second per application across workers, Idempotency-Key, and two
identical requests at once making one change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from portal.domain.models import AuthorisationRequest
from tests.oauth_dance import V2, Api, access_for
from tests.test_api_agents import ITSA

FROZEN = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def arn_of(engine: Engine) -> str:
    from portal.domain.models import Firm
    with Session(engine) as db:
        return db.execute(select(Firm.arn).where(Firm.name == "Harbour Tax")).scalar_one()


def test_3_requests_a_second_per_application_across_two_workers(two_workers: tuple[TestClient, TestClient],
                                                               file_engine: Engine,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = two_workers
    _app, tokens = access_for(one, "agent@example.com")
    monkeypatch.setattr("portal.api.http.utcnow", lambda: FROZEN)  # all within the same second
    arn = arn_of(file_engine)
    first, second = Api(one, str(tokens["access_token"]), arn), Api(two, str(tokens["access_token"]), arn)
    statuses = [first("GET", "/agents/{arn}/invitations").status_code,
                second("GET", "/agents/{arn}/invitations").status_code,
                first("GET", "/agents/{arn}/invitations").status_code]
    assert statuses == [204, 204, 204]
    throttled = second("GET", "/agents/{arn}/invitations")
    assert (throttled.status_code, throttled.json()["code"]) == (429, "MESSAGE_THROTTLED_OUT")
    assert throttled.headers["retry-after"] == "1"


def requests_made(engine: Engine) -> int:
    with Session(engine) as db:
        return db.execute(select(func.count()).select_from(AuthorisationRequest)).scalar_one()


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(api: Api, engine: Engine) -> None:
    first = api("POST", "/agents/{arn}/invitations", ITSA, **{"Idempotency-Key": "abc-1"})
    retry = api("POST", "/agents/{arn}/invitations", ITSA, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == retry.status_code == 204
    assert retry.headers["location"] == first.headers["location"] and retry.headers["idempotent-replayed"] == "true"
    assert requests_made(engine) == 1
    other_body = api("POST", "/agents/{arn}/invitations", ITSA | {"agentType": "supporting"},
                     **{"Idempotency-Key": "abc-1"})
    assert (other_body.status_code, other_body.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    without_key = api("POST", "/agents/{arn}/invitations", ITSA)
    assert without_key.json()["code"] == "DUPLICATE_AUTHORISATION_REQUEST"


def _post(client: TestClient, token: str, arn: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": V2} | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/agents/{arn}/invitations", json=ITSA, headers=headers).status_code


@pytest.mark.parametrize("key", [None, "same-key"])
def test_two_identical_creates_at_once_make_one_request(two_workers: tuple[TestClient, TestClient],
                                                        file_engine: Engine, key: str | None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portal.api.http.RATE_LIMIT", 1000)
    one, two = two_workers
    _app, tokens = access_for(one, "agent@example.com")
    arn = arn_of(file_engine)
    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda c: _post(c, str(tokens["access_token"]), arn, key), (one, two)))
    assert requests_made(file_engine) == 1
    assert results == ([204, 204] if key else [204, 403])


def test_refused_requests_count_towards_the_limit_too(client: TestClient, world: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _app, tokens = access_for(client, "agent@example.com")
    monkeypatch.setattr("portal.api.http.utcnow", lambda: FROZEN)
    arn = world.firm.arn  # type: ignore[attr-defined]
    api = Api(client, str(tokens["access_token"]), arn)
    for _ in range(3):
        assert api("POST", "/agents/{arn}/invitations", {"service": "nope"}).status_code == 400
    throttled = api("GET", "/agents/{arn}/invitations")
    assert (throttled.status_code, throttled.json()["code"]) == (429, "MESSAGE_THROTTLED_OUT")
