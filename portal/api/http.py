"""The API's HTTP rules, as HMRC's platform applies them: the Accept header's version, JSON bodies, error bodies
`{"code", "message"}`, bearer tokens (never a cookie), 3 requests a second per application, Idempotency-Key.

A token acts as the agent who granted it, read afresh on every request (their firm, role and access groups
today, not when they granted it), and no more than its scopes allow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.api.oauth import find_access_token
from portal.domain import audit, ratelimits
from portal.domain.api_models import ApiApplication, ApiIdempotencyKey
from portal.domain.models import Firm, Membership, User, utcnow
from portal.domain.people import Viewer
from portal.domain.sql import unit_of_work
from portal.web.db import db_session, will_write

log = logging.getLogger("portal")
VERSIONS = ("1.0", "2.0")
ACCEPT = re.compile(r"application/vnd\.hmrc\.(?P<version>[^+]+)\+(?P<format>.+)")
RATE_LIMIT, RATE_WINDOW = 3, timedelta(seconds=1)  # HMRC's: 3 requests a second per application
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_DAYS = 1  # a key answers retries for a day (README, "The API")


class ApiError(Exception):
    """An HMRC-style refusal: the status, the fixed code and a message that may change."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "message": self.message}, status_code=self.status,
                            headers=self.headers)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(status, code, message, headers)


def version_of(request: Request) -> str:
    """HMRC's AcceptHeaderFilter: no (or an unreadable) header is 406; a version or format it does not serve, 400."""
    accept = request.headers.get("accept", "").strip()
    match = ACCEPT.fullmatch(accept)
    if match is None:
        raise error(406, "ACCEPT_HEADER_INVALID", "The accept header is missing or invalid")
    if match["version"] not in VERSIONS or match["format"] != "json":
        raise error(400, "BAD_REQUEST", "The version or format in the accept header is not supported")
    return match["version"]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the agent (as the pages know them), through which software, with which scopes."""

    viewer: Viewer
    application: ApiApplication
    scopes: frozenset[str]
    version: str


def _viewer(db: Session, user_id: int) -> Viewer | None:
    row = db.execute(
        select(User, Membership, Firm).outerjoin(Membership, col(Membership.user_id) == User.id)
        .outerjoin(Firm, col(Firm.id) == Membership.firm_id).where(col(User.id) == user_id)).first()
    if row is None:
        return None
    user, membership, firm = row
    if membership is None or firm is None:
        return Viewer(user.id, user.name, user.email, 0)
    return Viewer(user.id, user.name, user.email, 0, firm.id, firm.name, firm.arn, membership.role,
                  firm.access_groups_enabled)


def authenticate(request: Request, db: Session, scope: str | None, version: str) -> Caller:
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise error(401, "UNAUTHORIZED", "Bearer token is missing or not authorized")
    row = find_access_token(db, token.strip())
    if row is None:
        raise error(401, "UNAUTHORIZED", "Bearer token is missing or not authorized")
    application = db.get(ApiApplication, row.application_id)
    viewer = _viewer(db, row.user_id)
    if application is None or viewer is None:
        raise error(401, "UNAUTHORIZED", "Bearer token is missing or not authorized")
    scopes = frozenset(row.scope.split())
    if scope is not None and scope not in scopes:
        raise error(401, "UNAUTHORIZED", f"The token was not granted the scope {scope}")
    return Caller(viewer, application, scopes, version)


def require_agent(caller: Caller, arn: str) -> None:
    """HMRC's AuthActions: an agent, subscribed, acting for the agency in the path."""
    if not caller.viewer.is_agent:
        raise error(403, "AGENT_NOT_SUBSCRIBED", "The user does not have an agent services account")
    if caller.viewer.arn != arn:
        raise error(403, "NO_PERMISSION_ON_AGENCY", "The user is not permitted to act for this agency")


def throttle(db: Session, application_id: int) -> None:
    """3 requests a second per application, counted in the database so every worker and host shares the count."""
    key = ratelimits.limit_key("api", str(application_id))
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=RATE_LIMIT, window=RATE_WINDOW, now=now):
        raise error(429, "MESSAGE_THROTTLED_OUT", "The request for the API is throttled as you have exceeded your "
                    "quota.", {"Retry-After": "1"})
    ratelimits.record_attempt(db, key=key, window=RATE_WINDOW, now=now)
    db.flush()


async def json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise error(400, "BAD_REQUEST", "Content-Type must be application/json")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise error(400, "INVALID_PAYLOAD", "The payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise error(400, "INVALID_PAYLOAD", "The payload must be a JSON object")
    return body


Handler = Callable[[Request, Session, Caller], Awaitable[Response]]
COMMON_ERRORS = {401: ["UNAUTHORIZED"], 406: ["ACCEPT_HEADER_INVALID"], 400: ["BAD_REQUEST"],
                 429: ["MESSAGE_THROTTLED_OUT"]}


@dataclass(frozen=True)
class Spec:
    """What portal.api.openapi documents of an endpoint: read from the declaration, never written twice."""

    scope: str | None
    versions: tuple[str, ...]
    body: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    errors: dict[int, list[str]]
    query: tuple[str, ...]


def endpoint(scope: str | None, *, versions: tuple[str, ...] = VERSIONS, body: type[BaseModel] | None = None,
             responses: dict[int, type[BaseModel] | None] | None = None, errors: dict[int, list[str]] | None = None,
             query: tuple[str, ...] = ()) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wraps a handler in the platform's rules, in HMRC's order: version, token, agency, throttle; then, for a
    POST, the Idempotency-Key. Every change it makes is audited as the agent using the application."""
    spec = Spec(scope, versions, body, responses or {204: None}, errors or {}, query)

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                version = version_of(request)
                if version not in versions:
                    raise error(404, "MATCHING_RESOURCE_NOT_FOUND", "No such resource in this version")
                # The token and the rate limit in a transaction of their own, committed before the request's begins:
                # a request that is then refused (a bad body, an unknown client) still counts towards the limit.
                with unit_of_work(request.scope["state"]["engine"]) as own:
                    caller = authenticate(request, own, scope, version)
                    throttle(own, caller.application.id)
                will_write(request)
                db = db_session(request)
                if "arn" in request.path_params:
                    require_agent(caller, request.path_params["arn"])
                with audit.acting_through(caller.application.name):
                    if request.method == "POST" and request.headers.get("idempotency-key"):
                        return await _idempotent(request, db, caller, handler)
                    return await handler(request, db, caller)
            except ApiError as refused:
                return refused.response()
            except Exception:  # HMRC's JSON 500 for software, never the portal's HTML error page; the log has the rest
                log.exception("API request failed: %s %s", request.method, request.url.path)
                return error(500, "INTERNAL_SERVER_ERROR", "Internal server error").response()

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        run.api_spec = spec  # type: ignore[attr-defined]  # read by portal.api.openapi
        return run

    return wrap


def _fingerprint(request: Request, body: bytes) -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).hexdigest()


async def _idempotent(request: Request, db: Session, caller: Caller, handler: Handler) -> Response:
    """A retry with the same key and body gets the first response; another body, 422. The key's row is written
    before the work: a concurrent retry waits on its unique index (PostgreSQL) or on the single writer (SQLite),
    then finds the first one's answer. Refusals are not kept: their transaction, key and all, rolls back."""
    key = request.headers["idempotency-key"]
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise error(400, "BAD_REQUEST", f"Idempotency-Key must be {IDEMPOTENCY_KEY_MAX} characters or fewer")
    fingerprint = _fingerprint(request, await request.body())
    since = utcnow() - timedelta(days=IDEMPOTENCY_DAYS)
    existing = _stored(db, caller.application.id, key)
    if existing is not None and existing.created_at.replace(tzinfo=since.tzinfo) < since:
        db.delete(existing)
        db.flush()
        existing = None
    if existing is None:
        row = ApiIdempotencyKey(application_id=caller.application.id, key=key, fingerprint=fingerprint)
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
        except IntegrityError:
            existing = _stored(db, caller.application.id, key)
        else:
            response = await handler(request, db, caller)
            if response.status_code < 400:
                row.status = response.status_code
                row.body = bytes(response.body).decode() if response.body else ""
                row.location = response.headers.get("location")
                db.flush()
            return response
    assert existing is not None
    if existing.fingerprint != fingerprint:
        raise error(422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request")
    if existing.status is None:
        raise error(409, "REQUEST_IN_PROGRESS", "The first request with this Idempotency-Key is still running")
    headers = {"Idempotent-Replayed": "true"} | ({"Location": existing.location} if existing.location else {})
    if not existing.body:
        return Response(status_code=existing.status, headers=headers)
    return Response(existing.body, status_code=existing.status, headers=headers, media_type="application/json")


def _stored(db: Session, application_id: int, key: str) -> ApiIdempotencyKey | None:
    found: ApiIdempotencyKey | None = db.execute(
        select(ApiIdempotencyKey).where(col(ApiIdempotencyKey.application_id) == application_id,
                                        col(ApiIdempotencyKey.key) == key)).scalar_one_or_none()
    return found
