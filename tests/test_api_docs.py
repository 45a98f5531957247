"""The API's documentation: an OpenAPI 3.1 document generated from the code, and a reference page."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_the_openapi_document_lists_every_endpoint_with_its_scope_and_codes(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) >= {
        "/agents/{arn}/invitations", "/agents/{arn}/invitations/{invitation_id}", "/agents/{arn}/relationships",
        "/agents/{arn}/deauthorise-client", "/agents/{arn}/relationship-events",
        "/organisations/vat/{vrn}/obligations", "/organisations/vat/{vrn}/returns",
        "/organisations/vat/{vrn}/returns/{period_key}"}
    create = doc["paths"]["/agents/{arn}/invitations"]["post"]
    assert create["security"] == [{"oauth2": ["write:sent-invitations"]}]
    assert "DUPLICATE_AUTHORISATION_REQUEST" in create["responses"]["403"]["description"]
    assert doc["components"]["schemas"]["Invitation"]["properties"]["invitationId"]
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flows["authorizationUrl"].endswith("/oauth/authorize") and "write:vat" in flows["scopes"]


def test_the_reference_page_reads_the_same_document(client: TestClient) -> None:
    page = client.get("/api/reference")
    assert page.status_code == 200
    assert "POST /agents/{arn}/invitations" in page.text and "<script src=\"http" not in page.text
