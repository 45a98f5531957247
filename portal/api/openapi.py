"""The OpenAPI 3.1 document, generated from the routes and the `endpoint` declarations (portal.api.http.Spec) and
the pydantic models (portal.api.schemas): nothing here is written by hand twice. Served at /api/openapi.json,
and read by the reference page (portal.areas.api_access) and by the schemathesis run in the tests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.api import schemas
from portal.api.http import COMMON_ERRORS, Spec
from portal.domain.api_access import SCOPES

TITLE = "Agent Online Self-Serve API"


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _media(versions: tuple[str, ...]) -> list[str]:
    return [f"application/vnd.hmrc.{version}+json" for version in versions]


def _operation(route: Route, method: str, spec: Spec, components: dict[str, Any]) -> dict[str, Any]:
    endpoint = route.endpoint
    doc = (endpoint.__doc__ or "").strip()
    operation: dict[str, Any] = {
        "operationId": endpoint.__name__, "summary": doc.split("\n")[0], "description": doc,
        "parameters": [{"name": "Accept", "in": "header", "required": True,
                        "schema": {"type": "string", "enum": _media(spec.versions)}}],
        "responses": {},
    }
    for name in route.param_convertors:
        operation["parameters"].append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    for name in spec.query:
        operation["parameters"].append({"name": name, "in": "query", "required": False, "schema": {"type": "string"}})
    if method == "POST":
        operation["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                        "schema": {"type": "string", "maxLength": 255}})
    if spec.scope is not None:
        operation["security"] = [{"oauth2": [spec.scope]}]
    else:
        operation["security"] = [{"oauth2": []}]
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _schema_ref(spec.body, components)}}}
    for status, model in spec.responses.items():
        response: dict[str, Any] = {"description": "Success"}
        if model is schemas.Invitations:  # E2's body is HMRC's bare array
            response["content"] = {"application/json": {"schema": {
                "type": "array", "items": _schema_ref(schemas.Invitation, components)}}}
        elif model is not None:
            response["content"] = {"application/json": {"schema": _schema_ref(model, components)}}
        operation["responses"][str(status)] = response
    error_ref = _schema_ref(schemas.Error, components)
    errors: dict[int, list[str]] = {}
    for status, codes in [*COMMON_ERRORS.items(), *spec.errors.items()]:
        errors.setdefault(status, [])
        errors[status] += [code for code in codes if code not in errors[status]]
    if len(spec.versions) < 2:
        errors.setdefault(404, []).append("MATCHING_RESOURCE_NOT_FOUND")
    for status, codes in sorted(errors.items()):
        operation["responses"][str(status)] = {
            "description": "Codes: " + ", ".join(codes),
            "content": {"application/json": {"schema": error_ref}}}
    return operation


def document(routes: list[BaseRoute], base_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for route in routes:
        spec: Spec | None = getattr(getattr(route, "endpoint", None), "api_spec", None)
        if not isinstance(route, Route) or spec is None:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, method, spec, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "2.0",
                 "description": "HMRC's Agent Authorisation API 2.0 (and 1.0) and VAT (MTD) API 1.0, served by this "
                                "portal on the same rules as its pages, and more: a client list, a change feed, "
                                "Idempotency-Key. Errors are always {code, message}."},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"oauth2": {
            "type": "oauth2", "flows": {"authorizationCode": {
                "authorizationUrl": f"{base_url}/oauth/authorize", "tokenUrl": f"{base_url}/oauth/token",
                "refreshUrl": f"{base_url}/oauth/token", "scopes": dict(SCOPES)}}}}},
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document(request.app.routes, request.app.state.settings.base_url))


routes = [Route("/api/openapi.json", openapi_json, name="api_openapi")]
