"""HMRC's VAT (MTD) API 1.0 (api.md §8): obligations, submitting a nine-box return, viewing one. The gate decides
who may, the nine-box rules are portal.domain.vat's, and a return is sent once (portal.domain.submissions)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.api.http import Caller, endpoint, error, json_body
from portal.api.schemas import VatObligations, VatReceipt, VatReturn, VatReturnSubmission, shaped
from portal.domain import identifiers, submissions, vat
from portal.domain.access import authority_for
from portal.domain.models import Obligation, Submission, Taxpayer, TaxpayerIdentifier
from portal.domain.people import Authority
from portal.domain.services import Action

REGIME = "VAT"
# HMRC's keys are 4 characters; this portal's own are longer ("2603VA"), so ours accept HMRC's alphabet, 4 to 20.
PERIOD_KEY = re.compile(r"[#0-9A-Z]{4,20}")
MAX_RANGE_DAYS = 366
FIELDS = {"periodKey": None, "vatDueSales": "box1", "vatDueAcquisitions": "box2", "totalVatDue": "box3",
          "vatReclaimedCurrPeriod": "box4", "netVatDue": "box5", "totalValueSalesExVAT": "box6",
          "totalValuePurchasesExVAT": "box7", "totalValueGoodsSuppliedExVAT": "box8",
          "totalAcquisitionsExVAT": "box9", "finalised": None}
BOX_FIELDS = {box: name for name, box in FIELDS.items() if box}


def _client(db: Session, caller: Caller, raw_vrn: str, action: Action) -> Authority:
    if not identifiers.is_valid(identifiers.IdentifierKind.VRN, raw_vrn):
        raise error(400, "VRN_INVALID", "The provided VRN is invalid")
    taxpayer_id = db.execute(select(col(Taxpayer.id)).join(
        TaxpayerIdentifier, col(TaxpayerIdentifier.taxpayer_id) == Taxpayer.id).where(
        col(TaxpayerIdentifier.kind) == "vrn",
        col(TaxpayerIdentifier.value) == identifiers.normalise(identifiers.IdentifierKind.VRN, raw_vrn))).scalar()
    authority = authority_for(db, caller.viewer, taxpayer_id) if taxpayer_id is not None else None
    if authority is None or not authority.can(action, REGIME):  # the gate, as on the VAT pages
        raise error(403, "CLIENT_OR_AGENT_NOT_AUTHORISED", "The client or agent is not authorised")
    return authority


def _date(request: Request, name: str, code: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise error(400, code, f"Invalid {name} date")


@endpoint("read:vat", versions=("1.0",), responses={200: VatObligations}, query=("from", "to", "status"), errors={
    400: ["VRN_INVALID", "INVALID_DATE_FROM", "INVALID_DATE_TO", "INVALID_DATE_RANGE", "INVALID_STATUS"],
    403: ["CLIENT_OR_AGENT_NOT_AUTHORISED"], 404: ["NOT_FOUND"]})
async def obligations(request: Request, db: Session, caller: Caller) -> Response:
    """The client's VAT obligations between two dates, open (O), fulfilled (F) or both."""
    authority = _client(db, caller, request.path_params["vrn"], Action.VIEW)
    status = request.query_params.get("status")
    if status not in (None, "O", "F"):
        raise error(400, "INVALID_STATUS", "Invalid status")
    start, end = _date(request, "from", "INVALID_DATE_FROM"), _date(request, "to", "INVALID_DATE_TO")
    if status != "O":
        if start is None:
            raise error(400, "INVALID_DATE_FROM", "Invalid date from")
        if end is None:
            raise error(400, "INVALID_DATE_TO", "Invalid date to")
    if start and end and (end < start or (end - start).days > MAX_RANGE_DAYS):
        raise error(400, "INVALID_DATE_RANGE", "Invalid date range, it must be 366 days or less")
    query = select(Obligation, col(Submission.submitted_at)).outerjoin(
        Submission, col(Submission.obligation_id) == Obligation.id).where(
        col(Obligation.taxpayer_id) == authority.taxpayer.id, col(Obligation.regime) == REGIME)
    if start:
        query = query.where(col(Obligation.period_end) >= start)
    if end:
        query = query.where(col(Obligation.period_start) <= end)
    if status == "O":
        query = query.where(col(Obligation.fulfilled_on).is_(None))
    elif status == "F":
        query = query.where(col(Obligation.fulfilled_on).is_not(None))
    rows = db.execute(query.order_by(col(Obligation.period_start))).all()
    if not rows:
        raise error(404, "NOT_FOUND", "The requested resource could not be found")
    return JSONResponse(shaped(VatObligations, {"obligations": [_obligation(o, received) for o, received in rows]}))


def _obligation(row: Obligation, received: Any) -> dict[str, Any]:
    body = {"start": row.period_start.isoformat(), "end": row.period_end.isoformat(), "due": row.due_date.isoformat(),
            "status": "F" if row.fulfilled_on else "O", "periodKey": row.period_key}
    if row.fulfilled_on:
        body["received"] = row.fulfilled_on.isoformat()
    return body


def _amount(body: dict[str, Any], name: str, *, whole: bool) -> str:
    """An amount as the pages' parser reads it: HMRC's numbers, 2 decimal places (boxes 6 to 9 whole pounds)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(400, "INVALID_NUMERIC_VALUE", f"{name} must be a number")
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        raise error(400, "INVALID_NUMERIC_VALUE", f"{name} must be a number") from None
    if exact.as_tuple().exponent < -2 or (whole and exact != exact.to_integral_value()):  # type: ignore[operator]
        raise error(400, "INVALID_MONETARY_AMOUNT", f"{name} has too many decimal places")
    return f"{exact:.2f}"


def parse_return(body: dict[str, Any]) -> tuple[str, vat.VatReturn]:
    unknown = set(body) - set(FIELDS)
    missing = [name for name in FIELDS if name not in body]
    if unknown or missing:
        raise error(400, "INVALID_REQUEST", "Invalid request: " + ", ".join(sorted(unknown) + missing))
    period_key = body["periodKey"]
    if not isinstance(period_key, str) or not PERIOD_KEY.fullmatch(period_key):
        raise error(400, "PERIOD_KEY_INVALID", "Invalid period key")
    values = {box: _amount(body, name, whole=box in vat.POUND_BOXES) for name, box in FIELDS.items() if box}
    if not isinstance(body["finalised"], bool):
        raise error(400, "INVALID_REQUEST", "finalised must be true or false")
    parsed, errors = vat.validate({box: values[box] for box in vat.TYPED_BOXES})
    if parsed is None:
        field = BOX_FIELDS[next(iter(errors))]
        raise error(400, "INVALID_MONETARY_AMOUNT", f"{field}: {next(iter(errors.values()))}")
    if Decimal(values["box3"]) * 100 != parsed.box3:
        raise error(400, "VAT_TOTAL_VALUE", "totalVatDue should be equal to vatDueSales + vatDueAcquisitions")
    if Decimal(values["box5"]) * 100 != parsed.box5:
        raise error(400, "VAT_NET_VALUE", "netVatDue should be the difference between the largest and the smallest "
                                          "values among totalVatDue and vatReclaimedCurrPeriod")
    if not body["finalised"]:
        raise error(403, "NOT_FINALISED", "The return was not finalised: finalised must be true")
    return period_key, parsed


@endpoint("write:vat", versions=("1.0",), body=VatReturnSubmission, responses={201: VatReceipt}, errors={
    400: ["VRN_INVALID", "PERIOD_KEY_INVALID", "INVALID_REQUEST", "INVALID_NUMERIC_VALUE", "INVALID_MONETARY_AMOUNT",
          "VAT_TOTAL_VALUE", "VAT_NET_VALUE", "INVALID_PAYLOAD"],
    403: ["CLIENT_OR_AGENT_NOT_AUTHORISED", "NOT_FINALISED", "DUPLICATE_SUBMISSION", "TAX_PERIOD_NOT_ENDED"],
    404: ["NOT_FOUND"]})
async def submit_return(request: Request, db: Session, caller: Caller) -> Response:
    """A nine-box return, sent once: a second one for the period is HMRC's DUPLICATE_SUBMISSION."""
    authority = _client(db, caller, request.path_params["vrn"], Action.SUBMIT_RETURN)
    period_key, vat_return = parse_return(await json_body(request))
    obligation = _find_obligation(db, authority, period_key)
    if obligation is None:
        raise error(404, "NOT_FOUND", "The period key does not match an obligation of this client")
    if obligation.period_end >= date.today():
        raise error(403, "TAX_PERIOD_NOT_ENDED", "The period has not ended")
    submission, sent_now = submissions.submit_once(db, obligation=obligation, viewer=caller.viewer,
                                                   authority=authority, figures=vat_return.as_figures())
    if not sent_now:
        raise error(403, "DUPLICATE_SUBMISSION", "The VAT return was already submitted for the given period")
    processed = submission.submitted_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"processingDate": processed, "paymentIndicator": "BANK", "formBundleNumber": submission.reference}
    if vat_return.box5_direction == "to pay":
        body["chargeRefNumber"] = "XM" + submission.reference[:12]
    return JSONResponse(shaped(VatReceipt, body), status_code=201, headers={
        "Receipt-ID": submission.reference, "Receipt-Timestamp": processed, "X-CorrelationId": str(uuid.uuid4())})


def _find_obligation(db: Session, authority: Authority, period_key: str) -> Obligation | None:
    found: Obligation | None = db.execute(select(Obligation).where(
        col(Obligation.taxpayer_id) == authority.taxpayer.id, col(Obligation.regime) == REGIME,
        col(Obligation.period_key) == period_key)).scalar_one_or_none()
    return found


@endpoint("read:vat", versions=("1.0",), responses={200: VatReturn}, errors={
    400: ["VRN_INVALID", "PERIOD_KEY_INVALID"], 403: ["CLIENT_OR_AGENT_NOT_AUTHORISED", "DATE_RANGE_TOO_LARGE"],
    404: ["NOT_FOUND"]})
async def view_return(request: Request, db: Session, caller: Caller) -> Response:
    """A submitted return's nine boxes."""
    authority = _client(db, caller, request.path_params["vrn"], Action.VIEW)
    period_key = request.path_params["period_key"]
    if not PERIOD_KEY.fullmatch(period_key):
        raise error(400, "PERIOD_KEY_INVALID", "Invalid period key")
    obligation = _find_obligation(db, authority, period_key)
    if obligation is not None and obligation.period_end < date.today() - timedelta(days=4 * 365):
        raise error(403, "DATE_RANGE_TOO_LARGE", "The date of the requested return cannot be more than four years "
                                                 "from the current date")
    submission = submissions.receipt_for(db, obligation.id) if obligation is not None else None
    if submission is None:
        raise error(404, "NOT_FOUND", "The requested resource could not be found")
    boxes = vat.VatReturn.from_figures(submission.figures)
    body: dict[str, Any] = {"periodKey": period_key}
    for box, name in BOX_FIELDS.items():
        value = getattr(boxes, box)
        body[name] = value if box in vat.POUND_BOXES else float(Decimal(value) / 100)
    return JSONResponse(shaped(VatReturn, body))


routes = [
    Route("/organisations/vat/{vrn}/obligations", obligations, methods=["GET"], name="api_vat_obligations"),
    Route("/organisations/vat/{vrn}/returns", submit_return, methods=["POST"], name="api_vat_submit_return"),
    Route("/organisations/vat/{vrn}/returns/{period_key}", view_return, methods=["GET"], name="api_vat_view_return"),
]
