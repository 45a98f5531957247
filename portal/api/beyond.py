"""Beyond HMRC (api.md §9): the firm's client list by cursor, and a change feed of its authorisations, so software
need not discover a removal by a failed call. Both apply the caller's access groups, as every list of clients does.

Cursors are opaque to software but are keyset positions (the last row's id): pages never shift as rows arrive."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.api.agents import API_NAME, invitation_path
from portal.api.http import Caller, endpoint, error
from portal.api.schemas import ClientList, RelationshipEvents, shaped
from portal.domain.access import restricted_by_groups, visible_client
from portal.domain.models import AuditEvent, Authorisation, Taxpayer, TaxpayerIdentifier
from portal.domain.numbers import whole_number
from portal.domain.services import BY_KEY
from portal.domain.times import aware

MAX_LIMIT, DEFAULT_LIMIT = 500, 100
FEED_ACTIONS = {"authorisation_request_accepted": "request_accepted", "authorisation_request_declined":
                "request_declined", "authorisation_request_expired": "request_expired",
                "authorisation_request_cancelled": "request_cancelled", "authorisation_ended": "authorisation_ended"}


def encode_cursor(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, raw: str | None) -> int:
    if not raw:
        return 0
    try:
        found_kind, _, position = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition(":")
        number = whole_number(position, max_digits=11)
        if found_kind == kind and number is not None:
            return number
    except (ValueError, UnicodeDecodeError):
        pass
    raise error(400, "INVALID_CURSOR", "The cursor is not one this API gave")


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    limit = whole_number(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise error(400, "INVALID_LIMIT", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _visible(caller: Caller, taxpayer_id: Any) -> list[ColumnElement[bool]]:
    if restricted_by_groups(caller.viewer):
        return [visible_client(taxpayer_id, firm_id=caller.viewer.firm_id, user_id=caller.viewer.user_id)]
    return []


def _service_name(key: str) -> str:
    return API_NAME.get(key, key)


def _agent_type(key: str) -> dict[str, str]:
    if BY_KEY[key].regime != "ITSA":
        return {}
    return {"agentType": "supporting" if key.endswith("-SUPP") else "main"}


@endpoint("read:check-relationship", responses={200: ClientList}, query=("service", "limit", "cursor"), errors={
    400: ["SERVICE_NOT_SUPPORTED", "INVALID_CURSOR", "INVALID_LIMIT"], 403: ["AGENT_NOT_SUBSCRIBED",
                                                                           "NO_PERMISSION_ON_AGENCY"]})
async def client_list(request: Request, db: Session, caller: Caller) -> Response:
    """Every live authorisation the caller may see, one per client and service, in a stable order."""
    limit, after = _limit(request), decode_cursor("c", request.query_params.get("cursor"))
    conditions = [col(Authorisation.firm_id) == caller.viewer.firm_id, col(Authorisation.ended_at).is_(None),
                  col(Authorisation.id) > after, *_visible(caller, col(Authorisation.taxpayer_id))]
    service = request.query_params.get("service")
    if service:
        keys = [key for key, name in API_NAME.items() if name == service] or ([service] if service in BY_KEY else [])
        if not keys:
            raise error(400, "SERVICE_NOT_SUPPORTED", "The service requested is not supported")
        conditions.append(col(Authorisation.service).in_(keys))
    # Plain columns, not ORM objects, and each client's reference for the service in the same statement: a page of
    # 500 is one query on the (firm_id, id) index of live authorisations (migration 0013), and nothing per row.
    rows = db.execute(select(col(Authorisation.id), col(Authorisation.service), col(Authorisation.started_at),
                             col(Taxpayer.name), _client_id(col(Authorisation.taxpayer_id),
                                                            col(Authorisation.service)))
                      .join(Taxpayer, col(Taxpayer.id) == Authorisation.taxpayer_id)
                      .where(*conditions).order_by(col(Authorisation.id)).limit(limit + 1)).all()
    page = rows[:limit]
    items = [{"service": _service_name(service), **_agent_type(service), "clientName": name,
              "clientIdType": _ID_TYPE[service], "clientId": client_id or "",
              "authorisedSince": aware(started).isoformat(timespec="seconds").replace("+00:00", "Z")}
             for _id, service, started, name, client_id in page]
    next_cursor = encode_cursor("c", page[-1][0]) if len(rows) > limit else None
    return JSONResponse(shaped(ClientList, {"items": items, "next_cursor": next_cursor}) | {"next_cursor": next_cursor})


_ID_TYPE = {key: "ni" if service.identifier == "nino" else service.identifier for key, service in BY_KEY.items()}


def _client_id(taxpayer_id: Any, service: Any) -> Any:
    """The client's reference of the kind the service is known by (the first, should a client have two)."""
    kind = case({key: service.identifier for key, service in BY_KEY.items()}, value=service)
    return (select(col(TaxpayerIdentifier.value))
            .where(col(TaxpayerIdentifier.taxpayer_id) == taxpayer_id, col(TaxpayerIdentifier.kind) == kind)
            .order_by(col(TaxpayerIdentifier.id)).limit(1).scalar_subquery())


@endpoint("read:sent-invitations", responses={200: RelationshipEvents}, query=("after", "limit"), errors={
    400: ["INVALID_CURSOR", "INVALID_LIMIT"], 403: ["AGENT_NOT_SUBSCRIBED", "NO_PERMISSION_ON_AGENCY"]})
async def relationship_events(request: Request, db: Session, caller: Caller) -> Response:
    """What happened to the firm's requests and authorisations since the cursor, oldest first."""
    limit, after = _limit(request), decode_cursor("e", request.query_params.get("after"))
    rows = db.execute(select(col(AuditEvent.id), col(AuditEvent.action), col(AuditEvent.at), col(AuditEvent.detail),
                             col(Taxpayer.name))
                      .join(Taxpayer, col(Taxpayer.id) == AuditEvent.taxpayer_id)
                      .where(col(AuditEvent.firm_id) == caller.viewer.firm_id, col(AuditEvent.id) > after,
                             col(AuditEvent.action).in_(list(FEED_ACTIONS)),
                             *_visible(caller, col(AuditEvent.taxpayer_id)))
                      .order_by(col(AuditEvent.id)).limit(limit)).all()
    arn = caller.viewer.arn or ""
    events = [_event(event_id, action, at, detail, name, arn) for event_id, action, at, detail, name in rows]
    cursor = encode_cursor("e", rows[-1][0]) if rows else (request.query_params.get("after") or
                                                         encode_cursor("e", 0))
    return JSONResponse(shaped(RelationshipEvents, {"events": events, "next_cursor": cursor}))


def _event(event_id: int, action: str, at: datetime, detail: dict[str, Any] | None, client_name: str,
           arn: str) -> dict[str, Any]:
    kind = FEED_ACTIONS[action]
    detail = detail or {}
    if kind == "authorisation_ended":
        kind = "authorisation_replaced" if detail.get("replaced") else (
            "authorisation_ended_by_agent" if detail.get("ended_by") == "agent" else "authorisation_ended_by_client")
    body: dict[str, Any] = {"id": encode_cursor("e", event_id), "type": kind, "clientName": client_name,
                            "at": aware(at).isoformat(timespec="seconds").replace("+00:00", "Z")}
    if (service := detail.get("service")) in BY_KEY:
        body |= {"service": _service_name(service), **_agent_type(service)}
    if isinstance(request_id := detail.get("request_id"), int):
        body |= {"invitationId": str(request_id), "_links": {"invitation": {"href": invitation_path(arn,
                                                                                                      request_id)}}}
    return body


routes = [
    Route("/agents/{arn}/relationships", client_list, methods=["GET"], name="api_client_list"),
    Route("/agents/{arn}/relationship-events", relationship_events, methods=["GET"], name="api_relationship_events"),
]
