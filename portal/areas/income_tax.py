"""Making Tax Digital for Income Tax: quarterly updates per business and the final declaration of the tax year.

The same pages serve the taxpayer and anyone acting for them; portal.domain.access says who may do what. Quarterly
updates need SUBMIT_UPDATE (the taxpayer, main and supporting agents); the final declaration needs SUBMIT_RETURN
(the taxpayer and the main agent only). Whatever a person cannot do is a 404 and is never offered.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import submissions, tax_calculation
from portal.domain.models import Business, Obligation, Submission
from portal.domain.obligations import ObligationStatus, obligation_status
from portal.domain.people import Authority
from portal.domain.services import Action
from portal.domain.submissions import receipt_for, sender_of
from portal.domain.times import uk_time
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

ITSA = "ITSA"
QUARTERLY_UPDATE = "Quarterly update"
FINAL_DECLARATION = "Final declaration"
JOURNEY = "income-tax-update"
MAX_POUNDS = 99_999_999_999
WHOLE_POUNDS = re.compile(r"-?[0-9]+")
BUSINESS_KINDS = {"self-employment": "Self-employment", "uk-property": "UK property",
                  "foreign-property": "Foreign property"}
UNLINKED = "Income not linked to a business"


# --- queries -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationRow:
    obligation: Obligation
    reference: str | None

    @property
    def status(self) -> ObligationStatus:
        return obligation_status(due_date=self.obligation.due_date, fulfilled_on=self.obligation.fulfilled_on)


@dataclass
class BusinessUpdates:
    name: str
    kind: str
    updates: list[ObligationRow] = field(default_factory=list)


@dataclass
class TaxYear:
    start: int
    businesses: dict[int | None, BusinessUpdates] = field(default_factory=dict)
    declarations: list[ObligationRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return tax_year_label(self.start)


@dataclass(frozen=True)
class BusinessProfit:
    name: str
    kind: str
    income: int
    expenses: int

    @property
    def profit(self) -> int:
        return tax_calculation.profit(self.income, self.expenses)


def tax_year_start(day: date) -> int:
    return day.year if day >= date(day.year, 4, 6) else day.year - 1


def tax_year_label(start: int) -> str:
    return f"{start} to {start + 1} tax year"


def businesses_of(db: Session, taxpayer_id: int) -> dict[int | None, Business]:
    rows = db.execute(select(Business).where(Business.taxpayer_id == taxpayer_id).order_by(Business.id)).scalars()
    return {business.id: business for business in rows}


def _business_updates(businesses: dict[int | None, Business], business_id: int | None) -> BusinessUpdates:
    business = businesses.get(business_id)
    return BusinessUpdates(business.name, business.kind) if business else BusinessUpdates(UNLINKED, "self-employment")


def income_tax_years(db: Session, taxpayer_id: int) -> list[TaxYear]:
    """The taxpayer's Income Tax obligations by tax year, then by business, each with its receipt reference."""
    rows = db.execute(
        select(Obligation, Submission.reference)
        .outerjoin(Submission, Submission.obligation_id == Obligation.id)
        .where(Obligation.taxpayer_id == taxpayer_id, Obligation.regime == ITSA)
        .order_by(Obligation.period_start, Obligation.business_id, Obligation.id)
    ).all()
    businesses = businesses_of(db, taxpayer_id)
    years: dict[int, TaxYear] = {}
    for obligation, reference in rows:
        start = tax_year_start(obligation.period_start)
        year = years.setdefault(start, TaxYear(start))
        row = ObligationRow(obligation, reference)
        if obligation.kind == QUARTERLY_UPDATE:
            if obligation.business_id not in year.businesses:
                year.businesses[obligation.business_id] = _business_updates(businesses, obligation.business_id)
            year.businesses[obligation.business_id].updates.append(row)
        else:
            year.declarations.append(row)
    return sorted(years.values(), key=lambda year: year.start, reverse=True)


def year_position(db: Session, declaration: Obligation) -> tuple[list[BusinessProfit], list[ObligationRow]]:
    """Each business's income and expenses for the declaration's tax year, summed from the quarterly updates
    sent; and the quarterly updates of that year still outstanding."""
    rows = db.execute(
        select(Obligation, Submission.figures)
        .outerjoin(Submission, Submission.obligation_id == Obligation.id)
        .where(Obligation.taxpayer_id == declaration.taxpayer_id, Obligation.regime == ITSA,
               Obligation.kind == QUARTERLY_UPDATE, Obligation.period_start >= declaration.period_start,
               Obligation.period_end <= declaration.period_end)
        .order_by(Obligation.business_id, Obligation.period_start)
    ).all()
    businesses = businesses_of(db, declaration.taxpayer_id)
    totals: dict[int | None, tuple[int, int]] = {}
    outstanding = []
    for obligation, figures in rows:
        if obligation.fulfilled_on is None:
            outstanding.append(ObligationRow(obligation, None))
            continue
        income, expenses = totals.get(obligation.business_id, (0, 0))
        totals[obligation.business_id] = (income + int((figures or {}).get("income", 0)),
                                          expenses + int((figures or {}).get("expenses", 0)))
    profits = []
    for business_id in sorted(totals, key=lambda key: (key is None, key or 0)):
        business = _business_updates(businesses, business_id)
        profits.append(BusinessProfit(business.name, business.kind, *totals[business_id]))
    return profits, outstanding


def declaration_figures(declaration: Obligation, profits: list[BusinessProfit]) -> dict[str, Any]:
    """The calculation as it is shown before submission and stored with the submission, for its receipt."""
    calculation = tax_calculation.calculate(
        self_employment_profits=[p.profit for p in profits if p.kind == "self-employment"],
        property_profits=[p.profit for p in profits if p.kind != "self-employment"],
    )
    return {
        "tax_year": tax_year_label(tax_year_start(declaration.period_start)),
        "rates": _rates_label(tax_calculation.TAX_YEAR),
        "businesses": [asdict(p) | {"profit": p.profit} for p in profits],
        "calculation": asdict(calculation),
    }


def _rates_label(tax_year: str) -> str:
    start = int(tax_year[:4])  # "2025-26"
    return f"{start} to {start + 1}"


def _obligation(request: Request, db: Session, authority: Authority, kind: str) -> Obligation:
    """The obligation in the URL, if it is this client's and of this kind; anything else is a 404."""
    obligation = db.get(Obligation, request.path_params["obligation_id"])
    if (obligation is None or obligation.taxpayer_id != authority.taxpayer.id or obligation.regime != ITSA
            or obligation.kind != kind):
        raise HTTPException(status_code=404)
    return obligation


def _authority(request: Request, action: Action) -> Authority:
    authority = require_authority(request, request.path_params["client_id"])
    if not authority.can(action, ITSA):
        raise HTTPException(status_code=404)
    return authority


# --- forms -------------------------------------------------------------------------------------------------------


def read_pounds(form: Form, name: str, noun: str, example: str) -> int | None:
    """A whole number of pounds from 0 to MAX_POUNDS; commas and a pound sign are forgiven."""
    raw = form.get(name).replace(",", "").replace("£", "").replace(" ", "")
    if not form.get(name):
        form.error(name, f"Enter the business's {noun.lower()} for this period")
    elif not WHOLE_POUNDS.fullmatch(raw):
        form.error(name, f"{noun} must be a whole number of pounds, like {example}")
    elif int(raw) < 0:
        form.error(name, f"{noun} cannot be a negative number")
    elif int(raw) > MAX_POUNDS:
        form.error(name, f"{noun} must be £{MAX_POUNDS:,} or less")
    else:
        return int(raw)
    return None


def check_update(form: Form) -> dict[str, int] | None:
    income = read_pounds(form, "income", "Income", "12500")
    expenses = read_pounds(form, "expenses", "Expenses", "4200")
    if income is None or expenses is None:
        return None
    return {"income": income, "expenses": expenses}


def _saved_update(request: Request, obligation: Obligation) -> dict[str, int] | None:
    """The answers kept for this very obligation, checked again: they were typed on an earlier page."""
    answers = journeys.answers(request, JOURNEY)
    if answers.get("obligation_id") != obligation.id:
        return None
    return check_update(Form(values={"income": str(answers.get("income", "")),
                                     "expenses": str(answers.get("expenses", ""))}))


# --- handlers ----------------------------------------------------------------------------------------------------


def _base(authority: Authority, **context: Any) -> dict[str, Any]:
    return {"authority": authority, "client": authority.taxpayer, "kinds": BUSINESS_KINDS, "Action": Action,
            **context}


def _to(request: Request, name: str, obligation: Obligation) -> Response:
    return redirect_to(request, name, client_id=obligation.taxpayer_id, obligation_id=obligation.id)


def _update_context(db: Session, authority: Authority, obligation: Obligation, **context: Any) -> dict[str, Any]:
    business = db.get(Business, obligation.business_id) if obligation.business_id else None
    return _base(authority, obligation=obligation, business_name=business.name if business else UNLINKED,
                 **context)


async def overview(request: Request) -> Response:
    authority = _authority(request, Action.VIEW)
    years = income_tax_years(db_session(request), authority.taxpayer.id)
    return render(request, "income_tax/overview.html", _base(authority, years=years))


async def update(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_UPDATE)
    db = db_session(request)
    obligation = _obligation(request, db, authority, QUARTERLY_UPDATE)
    if receipt_for(db, obligation.id) is not None:
        return _to(request, "income_tax_update_receipt", obligation)
    if request.method == "GET":
        saved = journeys.answers(request, JOURNEY)
        kept = saved if saved.get("obligation_id") == obligation.id else {}
        form = Form(values={name: str(kept.get(name, "")) for name in ("income", "expenses")})
        return render(request, "income_tax/update.html", _update_context(db, authority, obligation, form=form))
    form = await read_form(request, "income", "expenses")
    figures = check_update(form)
    if figures is None:
        return render(request, "income_tax/update.html", _update_context(db, authority, obligation, form=form))
    journeys.forget(request, JOURNEY)
    journeys.save(request, JOURNEY, obligation_id=obligation.id, **figures)
    return _to(request, "income_tax_update_check", obligation)


async def update_check(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_UPDATE)
    db = db_session(request)
    obligation = _obligation(request, db, authority, QUARTERLY_UPDATE)
    if receipt_for(db, obligation.id) is not None:  # a second tab or a double click: the first one's receipt
        return _to(request, "income_tax_update_receipt", obligation)
    figures = _saved_update(request, obligation)
    if figures is None:
        return _to(request, "income_tax_update", obligation)
    if request.method == "GET":
        context = _update_context(db, authority, obligation, figures=figures,
                                  profit=tax_calculation.profit(figures["income"], figures["expenses"]))
        return render(request, "income_tax/update_check.html", context)
    submissions.submit_once(db, obligation=obligation, viewer=require_viewer(request), authority=authority,
                            figures=figures)
    journeys.forget(request, JOURNEY)
    return _to(request, "income_tax_update_receipt", obligation)


async def update_receipt(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_UPDATE)
    db = db_session(request)
    obligation = _obligation(request, db, authority, QUARTERLY_UPDATE)
    submission = receipt_for(db, obligation.id)
    if submission is None:
        raise HTTPException(status_code=404)
    context = _update_context(db, authority, obligation, submission=submission, sender=sender_of(db, submission),
                              sent_at=uk_time(submission.submitted_at))
    return render(request, "income_tax/update_receipt.html", context)


async def final_declaration(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_RETURN)
    db = db_session(request)
    declaration = _obligation(request, db, authority, FINAL_DECLARATION)
    if receipt_for(db, declaration.id) is not None:
        return _to(request, "income_tax_final_declaration_receipt", declaration)
    # Computed again on every request, the POST included: nothing of the calculation comes from the browser.
    profits, outstanding = year_position(db, declaration)
    context = _base(authority, declaration=declaration, outstanding=outstanding,
                    year_ended=declaration.period_end < date.today(), form=Form())
    if outstanding or not context["year_ended"]:
        return render(request, "income_tax/final_declaration.html", context)
    context["figures"] = figures = declaration_figures(declaration, profits)
    if request.method == "GET":
        return render(request, "income_tax/final_declaration.html", context)
    context["form"] = form = await read_form(request, "confirm")
    if form.get("confirm") != "yes":
        form.error("confirm", "Select the box to confirm")
        return render(request, "income_tax/final_declaration.html", context)
    submissions.submit_once(db, obligation=declaration, viewer=require_viewer(request), authority=authority,
                            figures=figures)
    return _to(request, "income_tax_final_declaration_receipt", declaration)


async def final_declaration_receipt(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_RETURN)
    db = db_session(request)
    declaration = _obligation(request, db, authority, FINAL_DECLARATION)
    submission = receipt_for(db, declaration.id)
    if submission is None:
        raise HTTPException(status_code=404)
    context = _base(authority, declaration=declaration, submission=submission, figures=submission.figures,
                    sender=sender_of(db, submission), sent_at=uk_time(submission.submitted_at))
    return render(request, "income_tax/final_declaration_receipt.html", context)


routes = [
    Route("/clients/{client_id:id}/income-tax", overview, name="income_tax"),
    Route("/clients/{client_id:id}/income-tax/updates/{obligation_id:id}", update, methods=["GET", "POST"],
          name="income_tax_update"),
    Route("/clients/{client_id:id}/income-tax/updates/{obligation_id:id}/check", update_check,
          methods=["GET", "POST"], name="income_tax_update_check"),
    Route("/clients/{client_id:id}/income-tax/updates/{obligation_id:id}/receipt", update_receipt,
          name="income_tax_update_receipt"),
    Route("/clients/{client_id:id}/income-tax/final-declaration/{obligation_id:id}", final_declaration,
          methods=["GET", "POST"], name="income_tax_final_declaration"),
    Route("/clients/{client_id:id}/income-tax/final-declaration/{obligation_id:id}/receipt",
          final_declaration_receipt, name="income_tax_final_declaration_receipt"),
]
