"""HMRC's Agent Authorisation API (api.md §2), on the same rules the pages use: portal.domain.handshake for
requests and authorisations, portal.domain.access for who may see which client."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.api.http import ApiError, Caller, endpoint, error, json_body
from portal.api.schemas import CheckRelationship, CreateInvitation, Deauthorise, Invitation, Invitations, shaped
from portal.domain import handshake, identifiers
from portal.domain.access import authority_for
from portal.domain.client_links import client_link
from portal.domain.handshake import LookUp, Refusal, Refused, Status
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer
from portal.domain.numbers import ID_DIGITS, whole_number
from portal.domain.services import BY_KEY, TaxService
from portal.domain.times import aware
from portal.settings import Settings
from portal.web.db import keep_despite_refusal

# HMRC's service names and client id types, and ours.
API_SERVICES = {"MTD-IT": "ni", "MTD-VAT": "vrn"}
SERVICE_KEYS = {("MTD-IT", "main"): "HMRC-MTD-IT", ("MTD-IT", "supporting"): "HMRC-MTD-IT-SUPP",
                ("MTD-VAT", "main"): "HMRC-MTD-VAT", ("MTD-VAT", "supporting"): "HMRC-MTD-VAT"}
API_NAME = {"HMRC-MTD-IT": "MTD-IT", "HMRC-MTD-IT-SUPP": "MTD-IT", "HMRC-MTD-VAT": "MTD-VAT"}
CLIENT_TYPES = {"MTD-IT": ("personal",), "MTD-VAT": ("personal", "business")}
CLIENT_FORMAT = ["SERVICE_NOT_SUPPORTED", "CLIENT_TYPE_NOT_SUPPORTED", "CLIENT_ID_FORMAT_INVALID",
                 "CLIENT_ID_DOES_NOT_MATCH_SERVICE", "AGENT_TYPE_NOT_SUPPORTED", "INVALID_PAYLOAD"]
FACT_FORMAT = ["POSTCODE_FORMAT_INVALID", "VAT_REG_DATE_FORMAT_INVALID"]
FACT_MATCH = ["CLIENT_REGISTRATION_NOT_FOUND", "POSTCODE_DOES_NOT_MATCH", "VAT_REG_DATE_DOES_NOT_MATCH"]
AGENCY = ["AGENT_NOT_SUBSCRIBED", "NO_PERMISSION_ON_AGENCY"]
STATUS_NAMES = {Status.PENDING: "Pending", Status.ACCEPTED: "Accepted", Status.REJECTED: "Rejected",
                Status.CANCELLED: "Cancelled", Status.DEAUTHORISED: "Deauthorised", Status.EXPIRED: "Expired"}


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if name == "service" and isinstance(value, list) and len(value) == 1:  # HMRC sends a one-element array
        value = value[0]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise error(400, "INVALID_PAYLOAD", f"{name} must be a string")
    return value.strip()


def parse_client(body: dict[str, Any], *, client_type_required: bool, known_fact: str) -> dict[str, Any]:
    """HMRC's checks of a request body, in HMRC's order, each with its code. known_fact: "required", "none"."""
    service_name = _text(body, "service")
    if service_name not in API_SERVICES:
        raise error(400, "SERVICE_NOT_SUPPORTED", "The service requested is not supported")
    client_type = _text(body, "clientType")
    if client_type_required or client_type:
        if client_type not in CLIENT_TYPES[service_name]:
            raise error(400, "CLIENT_TYPE_NOT_SUPPORTED", "The client type requested is not supported")
    client_id_type = _text(body, "clientIdType")
    if client_id_type != API_SERVICES[service_name]:
        raise error(400, "CLIENT_ID_DOES_NOT_MATCH_SERVICE", "The client identifier type does not match the service")
    kind = identifiers.IdentifierKind.NINO if service_name == "MTD-IT" else identifiers.IdentifierKind.VRN
    client_id = _text(body, "clientId")
    if not identifiers.is_valid(kind, client_id):
        raise error(400, "CLIENT_ID_FORMAT_INVALID", "Client identifier must be in the correct format")
    agent_type = _text(body, "agentType") or "main"
    if service_name == "MTD-IT" and agent_type not in ("main", "supporting"):
        raise error(400, "AGENT_TYPE_NOT_SUPPORTED", "The agent type requested is not supported")
    fact: str | date | None = None
    if known_fact == "required":
        raw = _text(body, "knownFact")
        if service_name == "MTD-IT":
            fact = raw.upper()  # kinder than HMRC: any case, any spacing
            if not identifiers.is_valid_postcode(fact):
                raise error(400, "POSTCODE_FORMAT_INVALID", "Postcode must be in the correct format")
        else:
            try:
                fact = date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                fact = None
            if fact is None:
                raise error(400, "VAT_REG_DATE_FORMAT_INVALID", "VAT registration date must be in the format "
                                                                "YYYY-MM-DD")
    service = BY_KEY[SERVICE_KEYS[(service_name, agent_type if service_name == "MTD-IT" else "main")]]
    # VAT clients may be people or companies: without a clientType (E5, E6) either is looked for.
    types = [client_type] if client_type else list(CLIENT_TYPES[service_name])
    return {"service": service, "client_types": types, "client_id": client_id, "known_fact": fact}


def _found(db: Session, caller: Caller, parsed: dict[str, Any]) -> Taxpayer:
    """The client, with the known fact checked through the pages' own look-up and lock-out."""
    service: TaxService = parsed["service"]
    found: Taxpayer | LookUp = LookUp.CLIENT_NOT_FOUND
    for client_type in parsed["client_types"]:
        found = handshake.look_up_client(db, user_id=caller.viewer.user_id, service=service, client_type=client_type,
                                         identifier=parsed["client_id"], known_fact=parsed["known_fact"])
        if found is not LookUp.CLIENT_NOT_FOUND:
            break
    if isinstance(found, Taxpayer):
        return found
    raise _refused_look_up(found, service)


def _refused_look_up(found: LookUp, service: TaxService) -> ApiError:
    if found is LookUp.TOO_MANY_ATTEMPTS:
        return error(429, "MESSAGE_THROTTLED_OUT", "Too many failed attempts to match a client. Try again later",
                     {"Retry-After": str(int(handshake.LOOKUP_WINDOW.total_seconds()))})
    if found is LookUp.KNOWN_FACT_MISMATCH:
        if service.regime == "VAT":
            return error(403, "VAT_REG_DATE_DOES_NOT_MATCH", "The VAT registration date does not match")
        return error(403, "POSTCODE_DOES_NOT_MATCH", "The postcode does not match")
    return error(403, "CLIENT_REGISTRATION_NOT_FOUND", "The details provided for this client do not match "
                                                       "HMRC's records")


def _find_without_fact(db: Session, parsed: dict[str, Any]) -> Taxpayer | None:
    for client_type in parsed["client_types"]:
        if found := handshake.find_client(db, parsed["service"], client_type, parsed["client_id"]):
            return found
    return None


def invitation_path(arn: str, request_id: int) -> str:
    return f"/agents/{arn}/invitations/{request_id}"


def invitation_body(db: Session, settings: Settings, firm: Firm, row: AuthorisationRequest,
                    today: date) -> dict[str, Any]:
    """HMRC's InvitationDetails, with our fixes (api.md §6): an invitationId, RFC 3339 times, a string service."""
    status = handshake.effective_status(row, today)
    body: dict[str, Any] = {
        "_links": {"self": {"href": invitation_path(firm.arn, row.id)}}, "invitationId": str(row.id),
        "created": _rfc3339(row.created_at), "arn": firm.arn, "service": API_NAME.get(row.service, row.service),
        "status": STATUS_NAMES[status]}
    if status is Status.PENDING:
        body["expiresOn"] = row.expires_on.isoformat()
        body["clientActionUrl"] = settings.base_url + client_link(firm, BY_KEY[row.service].url_part)
    else:
        body["updated"] = _rfc3339(row.responded_at or row.created_at)
    if row.regime == "ITSA":
        body["agentType"] = "supporting" if row.service == handshake.ITSA_SUPPORTING else "main"
    return shaped(Invitation, body)


def _rfc3339(moment: datetime) -> str:
    text = aware(moment).astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if text.endswith("+00:00") else text + "Z"


def _firm(db: Session, caller: Caller) -> Firm:
    firm = db.get(Firm, caller.viewer.firm_id)
    assert firm is not None  # require_agent
    return firm


@endpoint("write:sent-invitations", body=CreateInvitation, errors={
    400: [*CLIENT_FORMAT, *FACT_FORMAT], 403: [*AGENCY, *FACT_MATCH, "DUPLICATE_AUTHORISATION_REQUEST",
                                               "ALREADY_AUTHORISED"]})
async def create_invitation(request: Request, db: Session, caller: Caller) -> Response:
    """E1: ask a client for authorisation. 204 and Location, as HMRC; the request is the pages' own."""
    parsed = parse_client(await json_body(request), client_type_required=True, known_fact="required")
    try:
        taxpayer = _found(db, caller, parsed)
    except ApiError as refused:
        if refused.code != "MESSAGE_THROTTLED_OUT":
            keep_despite_refusal(request)  # the failed guess counts towards the lock-out, as on the pages
        raise
    firm = _firm(db, caller)
    try:
        created = handshake.create_request(db, firm_id=firm.id, user_id=caller.viewer.user_id,
                                           service=parsed["service"], taxpayer=taxpayer, today=date.today())
    except Refused as refused:
        if refused.reason is Refusal.ALREADY_AUTHORISED:
            raise error(403, "ALREADY_AUTHORISED", "The client has already authorised the agent for this "
                                                   "service") from None
        pending = db.execute(select(col(AuthorisationRequest.id)).where(
            col(AuthorisationRequest.firm_id) == firm.id, col(AuthorisationRequest.taxpayer_id) == taxpayer.id,
            col(AuthorisationRequest.regime) == parsed["service"].regime,
            col(AuthorisationRequest.status) == Status.PENDING)).scalar()
        headers = {"Location": invitation_path(firm.arn, pending)} if pending else {}
        raise error(403, "DUPLICATE_AUTHORISATION_REQUEST", "An authorisation request for this service has already "
                                                            "been created and is awaiting the client's response",
                    headers) from None
    return Response(status_code=204, headers={"Location": invitation_path(firm.arn, created.id)})


@endpoint("read:sent-invitations", responses={200: Invitations, 204: None}, errors={403: AGENCY})
async def list_invitations(request: Request, db: Session, caller: Caller) -> Response:
    """E2: the firm's requests of the last 30 days, newest first; 204 when there are none."""
    firm, today = _firm(db, caller), date.today()
    tracked, _total = handshake.track_requests(db, firm_id=firm.id, today=today, limit=10_000, offset=0)
    if not tracked:
        return Response(status_code=204)
    settings: Settings = request.app.state.settings
    return JSONResponse([invitation_body(db, settings, firm, t.request, today) for t in tracked])


def _invitation(db: Session, caller: Caller, raw_id: str) -> AuthorisationRequest:
    number = whole_number(raw_id, max_digits=ID_DIGITS)
    row = None if number is None else db.get(AuthorisationRequest, number)
    if row is None or row.firm_id != caller.viewer.firm_id:
        raise error(404, "INVITATION_NOT_FOUND", "The authorisation request cannot be found")
    return row


@endpoint("read:sent-invitations", responses={200: Invitation}, errors={403: AGENCY, 404: ["INVITATION_NOT_FOUND"]})
async def get_invitation(request: Request, db: Session, caller: Caller) -> Response:
    """E3: one request."""
    row = _invitation(db, caller, request.path_params["invitation_id"])
    return JSONResponse(invitation_body(db, request.app.state.settings, _firm(db, caller), row, date.today()))


@endpoint("write:cancel-invitations", errors={403: [*AGENCY, "INVALID_INVITATION_STATUS"],
                                             404: ["INVITATION_NOT_FOUND"]})
async def cancel_invitation(request: Request, db: Session, caller: Caller) -> Response:
    """E4: cancel a pending request."""
    row = _invitation(db, caller, request.path_params["invitation_id"])
    try:
        handshake.cancel_request(db, firm_id=row.firm_id, user_id=caller.viewer.user_id, request=row,
                                 today=date.today())
    except Refused:
        raise error(403, "INVALID_INVITATION_STATUS", "The authorisation request cannot be cancelled as it is no "
                                                      "longer pending") from None
    return Response(status_code=204)


def _held(db: Session, caller: Caller, taxpayer: Taxpayer, service: TaxService) -> bool:
    """Through the one gate: the firm's authorisation counts only if this agent may see the client (groups)."""
    authority = authority_for(db, caller.viewer, taxpayer.id)
    return authority is not None and authority.kind == "agent" and service.key in authority.services


@endpoint("read:check-relationship", body=CheckRelationship, errors={
    400: [*CLIENT_FORMAT, *FACT_FORMAT], 403: [*AGENCY, *FACT_MATCH], 404: ["RELATIONSHIP_NOT_FOUND"]})
async def check_relationship(request: Request, db: Session, caller: Caller) -> Response:
    """E5: is the firm authorised? The known fact is required, and checked as on E1."""
    parsed = parse_client(await json_body(request), client_type_required=False, known_fact="required")
    try:
        taxpayer = _found(db, caller, parsed)
    except ApiError as refused:
        if refused.code != "MESSAGE_THROTTLED_OUT":
            keep_despite_refusal(request)
        raise
    if not _held(db, caller, taxpayer, parsed["service"]):
        raise error(404, "RELATIONSHIP_NOT_FOUND", "Relationship is inactive. Agent is not authorised to act for "
                                                   "this client")
    return Response(status_code=204)


@endpoint("write:relationships", versions=("2.0",), body=Deauthorise, errors={
    400: CLIENT_FORMAT, 403: [*AGENCY, "NO_RELATIONSHIP"]})
async def deauthorise(request: Request, db: Session, caller: Caller) -> Response:
    """E6 (2.0 only): end the firm's authorisation for a client and service, as "stop acting" does."""
    parsed = parse_client(await json_body(request), client_type_required=True, known_fact="none")
    taxpayer = _find_without_fact(db, parsed)
    service: TaxService = parsed["service"]
    if taxpayer is None or not _held(db, caller, taxpayer, service):
        raise error(403, "NO_RELATIONSHIP", "There is no active relationship for this client and service")
    assert caller.viewer.firm_id is not None
    for held in handshake.active_authorisations(db, firm_id=caller.viewer.firm_id, taxpayer_id=taxpayer.id):
        if held.service == service.key:
            handshake.end_authorisation(db, held, ended_by="agent", actor_user_id=caller.viewer.user_id,
                                        authority="agent")
    return Response(status_code=204)


routes = [
    Route("/agents/{arn}/invitations", create_invitation, methods=["POST"], name="api_create_invitation"),
    Route("/agents/{arn}/invitations", list_invitations, methods=["GET"], name="api_list_invitations"),
    Route("/agents/{arn}/invitations/{invitation_id}", get_invitation, methods=["GET"], name="api_get_invitation"),
    Route("/agents/{arn}/invitations/{invitation_id}", cancel_invitation, methods=["DELETE"],
          name="api_cancel_invitation"),
    Route("/agents/{arn}/relationships", check_relationship, methods=["POST"], name="api_check_relationship"),
    Route("/agents/{arn}/deauthorise-client", deauthorise, methods=["PUT"], name="api_deauthorise"),
]
