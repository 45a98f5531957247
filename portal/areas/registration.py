"""Signing up, linking your own tax account, and registering an agent services account (domain.md §4.1, §4.2)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.accounts.common import safe_next
from portal.areas.accounts.recovery import request_sign_up
from portal.domain import accounts, audit, identifiers, ratelimits
from portal.domain.access import MAX_ID
from portal.domain.accounts import MAX_EMAIL_LENGTH
from portal.domain.identifiers import IdentifierKind
from portal.domain.models import Firm, Membership, Taxpayer, TaxpayerIdentifier, utcnow
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import ADDRESS_FIELDS, Form, check_uk_address, read_form
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer

MAX_NAME_LENGTH = 120
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_FIRM_NAME_LENGTH = 160
MAX_AMLS_NUMBER_LENGTH = 40
LINK_ATTEMPTS_ALLOWED = 5
LINK_WINDOW = timedelta(minutes=15)
CREATE_ATTEMPTS = 5
LINK_UID_ALPHABET = "ABCDEFGHJKLMNOPRSTUWXYZ123456789"  # no I, Q, V or 0: nothing that reads as another
JOURNEY = "register"
# Something before and after one @, and a dot in the domain: plausible, not proof (only a sent email proves it).
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

HMRC_SUPERVISOR = "HM Revenue and Customs (HMRC)"
AML_SUPERVISORS: tuple[str, ...] = (
    HMRC_SUPERVISOR,
    "Association of Accounting Technicians (AAT)",
    "Association of Chartered Certified Accountants (ACCA)",
    "Association of International Accountants (AIA)",
    "Association of Taxation Technicians (ATT)",
    "Chartered Accountants Ireland",
    "Chartered Institute of Management Accountants (CIMA)",
    "Chartered Institute of Taxation (CIOT)",
    "Financial Conduct Authority (FCA)",
    "Insolvency Practitioners Association (IPA)",
    "Institute of Certified Bookkeepers (ICB)",
    "Institute of Chartered Accountants in England and Wales (ICAEW)",
    "Institute of Chartered Accountants of Scotland (ICAS)",
    "International Association of Bookkeepers (IAB)",
    "Law Society of Northern Ireland",
    "Law Society of Scotland",
    "Solicitors Regulation Authority (SRA)",
)
SUPERVISOR_OPTIONS = [("", "Select your supervisory body")] + [(body, body) for body in AML_SUPERVISORS]
LINKABLE_KINDS: dict[str, str] = {
    IdentifierKind.NINO: "National Insurance number",
    IdentifierKind.UTR: "Unique Taxpayer Reference",
    IdentifierKind.VRN: "VAT registration number",
}
LINK_FAILED = "We could not find a tax account with those details"


# --- queries -----------------------------------------------------------------------------------------------------


def find_linkable(db: Session, kind: IdentifierKind, value: str, postcode: str) -> Taxpayer | None:
    if kind is IdentifierKind.NINO:  # stored with its suffix; a person may type it with or without one
        values = [value + suffix for suffix in "ABCD"] + [value]
    else:
        values = [value]
    taxpayer = db.execute(
        select(Taxpayer)
        .join(TaxpayerIdentifier, TaxpayerIdentifier.taxpayer_id == Taxpayer.id)
        .where(TaxpayerIdentifier.kind == kind, TaxpayerIdentifier.value.in_(values))
    ).scalars().first()
    if taxpayer is None or identifiers.normalise_postcode(taxpayer.postcode) != postcode:
        return None
    return taxpayer


def claim_taxpayer(db: Session, taxpayer_id: int, user_id: int) -> bool:
    """Only an unclaimed account: a conditional update, so two people racing for it cannot both win."""
    result = db.execute(
        update(Taxpayer).where(Taxpayer.id == taxpayer_id, Taxpayer.owner_user_id.is_(None))
        .values(owner_user_id=user_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def has_membership(db: Session, user_id: int) -> bool:
    return bool(db.execute(select(exists().where(Membership.user_id == user_id))).scalar())


def create_firm(db: Session, user_id: int, answers: dict[str, str]) -> Firm | None:
    """A new firm with a fresh ARN and client-link code, its creator as administrator; None if the person
    already belongs to a firm. The unique constraints are the final word on collisions and double clicks."""
    for _ in range(CREATE_ATTEMPTS):
        firm = Firm(arn=_unused_arn(db), link_uid=_unused_link_uid(db), **answers)
        try:
            with db.begin_nested():
                db.add(firm)
                db.flush()
                db.add(Membership(firm_id=firm.id, user_id=user_id, role="admin"))
                db.flush()
        except IntegrityError:
            if has_membership(db, user_id):
                return None
            continue
        return firm
    raise RuntimeError("could not find a free Agent Reference Number")


def _unused_arn(db: Session) -> str:
    while True:
        arn = identifiers.make_arn(secrets.randbelow(10**7))
        if not db.execute(select(exists().where(Firm.arn == arn))).scalar():
            return arn


def _unused_link_uid(db: Session) -> str:
    while True:
        uid = "".join(secrets.choice(LINK_UID_ALPHABET) for _ in range(8))
        if not db.execute(select(exists().where(Firm.link_uid == uid))).scalar():
            return uid


# --- validation ----------------------------------------------------------------------------------------------------


def is_plausible_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and bool(_EMAIL_RE.fullmatch(value))


def check_email(form: Form, name: str, empty: str) -> None:
    value = form.get(name)
    if not value:
        form.error(name, empty)
    elif len(value) > MAX_EMAIL_LENGTH:
        form.error(name, f"Email address must be {MAX_EMAIL_LENGTH} characters or fewer")
    elif not is_plausible_email(value):
        form.error(name, "Enter an email address in the correct format, like name@example.com")


def _check_sign_up(form: Form) -> None:
    if not form.get("name"):
        form.error("name", "Enter your full name")
    elif len(form.get("name")) > MAX_NAME_LENGTH:
        form.error("name", f"Full name must be {MAX_NAME_LENGTH} characters or fewer")
    check_email(form, "email", "Enter your email address")
    password = form.get("password")
    if not password:
        form.error("password", "Enter a password")
    elif len(password) < MIN_PASSWORD_LENGTH:
        form.error("password", f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    elif len(password) > MAX_PASSWORD_LENGTH:
        form.error("password", f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer")
    if not form.get("confirm_password"):
        form.error("confirm_password", "Enter your password again")
    elif form.get("confirm_password") != password:
        form.error("confirm_password", "The passwords do not match")


def _check_link(form: Form) -> tuple[IdentifierKind, str, str] | None:
    kind_value = form.get("kind")
    if kind_value not in LINKABLE_KINDS:
        form.error("kind", "Select which tax reference you want to use")
    else:
        kind = IdentifierKind(kind_value)
        raw = form.get("reference")
        try:
            value = (identifiers.nino_without_suffix(raw) if kind is IdentifierKind.NINO
                     else identifiers.parse(kind, raw))
        except identifiers.InvalidIdentifier as invalid:
            message = f"Enter your {LINKABLE_KINDS[kind]}" if not raw else invalid.message
            form.error("reference", message)
    postcode = form.get("postcode")
    if not postcode:
        form.error("postcode", "Enter your postcode")
    elif not identifiers.is_valid_postcode(postcode):
        form.error("postcode", "Enter a real postcode")
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


def _length(form: Form, name: str, label: str, limit: int) -> None:
    if len(form.get(name)) > limit:
        form.error(name, f"{label} must be {limit} characters or fewer")


def check_question(slug: str, form: Form) -> None:
    """Checks one page's answers and tidies them (postcode and AMLS number normalised) in place."""
    if slug == "firm-name":
        if not form.get("firm_name"):
            form.error("firm_name", "Enter your firm's name")
        _length(form, "firm_name", "Your firm's name", MAX_FIRM_NAME_LENGTH)
    elif slug == "contact-email":
        check_email(form, "contact_email", "Enter your firm's contact email address")
    elif slug == "address":
        check_uk_address(form)
    elif slug == "supervision":
        _check_supervision(form)


def _check_supervision(form: Form) -> None:
    body, number = form.get("amls_body"), form.get("amls_number")
    if body not in AML_SUPERVISORS:
        form.error("amls_body", "Select your anti-money laundering supervisory body")
    if not number:
        form.error("amls_number", "Enter your anti-money laundering supervision registration number")
    elif len(number) > MAX_AMLS_NUMBER_LENGTH:
        form.error("amls_number", f"Registration number must be {MAX_AMLS_NUMBER_LENGTH} characters or fewer")
    elif body == HMRC_SUPERVISOR:
        if not identifiers.is_valid_amls_hmrc_number(number):
            form.error("amls_number", "Enter your HMRC anti-money laundering supervision registration number "
                                      "in the correct format, like XAML00000123456")
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


def _firm_details(answers: dict[str, Any]) -> dict[str, str]:
    renamed = {"firm_name": "name", "contact_email": "email"}
    return {renamed.get(name, name): str(answers[name]) for q in QUESTIONS for name in q.fields}


def _next_page(answers: dict[str, Any], slug: str) -> str:
    missing = first_unanswered(answers)
    index = [q.slug for q in QUESTIONS].index(slug)
    if missing is None or index + 1 == len(QUESTIONS):
        return "/register/check-your-answers" if missing is None else f"/register/{missing.slug}"
    return f"/register/{QUESTIONS[index + 1].slug}"


def _previous_page(slug: str) -> str:
    index = [q.slug for q in QUESTIONS].index(slug)
    return "/register" if index == 0 else f"/register/{QUESTIONS[index - 1].slug}"


# --- handlers: signing up ------------------------------------------------------------------------------------------


async def sign_up(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next", ""))
    if current_viewer(request) is not None:  # already signed in: a second account now would be a mistake
        return RedirectResponse(next_url or "/account", status_code=303)
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
    key = ratelimits.limit_key("link-tax-account", str(viewer.user_id))
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=LINK_ATTEMPTS_ALLOWED, window=LINK_WINDOW, now=now):
        return render(request, "registration/link_locked.html", status_code=429)
    if request.method == "GET":
        return render(request, "registration/link_tax_account.html", {"form": Form(), "kinds": LINKABLE_KINDS})
    form = await read_form(request, "kind", "reference", "postcode")
    answer = _check_link(form)
    if answer is None:
        return render(request, "registration/link_tax_account.html", {"form": form, "kinds": LINKABLE_KINDS})
    taxpayer = find_linkable(db, *answer)
    if taxpayer is not None and taxpayer.owner_user_id == viewer.user_id:
        return RedirectResponse(f"/account/link-tax-account/linked/{taxpayer.id}", status_code=303)
    if taxpayer is None or not claim_taxpayer(db, taxpayer.id, viewer.user_id):
        ratelimits.record_attempt(db, key=key, window=LINK_WINDOW, now=now)
        audit.record(db, "tax_account_link_failed", authority="self", actor_user_id=viewer.user_id)
        form.error("reference", LINK_FAILED)
        return render(request, "registration/link_tax_account.html", {"form": form, "kinds": LINKABLE_KINDS})
    audit.record(db, "tax_account_linked", authority="self", actor_user_id=viewer.user_id, taxpayer_id=taxpayer.id)
    return RedirectResponse(f"/account/link-tax-account/linked/{taxpayer.id}", status_code=303)


async def tax_account_linked(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer_id = request.path_params["taxpayer_id"]
    taxpayer = db_session(request).get(Taxpayer, taxpayer_id) if 0 < taxpayer_id <= MAX_ID else None
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
        return RedirectResponse("/register", status_code=303)
    if not accounts.email_confirmed(db_session(request), viewer.user_id):  # joining a firm needs a proved address
        return render(request, "auth/confirm_email_first.html", status_code=403)
    context = {"back": _previous_page(question.slug), "supervisors": SUPERVISOR_OPTIONS, "slug": question.slug}
    if request.method == "GET":
        saved = journeys.answers(request, JOURNEY)
        form = Form(values={name: str(saved.get(name, "")) for name in question.fields})
        return render(request, question.template, {**context, "form": form})
    form = await read_form(request, *question.fields)
    check_question(question.slug, form)
    if not form.ok:
        return render(request, question.template, {**context, "form": form})
    answers = journeys.save(request, JOURNEY, **form.values)
    return RedirectResponse(_next_page(answers, question.slug), status_code=303)


async def check_answers(request: Request) -> Response:
    viewer = require_viewer(request)
    if viewer.is_agent:
        return RedirectResponse("/register", status_code=303)
    if not accounts.email_confirmed(db_session(request), viewer.user_id):
        return render(request, "auth/confirm_email_first.html", status_code=403)
    answers = journeys.answers(request, JOURNEY)
    if (missing := first_unanswered(answers)) is not None:
        return RedirectResponse(f"/register/{missing.slug}", status_code=303)
    if request.method == "GET":
        return render(request, "registration/check_answers.html", {"answers": answers})
    db = db_session(request)
    firm = create_firm(db, viewer.user_id, _firm_details(answers))
    if firm is None:
        return render(request, "registration/already_registered.html")
    audit.record(db, "agent_services_account_created", authority="self", actor_user_id=viewer.user_id,
                 firm_id=firm.id, arn=firm.arn)
    journeys.forget(request, JOURNEY)
    return RedirectResponse("/register/complete", status_code=303)


async def complete(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.is_agent:
        return RedirectResponse("/register", status_code=303)
    return render(request, "registration/complete.html")


routes = [
    Route("/sign-up", sign_up, methods=["GET", "POST"], name="sign_up"),
    Route("/account/link-tax-account", link_tax_account, methods=["GET", "POST"], name="link_tax_account"),
    Route("/account/link-tax-account/linked/{taxpayer_id:int}", tax_account_linked, name="tax_account_linked"),
    Route("/register", register_start, name="register"),
    Route("/register/check-your-answers", check_answers, methods=["GET", "POST"], name="register_check"),
    Route("/register/complete", complete, name="register_complete"),
    Route("/register/{slug}", question, methods=["GET", "POST"], name="register_question"),
]
