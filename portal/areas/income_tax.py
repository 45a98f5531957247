"""Making Tax Digital for Income Tax: quarterly updates per business and the final declaration of the tax year.

The same pages serve the taxpayer and anyone acting for them; portal.domain.access says who may do what. Quarterly
updates need SUBMIT_UPDATE (the taxpayer, main and supporting agents); the final declaration needs SUBMIT_RETURN
(the taxpayer and the main agent only). Whatever a person cannot do is a 404 and is never offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import submissions, tax_calculation
from portal.domain.models import Business, Obligation
from portal.domain.people import Authority
from portal.domain.services import Action
from portal.domain.submissions import receipt_for, sender_of
from portal.domain.tax_years import (
    BUSINESS_KINDS,
    FINAL_DECLARATION,
    ITSA,
    QUARTERLY_UPDATE,
    UNLINKED,
    DeclarationAnswers,
    declaration_figures,
    income_tax_years,
    year_position,
)
from portal.domain.times import uk_time
from portal.i18n import N_, gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

JOURNEY = "income-tax-update"
MAX_POUNDS = 99_999_999_999
WHOLE_POUNDS = re.compile(r"-?[0-9]+")


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


# Each field's messages, whole sentences (Welsh word order differs); %(amount)s is the largest amount allowed.
MESSAGES: dict[str, dict[str, str]] = {
    "income": {
        "missing": N_("Enter the business's income for this period"),
        "format": N_("Income must be a whole number of pounds, like 12500"),
        "negative": N_("Income cannot be a negative number"),
        "too_big": N_("Income must be %(amount)s or less"),
    },
    "expenses": {
        "missing": N_("Enter the business's expenses for this period"),
        "format": N_("Expenses must be a whole number of pounds, like 4200"),
        "negative": N_("Expenses cannot be a negative number"),
        "too_big": N_("Expenses must be %(amount)s or less"),
    },
    "savings_interest": {
        "format": N_("Savings interest must be a whole number of pounds, like 350"),
        "negative": N_("Savings interest cannot be a negative number"),
        "too_big": N_("Savings interest must be %(amount)s or less"),
    },
    "dividends": {
        "format": N_("Dividends must be a whole number of pounds, like 1200"),
        "negative": N_("Dividends cannot be a negative number"),
        "too_big": N_("Dividends must be %(amount)s or less"),
    },
}


def _whole_pounds_or_error(form: Form, name: str, raw: str) -> int | None:
    messages = MESSAGES[name]
    if not WHOLE_POUNDS.fullmatch(raw):
        form.error(name, gettext(messages["format"]))
    elif int(raw) < 0:
        form.error(name, gettext(messages["negative"]))
    elif int(raw) > MAX_POUNDS:
        form.error(name, gettext(messages["too_big"]) % {"amount": f"£{MAX_POUNDS:,}"})
    else:
        return int(raw)
    return None


def read_pounds(form: Form, name: str) -> int | None:
    """A whole number of pounds from 0 to MAX_POUNDS; commas and a pound sign are forgiven."""
    raw = form.get(name).replace(",", "").replace("£", "").replace(" ", "")
    if not form.get(name):
        form.error(name, gettext(MESSAGES[name]["missing"]))
        return None
    return _whole_pounds_or_error(form, name, raw)


def read_amount(form: Form, name: str) -> int | None:
    """A whole number of pounds for the final declaration's own questions; empty means none."""
    raw = form.get(name).replace(",", "").replace("£", "").replace(" ", "")
    if not raw:
        return 0
    return _whole_pounds_or_error(form, name, raw)


@dataclass(frozen=True)
class Question:
    """One of the final declaration's own questions: its page, its fields and how the answer is kept."""

    slug: str
    fields: tuple[str, ...]
    heading: str


QUESTIONS: dict[str, Question] = {q.slug: q for q in (
    Question("other-income", ("savings_interest", "dividends"), N_("Savings interest and dividends")),
    Question("trading-allowance", ("trading_allowance",), N_("Trading allowance or expenses")),
    Question("property-allowance", ("property_allowance",), N_("Property allowance or expenses")),
    Question("loss-relief", ("sideways_relief",), N_("Trading loss")),
)}
CHOICES = {"allowance": True, "expenses": False}


def check_question(question: Question, form: Form) -> dict[str, Any] | None:
    """The answers to keep, or None with the errors in the form."""
    if question.slug == "other-income":
        savings = read_amount(form, "savings_interest")
        dividends = read_amount(form, "dividends")
        return {"savings_interest": savings, "dividends": dividends} if form.ok else None
    name = question.fields[0]
    if question.slug == "loss-relief":
        if form.get(name) not in ("yes", "no"):
            form.error(name, gettext("Select yes if you want to set the loss against other income"))
            return None
        return {name: form.get(name) == "yes"}
    if form.get(name) not in CHOICES:
        form.error(name, gettext("Select whether to deduct the £1,000 trading allowance or expenses")
                   if name == "trading_allowance"
                   else gettext("Select whether to deduct the £1,000 property allowance or expenses"))
        return None
    return {name: CHOICES[form.get(name)]}


def _asked(question: Question, figures: dict[str, Any]) -> bool:
    """Whether the question means anything for these figures: an allowance only for a kind of business the
    person has, the loss claim only when there is a trading loss."""
    if question.slug == "loss-relief":
        return bool(figures["trading_loss"])
    if question.slug.endswith("-allowance"):
        return any(use["kind"] == question.slug.removesuffix("-allowance") for use in figures["allowances"])
    return True


def declaration_journey(declaration: Obligation) -> str:
    return f"final-declaration-{declaration.id}"


def declaration_answers(request: Request, declaration: Obligation) -> DeclarationAnswers:
    """The answers kept in the session for this declaration, checked again (they came from a browser)."""
    kept = journeys.answers(request, declaration_journey(declaration))
    values: dict[str, Any] = {}
    for name in ("savings_interest", "dividends"):
        amount = kept.get(name)
        if isinstance(amount, int) and not isinstance(amount, bool) and 0 <= amount <= MAX_POUNDS:
            values[name] = amount
    for name in ("trading_allowance", "property_allowance", "sideways_relief"):
        if isinstance(kept.get(name), bool):
            values[name] = kept[name]
    return DeclarationAnswers(**values)


def question_values(question: Question, answers: DeclarationAnswers) -> dict[str, str]:
    """What the question's fields show: the answer kept, or nothing where the law's default still stands."""
    if question.slug == "other-income":
        return {name: str(getattr(answers, name) or "") for name in question.fields}
    value = getattr(answers, question.fields[0])
    if value is None:
        return {question.fields[0]: ""}
    if question.slug == "loss-relief":
        return {"sideways_relief": "yes" if value else "no"}
    return {question.fields[0]: "allowance" if value else "expenses"}


def check_update(form: Form) -> dict[str, int] | None:
    income = read_pounds(form, "income")
    expenses = read_pounds(form, "expenses")
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


# tax_years.BUSINESS_KINDS's names and UNLINKED, marked here and translated where they are shown.
KINDS = {"self-employment": N_("Self-employment"), "uk-property": N_("UK property"),
         "foreign-property": N_("Foreign property")}
UNLINKED_NAME = N_("Income not linked to a business")
assert set(KINDS) == set(BUSINESS_KINDS) and UNLINKED_NAME == UNLINKED


def business_label(name: str) -> str:
    """A business's name as shown: the person's own name for it, or our words for income not linked to one."""
    return gettext(UNLINKED_NAME) if name == UNLINKED else name


def _base(authority: Authority, **context: Any) -> dict[str, Any]:
    kinds = {kind: gettext(shown) for kind, shown in KINDS.items()}
    return {"authority": authority, "client": authority.taxpayer, "kinds": kinds, "Action": Action,
            "business_label": business_label, **context}


def _to(request: Request, name: str, obligation: Obligation) -> Response:
    return redirect_to(request, name, client_id=obligation.taxpayer_id, obligation_id=obligation.id)


def _update_context(db: Session, authority: Authority, obligation: Obligation, **context: Any) -> dict[str, Any]:
    business = db.get(Business, obligation.business_id) if obligation.business_id else None
    return _base(authority, obligation=obligation,
                 business_name=business.name if business else gettext(UNLINKED_NAME), **context)


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


def _declaration_context(request: Request, db: Session, authority: Authority,
                         declaration: Obligation) -> dict[str, Any]:
    """The declaration page's context; "figures" only once the declaration can be made."""
    # Computed again on every request, the POST included: nothing of the calculation comes from the browser.
    profits, outstanding = year_position(db, declaration)
    context = _base(authority, declaration=declaration, outstanding=outstanding,
                    year_ended=declaration.period_end < date.today(), form=Form())
    if not outstanding and context["year_ended"]:
        context["answers"] = answers = declaration_answers(request, declaration)
        context["figures"] = declaration_figures(declaration, profits, answers,
                                                 scottish=authority.taxpayer.scottish_taxpayer)
    return context


async def final_declaration(request: Request) -> Response:
    authority = _authority(request, Action.SUBMIT_RETURN)
    db = db_session(request)
    declaration = _obligation(request, db, authority, FINAL_DECLARATION)
    if receipt_for(db, declaration.id) is not None:
        return _to(request, "income_tax_final_declaration_receipt", declaration)
    context = _declaration_context(request, db, authority, declaration)
    if "figures" not in context or request.method == "GET":
        return render(request, "income_tax/final_declaration.html", context)
    context["form"] = form = await read_form(request, "confirm")
    if form.get("confirm") != "yes":
        form.error("confirm", gettext("Select the box to confirm"))
        return render(request, "income_tax/final_declaration.html", context)
    submissions.submit_once(db, obligation=declaration, viewer=require_viewer(request), authority=authority,
                            figures=context["figures"])
    journeys.forget(request, declaration_journey(declaration))
    return _to(request, "income_tax_final_declaration_receipt", declaration)


async def declaration_question(request: Request) -> Response:
    """Savings and dividends, and the choices the law leaves to the person; each answer goes back to the
    declaration page, which works the calculation out again with it."""
    authority = _authority(request, Action.SUBMIT_RETURN)
    db = db_session(request)
    declaration = _obligation(request, db, authority, FINAL_DECLARATION)
    question = QUESTIONS.get(request.path_params["question"])
    if question is None:
        raise HTTPException(status_code=404)
    if receipt_for(db, declaration.id) is not None:
        return _to(request, "income_tax_final_declaration_receipt", declaration)
    context = _declaration_context(request, db, authority, declaration)
    if "figures" not in context:  # not ready to declare: the declaration page says why
        return _to(request, "income_tax_final_declaration", declaration)
    if not _asked(question, context["figures"]):  # e.g. a loss page once there is no loss: nothing to answer
        return _to(request, "income_tax_final_declaration", declaration)
    context["question"] = question
    if request.method == "GET":
        context["form"] = Form(values=question_values(question, context["answers"]))
        return render(request, "income_tax/declaration_question.html", context)
    context["form"] = form = await read_form(request, *question.fields)
    answer = check_question(question, form)
    if answer is None:
        return render(request, "income_tax/declaration_question.html", context)
    journeys.save(request, declaration_journey(declaration), **answer)
    return _to(request, "income_tax_final_declaration", declaration)


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
    Route("/clients/{client_id:id}/income-tax/final-declaration/{obligation_id:id}/{question}",
          declaration_question, methods=["GET", "POST"], name="income_tax_declaration_question"),
]
