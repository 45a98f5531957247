"""HMRC's sandbox test support (api.md §5), in development and test only: look up a test client's known fact, and
answer a request as the client would, so software can be tried end to end without a second person. Accepting
and declining are the client's own rules (portal.domain.handshake), done as the client's account."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.api.http import Caller, endpoint, error
from portal.api.schemas import KnownFact, shaped
from portal.domain import handshake, identifiers
from portal.domain.handshake import Refused
from portal.domain.models import AuthorisationRequest, Taxpayer, TaxpayerIdentifier
from portal.domain.numbers import ID_DIGITS, whole_number

PREFIX = "/agent-authorisation-test-support"


def _registration(db: Session, kind: identifiers.IdentifierKind, raw: str) -> tuple[Taxpayer, TaxpayerIdentifier]:
    if not identifiers.is_valid(kind, raw):
        raise error(400, "CLIENT_ID_FORMAT_INVALID", "Client identifier must be in the correct format")
    value = identifiers.normalise(kind, raw)
    row = db.execute(select(Taxpayer, TaxpayerIdentifier).join(
        TaxpayerIdentifier, col(TaxpayerIdentifier.taxpayer_id) == Taxpayer.id).where(
        col(TaxpayerIdentifier.kind) == kind, col(TaxpayerIdentifier.value) == value)).first()
    if row is None:
        raise error(404, "CLIENT_REGISTRATION_NOT_FOUND", "No test client has this identifier")
    return row[0], row[1]


@endpoint(None, responses={200: KnownFact}, errors={400: ["CLIENT_ID_FORMAT_INVALID"],
                                                   404: ["CLIENT_REGISTRATION_NOT_FOUND"]})
async def vat_known_fact(request: Request, db: Session, caller: Caller) -> Response:
    taxpayer, registration = _registration(db, identifiers.IdentifierKind.VRN, request.path_params["vrn"])
    client_type = taxpayer.client_type if taxpayer.client_type in ("personal", "business") else "business"
    return JSONResponse(shaped(KnownFact, {
        "service": "MTD-VAT", "clientType": client_type, "clientIdType": "vrn", "clientId": registration.value,
        "knownFact": registration.registered_on.isoformat() if registration.registered_on else None}))


@endpoint(None, responses={200: KnownFact}, errors={400: ["CLIENT_ID_FORMAT_INVALID"],
                                                   404: ["CLIENT_REGISTRATION_NOT_FOUND"]})
async def itsa_known_fact(request: Request, db: Session, caller: Caller) -> Response:
    taxpayer, registration = _registration(db, identifiers.IdentifierKind.NINO, request.path_params["nino"])
    return JSONResponse(shaped(KnownFact, {"service": "MTD-IT", "clientType": "personal", "clientIdType": "ni",
                                           "clientId": registration.value, "knownFact": taxpayer.postcode}))


def _request(db: Session, raw_id: str) -> tuple[AuthorisationRequest, int]:
    number = whole_number(raw_id, max_digits=ID_DIGITS)
    row = None if number is None else db.get(AuthorisationRequest, number)
    if row is None:
        raise error(404, "INVITATION_NOT_FOUND", "The authorisation request cannot be found")
    taxpayer = db.get(Taxpayer, row.taxpayer_id)
    if taxpayer is None or taxpayer.owner_user_id is None:
        raise error(409, "CLIENT_HAS_NO_ACCOUNT", "This test client has no account to answer with")
    return row, taxpayer.owner_user_id


@endpoint(None, errors={404: ["INVITATION_NOT_FOUND"], 409: ["INVALID_INVITATION_STATUS", "CLIENT_HAS_NO_ACCOUNT"]})
async def accept(request: Request, db: Session, caller: Caller) -> Response:
    row, client_user_id = _request(db, request.path_params["invitation_id"])
    try:
        handshake.accept_request(db, user_id=client_user_id, request=row, today=date.today())
    except Refused:
        raise error(409, "INVALID_INVITATION_STATUS", "The request was already answered or has expired") from None
    return Response(status_code=204)


@endpoint(None, errors={404: ["INVITATION_NOT_FOUND"], 409: ["INVALID_INVITATION_STATUS", "CLIENT_HAS_NO_ACCOUNT"]})
async def reject(request: Request, db: Session, caller: Caller) -> Response:
    row, client_user_id = _request(db, request.path_params["invitation_id"])
    try:
        handshake.decline_request(db, user_id=client_user_id, request=row, today=date.today())
    except Refused:
        raise error(409, "INVALID_INVITATION_STATUS", "The request was already answered or has expired") from None
    return Response(status_code=204)


routes = [
    Route(PREFIX + "/known-facts/mtd-vat/vrn/{vrn}", vat_known_fact, methods=["GET"], name="api_test_vat_fact"),
    Route(PREFIX + "/known-facts/mtd-it/nino/{nino}", itsa_known_fact, methods=["GET"], name="api_test_itsa_fact"),
    Route(PREFIX + "/known-facts/invitations/{invitation_id}", accept, methods=["PUT"], name="api_test_accept"),
    Route(PREFIX + "/known-facts/invitations/{invitation_id}", reject, methods=["DELETE"], name="api_test_reject"),
]
