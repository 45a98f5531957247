"""Signing up, linking your own tax account, and registering an agent services account (domain.md §4.1, §4.2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas import firm_contact
from portal.areas.accounts.common import safe_next
from portal.areas.accounts.recovery import request_sign_up
from portal.areas.firm.team import after_becoming_a_member
from portal.domain import accounts, firms, identifiers, taxpayers
from portal.domain.identifiers import IdentifierKind
from portal.domain.models import Taxpayer, utcnow
from portal.domain.people import Viewer
from portal.i18n import ENGLISH, N_, current_language, gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import (
    ADDRESS_FIELDS,
    Form,
    check_email,
    check_uk_address,
    read_form,
)
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer

MAX_NAME_LENGTH = 120
MAX_FIRM_NAME_LENGTH = 160
MAX_AMLS_NUMBER_LENGTH = 40
JOURNEY = "register"

# The bodies' own names, stored as typed here (Firm.amls_body) and shown through the catalogue: HMRC has a Welsh
# name; the others keep their English names in Welsh too (the catalogue says so, entry by entry).
HMRC_SUPERVISOR = N_("HM Revenue and Customs (HMRC)")
AML_SUPERVISORS: tuple[str, ...] = (
    HMRC_SUPERVISOR,
    N_("Association of Accounting Technicians (AAT)"),
    N_("Association of Chartered Certified Accountants (ACCA)"),
    N_("Association of International Accountants (AIA)"),
    N_("Association of Taxation Technicians (ATT)"),
    N_("Chartered Accountants Ireland"),
    N_("Chartered Institute of Management Accountants (CIMA)"),
    N_("Chartered Institute of Taxation (CIOT)"),
    N_("Financial Conduct Authority (FCA)"),
    N_("Insolvency Practitioners Association (IPA)"),
    N_("Institute of Certified Bookkeepers (ICB)"),
    N_("Institute of Chartered Accountants in England and Wales (ICAEW)"),
    N_("Institute of Chartered Accountants of Scotland (ICAS)"),
    N_("International Association of Bookkeepers (IAB)"),
    N_("Law Society of Northern Ireland"),
    N_("Law Society of Scotland"),
    N_("Solicitors Regulation Authority (SRA)"),
)
LINKABLE_KINDS: dict[str, str] = {
    IdentifierKind.NINO: N_("National Insurance number"),
    IdentifierKind.UTR: N_("Unique Taxpayer Reference"),
    IdentifierKind.VRN: N_("VAT registration number"),
}
# "Enter your ..." for an empty reference: one whole sentence per kind (Welsh mutates the word after "eich").
ENTER_REFERENCE: dict[str, str] = {
    IdentifierKind.NINO: N_("Enter your National Insurance number"),
    IdentifierKind.UTR: N_("Enter your Unique Taxpayer Reference"),
    IdentifierKind.VRN: N_("Enter your VAT registration number"),
}
LINK_FAILED = N_("We could not find a tax account with those details")


def supervisor_options() -> list[tuple[str, str, str]]:
    """The select's options in the language of the moment; the values stay the bodies' names as stored. A body
    whose name stays English on a Welsh page says so (lang="en"), as WCAG 3.1.2 asks."""
    return [("", gettext("Select your supervisory body"), "")] + [
        (body, gettext(body), supervisor_language(body)) for body in AML_SUPERVISORS]


def supervisor_language(body: str) -> str:
    """"en" when the body's name is shown in English on a page in another language, else ""."""
    return "en" if current_language() != ENGLISH and gettext(body) == body else ""


def linkable_kinds() -> list[tuple[str, str]]:
    return [(kind, gettext(label)) for kind, label in LINKABLE_KINDS.items()]


def _too_long(form: Form, name: str, message: str, limit: int) -> None:
    """`message` is the whole sentence, with %(limit)d: "Full name must be %(limit)d characters or fewer"."""
    if len(form.get(name)) > limit:
        form.error(name, message % {"limit": limit})


# --- validation ----------------------------------------------------------------------------------------------------


def _check_sign_up(form: Form) -> None:
    if not form.get("name"):
        form.error("name", gettext("Enter your full name"))
    else:
        _too_long(form, "name", gettext("Full name must be %(limit)d characters or fewer"), MAX_NAME_LENGTH)
    check_email(form, "email", gettext("Enter your email address"))
    password = form.get("password")
    # The same rule as a reset or a change of password.
    if problem := accounts.password_problem(password, about=(form.get("name"), form.get("email"))):
        form.error("password", gettext(problem))
    if not form.get("confirm_password"):
        form.error("confirm_password", gettext("Enter your password again"))
    elif form.get("confirm_password") != password:
        form.error("confirm_password", gettext("The passwords do not match"))


def _check_link(form: Form) -> tuple[IdentifierKind, str, str] | None:
    kind_value = form.get("kind")
    if kind_value not in LINKABLE_KINDS:
        form.error("kind", gettext("Select which tax reference you want to use"))
    else:
        kind = IdentifierKind(kind_value)
        raw = form.get("reference")
        try:
            value = (identifiers.nino_without_suffix(raw) if kind is IdentifierKind.NINO
                     else identifiers.parse(kind, raw))
        except identifiers.InvalidIdentifier as invalid:
            message = gettext(ENTER_REFERENCE[kind]) if not raw else invalid.message
            form.error("reference", message)
    postcode = form.get("postcode")
    if not postcode:
        form.error("postcode", gettext("Enter your postcode"))
    elif not identifiers.is_valid_postcode(postcode):
        form.error("postcode", gettext("Enter a real postcode"))
    if not form.ok:
        return None
    return kind, value, identifiers.normalise_postcode(postcode)


@dataclass(frozen=True)
class Question:
    """One page of the registration journey: its fields and how its answers are checked."""

    slug: str
    fields: tuple[str, ...]
    template: str


QUESTIONS: tuple[Question, ...] = (
    Question("firm-name", ("firm_name",), "registration/firm_name.html"),
    Question("contact-email", ("contact_email",), "registration/contact_email.html"),
    Question("address", ADDRESS_FIELDS, "registration/address.html"),
    Question("supervision", ("amls_body", "amls_number"), "registration/supervision.html"),
)
BY_SLUG = {q.slug: q for q in QUESTIONS}


def check_question(slug: str, form: Form) -> None:
    """Checks one page's answers and tidies them (postcode and AMLS number normalised) in place."""
    if slug == "firm-name":
        if not form.get("firm_name"):
            form.error("firm_name", gettext("Enter your firm's name"))
        _too_long(form, "firm_name", gettext("Your firm's name must be %(limit)d characters or fewer"),
                  MAX_FIRM_NAME_LENGTH)
    elif slug == "contact-email":
        check_email(form, "contact_email", gettext("Enter your firm's contact email address"))
    elif slug == "address":
        check_uk_address(form)
    elif slug == "supervision":
        _check_supervision(form)


def _check_supervision(form: Form) -> None:
    body, number = form.get("amls_body"), form.get("amls_number")
    if body not in AML_SUPERVISORS:
        form.error("amls_body", gettext("Select your anti-money laundering supervisory body"))
    if not number:
        form.error("amls_number", gettext("Enter your anti-money laundering supervision registration number"))
    elif len(number) > MAX_AMLS_NUMBER_LENGTH:
        form.error("amls_number", gettext("Registration number must be %(limit)d characters or fewer")
                   % {"limit": MAX_AMLS_NUMBER_LENGTH})
    elif body == HMRC_SUPERVISOR:
        if not identifiers.is_valid_amls_hmrc_number(number):
            form.error("amls_number", gettext("Enter your HMRC anti-money laundering supervision registration "
                                              "number in the correct format, like XAML00000123456"))
        else:
            form.values["amls_number"] = "".join(number.split()).upper()


def first_unanswered(answers: dict[str, Any]) -> Question | None:
    """The first page whose saved answers are missing or no longer pass their checks."""
    for question in QUESTIONS:
        form = Form(values={name: str(answers.get(name, "")) for name in question.fields})
        check_question(question.slug, form)
        if not form.ok or any(name not in answers for name in question.fields):
            return question
    return None


def _firm_details(answers: dict[str, Any]) -> firms.FirmDetails:
    renamed = {"firm_name": "name", "contact_email": "email"}
    return firms.FirmDetails(**{renamed.get(name, name): str(answers[name]) for q in QUESTIONS for name in q.fields})


def _next_page(request: Request, answers: dict[str, Any], slug: str) -> RedirectResponse:
    missing = first_unanswered(answers)
    index = [q.slug for q in QUESTIONS].index(slug)
    if missing is None or index + 1 == len(QUESTIONS):
        if missing is None:
            return redirect_to(request, "register_check")
        return redirect_to(request, "register_question", slug=missing.slug)
    return redirect_to(request, "register_question", slug=QUESTIONS[index + 1].slug)


def _previous_page(request: Request, slug: str) -> str:
    index = [q.slug for q in QUESTIONS].index(slug)
    if index == 0:
        return path_for(request, "register")
    return path_for(request, "register_question", slug=QUESTIONS[index - 1].slug)


# --- handlers: signing up ------------------------------------------------------------------------------------------


async def sign_up(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next", ""))
    if current_viewer(request) is not None:  # already signed in: a second account now would be a mistake
        return RedirectResponse(next_url, status_code=303) if next_url else redirect_to(request, "account")
    context: dict[str, Any] = {"next_url": next_url, "already_registered": False}
    if request.method == "GET":
        return render(request, "registration/sign_up.html", {**context, "form": Form()})
    form = await read_form(request, "name", "email", "password", "confirm_password")
    _check_sign_up(form)
    if not form.ok:
        form.values["password"] = form.values["confirm_password"] = ""  # never echo a password back
        return render(request, "registration/sign_up.html", {**context, "form": form})
    # The same page whether or not the address has an account (issue 12): its owner is emailed instead.
    return request_sign_up(request, name=form.get("name"), email=form.get("email"), password=form.get("password"),
                           next_url=next_url)


async def link_tax_account(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    now = utcnow()
    if taxpayers.link_locked(db, user_id=viewer.user_id, now=now):
        return render(request, "registration/link_locked.html", status_code=429)
    if request.method == "GET":
        return render(request, "registration/link_tax_account.html", {"form": Form(), "kinds": linkable_kinds()})
    form = await read_form(request, "kind", "reference", "postcode")
    answer = _check_link(form)
    if answer is None:
        return render(request, "registration/link_tax_account.html", {"form": form, "kinds": linkable_kinds()})
    kind, value, postcode = answer
    try:
        taxpayer = taxpayers.link_tax_account(db, user_id=viewer.user_id, kind=kind, value=value, postcode=postcode,
                                              now=now)
    except taxpayers.Refused:
        form.error("reference", gettext(LINK_FAILED))
        return render(request, "registration/link_tax_account.html", {"form": form, "kinds": linkable_kinds()})
    return redirect_to(request, "tax_account_linked", taxpayer_id=taxpayer.id)


async def tax_account_linked(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = db_session(request).get(Taxpayer, request.path_params["taxpayer_id"])
    if taxpayer is None or taxpayer.owner_user_id != viewer.user_id:
        raise HTTPException(status_code=404)
    return render(request, "registration/linked.html", {"taxpayer": taxpayer})


# --- handlers: registering an agent services account ---------------------------------------------------------------


async def register_start(request: Request) -> Response:
    viewer = current_viewer(request)
    template = "registration/already_registered.html" if viewer and viewer.is_agent else "registration/start.html"
    return render(request, template)


async def question(request: Request) -> Response:
    viewer = require_viewer(request)
    question = BY_SLUG.get(request.path_params["slug"])
    if question is None:
        raise HTTPException(status_code=404)
    if viewer.is_agent:
        return redirect_to(request, "register")
    if not accounts.email_confirmed(db_session(request), viewer.user_id):  # joining a firm needs a proved address
        return render(request, "auth/confirm_email_first.html", status_code=403)
    context = {"back": _previous_page(request, question.slug), "supervisors": supervisor_options(),
               "slug": question.slug}
    if request.method == "GET":
        saved = journeys.answers(request, JOURNEY)
        form = Form(values={name: str(saved.get(name, "")) for name in question.fields})
        return render(request, question.template, {**context, "form": form})
    form = await read_form(request, *question.fields)
    check_question(question.slug, form)
    if not form.ok:
        return render(request, question.template, {**context, "form": form})
    answers = journeys.save(request, JOURNEY, **form.values)
    return _next_page(request, answers, question.slug)


def _create_firm(request: Request, viewer: Viewer, answers: dict[str, Any]) -> None:
    """The firm, with the contact address it asked for if that is already proved (the administrator's own
    confirmed address); otherwise with the administrator's own address until the link emailed to the one asked
    for is followed (issue 12: an unconfirmed address cannot become a firm's contact)."""
    db = db_session(request)
    details = _firm_details(answers)
    proved = firms.proved_by(db, user_id=viewer.user_id, email=details.email)
    firm = firms.create_firm(db, user_id=viewer.user_id,
                             details=details if proved else replace(details, email=viewer.email))
    if not proved:
        firm_contact.send_confirmation(request, firm, details.email)


async def check_answers(request: Request) -> Response:
    viewer = require_viewer(request)
    if viewer.is_agent:
        return redirect_to(request, "register")
    if not accounts.email_confirmed(db_session(request), viewer.user_id):
        return render(request, "auth/confirm_email_first.html", status_code=403)
    answers = journeys.answers(request, JOURNEY)
    if (missing := first_unanswered(answers)) is not None:
        return redirect_to(request, "register_question", slug=missing.slug)
    if request.method == "GET":
        return render(request, "registration/check_answers.html",
                      {"answers": answers, "body_language": supervisor_language(str(answers.get("amls_body", "")))})
    try:
        _create_firm(request, viewer, answers)
    except firms.Refused:  # a double click, or another tab, registered first
        return render(request, "registration/already_registered.html")
    journeys.forget(request, JOURNEY)
    return after_becoming_a_member(request, db_session(request), viewer.user_id,
                                   "register_complete")  # 2-step verification first


async def complete(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.is_agent:
        return redirect_to(request, "register")
    assert viewer.firm_id is not None  # an agent belongs to a firm
    return render(request, "registration/complete.html",
                  {"pending": firms.pending_contact(db_session(request), viewer.firm_id)})


routes = [
    Route("/sign-up", sign_up, methods=["GET", "POST"], name="sign_up"),
    Route("/account/link-tax-account", link_tax_account, methods=["GET", "POST"], name="link_tax_account"),
    Route("/account/link-tax-account/linked/{taxpayer_id:id}", tax_account_linked, name="tax_account_linked"),
    Route("/register", register_start, name="register"),
    Route("/register/check-your-answers", check_answers, methods=["GET", "POST"], name="register_check"),
    Route("/register/complete", complete, name="register_complete"),
    Route("/register/{slug}", question, methods=["GET", "POST"], name="register_question"),
]
