"""Schemathesis, driven by the OpenAPI document: no server errors, and every response matches the document."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain.sql import make_engine, unit_of_work
from portal.settings import Settings
from tests import factories
from tests.oauth_dance import access_for

SETTINGS = Settings(database_url="sqlite://", secret_key="fuzz-secret-key-" + "x" * 32, environment="test")
ENGINE: Engine = make_engine("sqlite://")
SQLModel.metadata.create_all(ENGINE)
APP = create_app(settings=SETTINGS, engine=ENGINE)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module")
def token() -> Iterator[str]:
    with unit_of_work(ENGINE) as db:
        factories.build_world(db, SETTINGS)
    with TestClient(APP, follow_redirects=False) as client:
        _app, tokens = access_for(client, "agent@example.com")
    yield str(tokens["access_token"])


@pytest.fixture(autouse=True)
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portal.api.http.RATE_LIMIT", 10**9)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case: schemathesis.Case, token: str) -> None:
    version = "1.0" if case.path.startswith("/organisations/") else "2.0"
    response = case.call_and_validate(  # raises, naming the check, on any response the document does not allow
        headers={"Authorization": f"Bearer {token}", "Accept": f"application/vnd.hmrc.{version}+json"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        excluded_checks=[positive_data_acceptance, negative_data_rejection, missing_required_header,
                         unsupported_method, ignored_auth])
    assert response.status_code < 500, response.text  # what a vendor notices first: no server error
