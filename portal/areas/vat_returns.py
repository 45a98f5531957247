"""VAT for one client: the obligations, the nine-box return, check your answers and the receipt.

The same pages serve the taxpayer and an agent acting for them; portal.domain.access decides who may see them (VIEW)
and send a return (SUBMIT_RETURN). The box rules are portal.domain.vat's; sending once is portal.domain.submissions'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import submissions, vat
from portal.domain.models import Obligation, Submission
from portal.domain.obligations import ObligationStatus, obligation_status
from portal.domain.people import Authority
from portal.domain.services import Action
from portal.domain.times import uk_time
from portal.i18n import N_, gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.formatting import pounds
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

REGIME = "VAT"
DECLARATION = N_("I confirm that the information I have given is correct and complete")
# What a Change link changes, after "box 1, " in its visually hidden text.
SHORT_LABELS = {"box1": N_("VAT due on sales"), "box2": N_("VAT due on acquisitions"), "box3": N_("total VAT due"),
                "box4": N_("VAT reclaimed"), "box5": N_("net VAT"), "box6": N_("total sales"),
                "box7": N_("total purchases"), "box8": N_("total supplies to EU member states"),
                "box9": N_("total acquisitions from EU member states")}


@dataclass(frozen=True)
class VatObligationRow:
    id: int
    period_start: date
    period_end: date
    due_date: date
    fulfilled_on: date | None
    reference: str | None
    figures: dict[str, Any] | None

    @property
    def status(self) -> ObligationStatus:
        return obligation_status(due_date=self.due_date, fulfilled_on=self.fulfilled_on)

    @property
    def vat_return(self) -> vat.VatReturn | None:
        return vat.VatReturn.from_figures(self.figures) if self.figures else None


@dataclass(frozen=True)
class BoxRow:
    box: str  # the field id, "box1"
    key: str  # "Box 1: VAT due on sales and other outputs"
    value: str
    changeable: bool
    hidden: str  # what a Change link changes, for screen readers: "box 1, VAT due on sales"


# --- queries -----------------------------------------------------------------------------------------------------


def vat_obligations(db: Session, taxpayer_id: int) -> list[VatObligationRow]:
    rows = db.execute(
        select(col(Obligation.id), col(Obligation.period_start), col(Obligation.period_end), col(Obligation.due_date),
               col(Obligation.fulfilled_on), col(Submission.reference), col(Submission.figures))
        .outerjoin(Submission, col(Submission.obligation_id) == Obligation.id)
        .where(col(Obligation.taxpayer_id) == taxpayer_id, col(Obligation.regime) == REGIME)
        .order_by(col(Obligation.due_date), col(Obligation.id))
    )
    return [VatObligationRow(*row) for row in rows]


# --- the boxes as shown ------------------------------------------------------------------------------------------


def whole_pounds(value: int) -> str:
    return f"{'-' if value < 0 else ''}£{abs(value):,}"


def box5_text(vat_return: vat.VatReturn) -> str:
    if vat_return.box5_direction == "nil":
        return gettext("%(amount)s (nothing to pay or reclaim)") % {"amount": pounds(0)}
    if vat_return.box5_direction == "to pay":
        # Translators: box 5 of a VAT return, net VAT the business owes HMRC: "£950.25 to pay"
        return gettext("%(amount)s to pay") % {"amount": pounds(vat_return.box5)}
    # Translators: box 5 of a VAT return, net VAT HMRC repays the business: "£749.50 to reclaim"
    return gettext("%(amount)s to reclaim") % {"amount": pounds(vat_return.box5)}


def box_rows(vat_return: vat.VatReturn) -> list[BoxRow]:
    def shown(box: str) -> str:
        if box == "box5":
            return box5_text(vat_return)
        value = getattr(vat_return, box)
        return whole_pounds(value) if box in vat.POUND_BOXES else pounds(value)

    return [BoxRow(box, box_label(box), shown(box), box in vat.TYPED_BOXES,
                   gettext("box %(number)s, %(label)s") % {"number": box[3:], "label": gettext(SHORT_LABELS[box])})
            for box in vat.ALL_BOXES]


def box_label(box: str) -> str:
    """"Box 1: VAT due on sales and other outputs", in the language of the moment."""
    # Translators: a VAT return box's label, "Box 1: VAT due on sales and other outputs"
    return gettext("Box %(number)s: %(label)s") % {"number": box[3:], "label": gettext(vat.BOX_LABELS[box])}


# --- the gate ----------------------------------------------------------------------------------------------------


def vat_authority(request: Request, action: Action) -> Authority:
    """The person's authority, if it covers VAT and this action; a 404 otherwise, like a page that is not there."""
    authority = require_authority(request, request.path_params["client_id"])
    if REGIME not in authority.actions or not authority.can(action, REGIME):
        raise HTTPException(status_code=404)
    return authority


def vat_obligation(request: Request, authority: Authority) -> Obligation:
    found = db_session(request).get(Obligation, request.path_params["obligation_id"])
    if found is None or found.taxpayer_id != authority.taxpayer.id or found.regime != REGIME:
        raise HTTPException(status_code=404)
    return found


def open_obligation(request: Request, authority: Authority) -> Obligation | Response:
    """The obligation to file, or the way to its receipt once it has been sent."""
    obligation = vat_obligation(request, authority)
    if submissions.receipt_for(db_session(request), obligation.id) is not None:
        return redirect_to(request, "vat_return_receipt", client_id=authority.taxpayer.id, obligation_id=obligation.id)
    if obligation.fulfilled_on is not None:  # met some other way: there is nothing to file here
        raise HTTPException(status_code=404)
    return obligation


def journey(obligation: Obligation) -> str:
    return f"vat-{obligation.id}"


def page_context(authority: Authority, obligation: Obligation, page: str, **more: Any) -> dict[str, Any]:
    return {"title": f"{page} – {authority.taxpayer.name}", "authority": authority, "client": authority.taxpayer,
            "obligation": obligation, **more}


# --- handlers ----------------------------------------------------------------------------------------------------


async def obligations(request: Request) -> Response:
    authority = vat_authority(request, Action.VIEW)
    rows = vat_obligations(db_session(request), authority.taxpayer.id)
    context = {
        "title": f"{gettext('VAT')} – {authority.taxpayer.name}", "authority": authority, "client": authority.taxpayer,
        "open_rows": [row for row in rows if row.status is not ObligationStatus.FULFILLED],
        "fulfilled_rows": [row for row in rows if row.status is ObligationStatus.FULFILLED][::-1],
        "can_submit": authority.can(Action.SUBMIT_RETURN, REGIME), "box5_text": box5_text,
    }
    return render(request, "vat_returns/obligations.html", context)


async def return_form(request: Request) -> Response:
    authority = vat_authority(request, Action.SUBMIT_RETURN)
    obligation = open_obligation(request, authority)
    if isinstance(obligation, Response):
        return obligation
    if request.method == "POST":
        form = await read_form(request, *vat.TYPED_BOXES)
        _, form.errors = vat.validate(form.values)
        if form.ok:
            journeys.save(request, journey(obligation), **form.values)
            return redirect_to(request, "vat_return_check", client_id=authority.taxpayer.id,
                               obligation_id=obligation.id)
    else:
        saved = journeys.answers(request, journey(obligation))
        form = Form(values={box: str(saved.get(box, "")) for box in vat.TYPED_BOXES})
    context = page_context(authority, obligation, gettext("Submit VAT return"), form=form,
                           labels={box: box_label(box) for box in vat.TYPED_BOXES})
    return render(request, "vat_returns/form.html", context)


async def check(request: Request) -> Response:
    authority = vat_authority(request, Action.SUBMIT_RETURN)
    obligation = open_obligation(request, authority)
    if isinstance(obligation, Response):
        return obligation
    answers = journeys.answers(request, journey(obligation))
    vat_return, errors = vat.validate({box: str(answers.get(box, "")) for box in vat.TYPED_BOXES})
    if vat_return is None:  # nothing saved yet, or answers that no longer pass: back to the boxes
        return redirect_to(request, "vat_return", client_id=authority.taxpayer.id, obligation_id=obligation.id)
    form = Form()
    if request.method == "POST":
        form = await read_form(request, "confirm")
        if form.get("confirm") == "yes":
            return submit(request, authority, obligation, vat_return)
        form.error("confirm", gettext("Select the box to confirm"))
    context = page_context(authority, obligation, gettext("Check your VAT return"), form=form,
                           rows=box_rows(vat_return), vat_return=vat_return, declaration=gettext(DECLARATION))
    return render(request, "vat_returns/check.html", context)


def submit(request: Request, authority: Authority, obligation: Obligation, vat_return: vat.VatReturn) -> Response:
    # Sent now or by an earlier click, another tab or a retry: either way the person sees the one receipt.
    submissions.submit_once(db_session(request), obligation=obligation, viewer=require_viewer(request),
                            authority=authority, figures=vat_return.as_figures())
    journeys.forget(request, journey(obligation))
    return redirect_to(request, "vat_return_receipt", client_id=authority.taxpayer.id, obligation_id=obligation.id)


async def receipt(request: Request) -> Response:
    authority = vat_authority(request, Action.VIEW)
    obligation = vat_obligation(request, authority)
    db = db_session(request)
    submission = submissions.receipt_for(db, obligation.id)
    if submission is None:
        raise HTTPException(status_code=404)
    vat_return = vat.VatReturn.from_figures(submission.figures)
    context = page_context(authority, obligation, gettext("VAT return submitted"), submission=submission,
                           submitted_at=uk_time(submission.submitted_at),
                           submitted_by=submissions.sender_of(db, submission), rows=box_rows(vat_return),
                           vat_return=vat_return)
    return render(request, "vat_returns/receipt.html", context)


routes = [
    Route("/clients/{client_id:id}/vat", obligations, name="vat_obligations"),
    Route("/clients/{client_id:id}/vat/returns/{obligation_id:id}", return_form, methods=["GET", "POST"],
          name="vat_return"),
    Route("/clients/{client_id:id}/vat/returns/{obligation_id:id}/check", check, methods=["GET", "POST"],
          name="vat_return_check"),
    Route("/clients/{client_id:id}/vat/returns/{obligation_id:id}/receipt", receipt, name="vat_return_receipt"),
]
