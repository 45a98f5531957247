"""Ask a client for authorisation, one question per page (domain.md §2.7). The known fact is
checked again on the server when the request is sent, never only in an earlier step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.handshake.agent.common import ask, posted, require_agent
from portal.domain import handshake, identifiers, ratelimits
from portal.domain.handshake import Refusal, Refused
from portal.domain.models import Taxpayer, utcnow
from portal.domain.people import Viewer
from portal.domain.services import BY_KEY, CLIENT_TYPE_LABELS, SERVICES, KnownFact, TaxService
from portal.web import journeys
from portal.web.db import db_session
from portal.web.formatting import govuk_date
from portal.web.forms import Form, read_date
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render

JOURNEY, SENT = "ask", "ask-sent"
MAX_FAILED_LOOKUPS = 5
LOOKUP_WINDOW = timedelta(minutes=15)
ITSA_OPTION, TRUST_OPTION = "income-tax", "trusts"
STEPS = ("client-type", "service", "agent-role", "trust-taxable", "client-id", "known-fact", "confirm-client",
         "check-your-answers")
# What a client look-up found, and the agent's confirmation of it: forgotten when an answer it used changes.
LOOKUP = ("taxpayer_id", "confirmed")
EMAIL_RE = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+")  # domain.md §1.2 field formats

CLIENT_ID_HINTS = {
    "nino": "For example, QQ 12 34 56 C",
    "vrn": "This is 9 numbers, for example 123456789",
    "utr": "This is 10 numbers, for example 12345 67890",
    "urn": "This is 15 characters, for example XATRUST80000001",
    "cgt": "This is 15 characters, for example XMCGTP123456789",
    "ppt": "This is 15 characters, for example XMPPT0000000123",
    "cbc": "This is 15 characters, for example XACBC0000999999",
    "plr": "This is 15 characters, for example XMPLR0123456789",
}

@dataclass(frozen=True)
class FactQuestion:
    field: str  # "postcode", "date" or "email": the input's name
    question: str
    hint: str
    summary: str  # the key on "Check your answers"
    label: str = ""  # a date, as it reads in an error message


FACT_QUESTIONS = {
    KnownFact.POSTCODE: FactQuestion("postcode", "What is your client's postcode?", "For example, LS1 4DY",
                                     "Postcode"),
    KnownFact.DATE_OF_BIRTH: FactQuestion("date", "What is your client's date of birth?", "For example, 27 3 1985",
                                          "Date of birth", "your client's date of birth"),
    KnownFact.VAT_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client's VAT registration start?",
        "This is on their VAT registration certificate. For example, 27 3 2007", "VAT registration date",
        "the date your client's VAT registration started"),
    KnownFact.PPT_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client's Plastic Packaging Tax registration start?", "For example, 27 3 2023",
        "Plastic Packaging Tax registration date", "the date your client's Plastic Packaging Tax registration started"),
    KnownFact.PLR_REGISTRATION_DATE: FactQuestion(
        "date", "When did your client register for Pillar 2 top-up taxes?", "For example, 27 3 2024",
        "Pillar 2 registration date", "the date your client registered for Pillar 2 top-up taxes"),
    KnownFact.CBC_EMAIL: FactQuestion(
        "email", "What is your client's country-by-country reporting contact email address?",
        "This is the first email address your client gave to HMRC", "Contact email address"),
}
ITSA_POSTCODE_HINT = ("Use their home postcode. If they are a sole trader already signed up to Making Tax Digital "
                      "for Income Tax, use the postcode of their business address")



# --- the journey's answers ----------------------------------------------------------------------------------------


def service_options(client_type: str) -> list[tuple[str, str]]:
    """One option per service for the client type; Income Tax's two roles and the two kinds of trust as one each."""
    options: dict[str, str] = {}
    for service in SERVICES:
        if client_type not in service.client_types:
            continue
        if service.regime == "ITSA":
            options.setdefault(ITSA_OPTION, "Making Tax Digital for Income Tax")
        elif service.regime == "TRS":
            options.setdefault(TRUST_OPTION, "Trusts and estates")
        else:
            options.setdefault(service.key, service.name)
    return list(options.items())


def chosen_service(answers: dict[str, Any]) -> TaxService | None:
    return BY_KEY.get(answers.get("service", ""))


def first_missing(answers: dict[str, Any]) -> str:
    """The first question still to answer (or "check-your-answers" when none is)."""
    if not answers.get("client_type"):
        return "client-type"
    choice = answers.get("service_choice")
    service = chosen_service(answers)
    if not choice:
        return "service"
    if service is None:
        return {ITSA_OPTION: "agent-role", TRUST_OPTION: "trust-taxable"}.get(choice, "service")
    if not answers.get("identifier"):
        return "client-id"
    if service.known_fact and not answers.get("known_fact"):
        return "known-fact"
    if not answers.get("taxpayer_id"):
        return "known-fact" if service.known_fact else "client-id"
    return "check-your-answers" if answers.get("confirmed") else "confirm-client"


def step_route(step: str) -> str:
    """The name of the route of a step of the journey: "client-id" is served by "ask_client_id"."""
    return "ask_" + step.replace("-", "_")


def go(request: Request, step: str) -> RedirectResponse:
    return redirect_to(request, step_route(step))


def not_reached(request: Request, answers: dict[str, Any], step: str) -> RedirectResponse | None:
    """A page whose earlier questions are unanswered sends the person back to the first of them."""
    missing = first_missing(answers)
    return go(request, missing) if STEPS.index(missing) < STEPS.index(step) else None


def set_service(request: Request, answers: dict[str, Any], key: str) -> None:
    old, new = chosen_service(answers), BY_KEY[key]
    if old is None or (old.identifier, old.known_fact) != (new.identifier, new.known_fact):
        journeys.forget(request, JOURNEY, "identifier", "known_fact", *LOOKUP)
    elif old.key != key:
        journeys.forget(request, JOURNEY, *LOOKUP)
    journeys.save(request, JOURNEY, service=key)


def fact_display(service: TaxService, stored: str) -> str:
    if service.known_fact is None:
        return ""
    return govuk_date(date.fromisoformat(stored)) if FACT_QUESTIONS[service.known_fact].field == "date" else stored


def fact_form(question: FactQuestion, stored: str) -> Form:
    if question.field != "date" or not stored:
        return Form(values={question.field: stored})
    year, month, day = stored.split("-")
    return Form(values={"date-day": str(int(day)), "date-month": str(int(month)), "date-year": year})


def read_fact(form: Form, question: FactQuestion) -> str | None:
    raw = form.get(question.field)
    if question.field == "postcode":
        if not raw:
            form.error("postcode", "Enter your client's postcode")
        elif not identifiers.is_valid_postcode(raw):
            form.error("postcode", "Enter a real postcode")
        return identifiers.normalise_postcode(raw) if form.ok else None
    if question.field == "email":
        if not raw:
            form.error("email", "Enter your client's email address")
        elif len(raw) > 254 or not EMAIL_RE.fullmatch(raw):
            form.error("email", "Enter an email address in the correct format, like name@example.com")
        return raw if form.ok else None
    value = read_date(form, "date", question.label)
    if value is not None and value > date.today():
        form.error("date", f"{question.label[0].upper()}{question.label[1:]} must be today or in the past")
    return value.isoformat() if value is not None and form.ok else None


# --- looking the client up, with the known-fact rate limit ---------------------------------------------------------


def look_up(db: Session, viewer: Viewer, answers: dict[str, Any]) -> Taxpayer | str:
    """The client the answers identify, or the exit page to show. Each failed look-up counts towards the limit,
    held in the database so it holds across workers and restarts."""
    key = ratelimits.limit_key("known-fact", str(viewer.user_id))
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=MAX_FAILED_LOOKUPS, window=LOOKUP_WINDOW, now=now):
        return "too-many-attempts"
    service = BY_KEY[answers["service"]]
    taxpayer = handshake.find_client(db, service, answers["client_type"], answers["identifier"])
    if taxpayer is None or not handshake.known_fact_matches(db, service, taxpayer, answers.get("known_fact")):
        ratelimits.record_attempt(db, key=key, window=LOOKUP_WINDOW, now=now)
        return "client-not-found"
    return taxpayer


def look_up_and_continue(request: Request, viewer: Viewer) -> RedirectResponse:
    answers = journeys.answers(request, JOURNEY)
    found = look_up(db_session(request), viewer, answers)
    if isinstance(found, str):
        journeys.forget(request, JOURNEY, *LOOKUP)
        return go(request, found)
    if found.id != answers.get("taxpayer_id"):
        journeys.save(request, JOURNEY, taxpayer_id=found.id, confirmed=False)
    return go(request, "confirm-client")


EXITS = {Refusal.ALREADY_PENDING: "already-pending", Refusal.ALREADY_AUTHORISED: "already-authorised",
         Refusal.CLIENT_NOT_FOUND: "client-not-found"}


# --- ask a client for authorisation: the questions -----------------------------------------------------------------


async def start(request: Request) -> Response:
    require_agent(request)
    journeys.forget(request, JOURNEY)
    journeys.forget(request, SENT)
    return go(request, "client-type")


async def client_type_page(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    form = await posted(request, "client_type") or Form(values={"client_type": answers.get("client_type", "")})
    if request.method == "POST":
        if form.get("client_type") in CLIENT_TYPE_LABELS:
            if form.get("client_type") != answers.get("client_type"):
                journeys.forget(request, JOURNEY)
            journeys.save(request, JOURNEY, client_type=form.get("client_type"))
            return go(request, "service")
        form.error("client_type", "Select the type of client")
    options = [(str(value), label) for value, label in CLIENT_TYPE_LABELS.items()]
    return ask(request, form, question="What type of client is this?", name="client_type", field="radios",
               options=options, back=path_for(request, "track_requests"))


async def service_page(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "service"):
        return early
    options = service_options(answers["client_type"])
    form = await posted(request, "service") or Form(values={"service": answers.get("service_choice", "")})
    if request.method == "POST":
        choice = form.get("service")
        if choice in dict(options):
            if choice != answers.get("service_choice"):
                journeys.forget(request, JOURNEY, "service", "identifier", "known_fact", *LOOKUP)
            journeys.save(request, JOURNEY, service_choice=choice)
            if choice in BY_KEY:
                set_service(request, journeys.answers(request, JOURNEY), choice)
            return go(request, {ITSA_OPTION: "agent-role", TRUST_OPTION: "trust-taxable"}.get(choice, "client-id"))
        form.error("service", "Select the tax service you want your client to authorise you for")
    return ask(request, form, question="What do you want your client to authorise you for?", name="service",
               field="radios", options=options, hint="You need to send a separate request for each tax service.",
               back=path_for(request, step_route("client-type")))


async def agent_role_page(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "agent-role") or (
            None if answers.get("service_choice") == ITSA_OPTION else go(request, "service")):
        return early
    current = {handshake.ITSA_MAIN: "main", handshake.ITSA_SUPPORTING: "supporting"}
    form = await posted(request, "role") or Form(values={"role": current.get(answers.get("service", ""), "")})
    if request.method == "POST":
        roles = {value: key for key, value in current.items()}
        if form.get("role") in roles:
            set_service(request, answers, roles[form.get("role")])
            return go(request, "client-id")
        form.error("role", "Select how you want to act for your client")
    options = [("main", "As their main agent", "You can do everything for your client's Income Tax, including "
                "submitting their tax return"),
               ("supporting", "As a supporting agent", "You can send quarterly updates and make adjustments, "
                "but you cannot submit their tax return")]
    return ask(request, form, question="How do you want to act for your client?", name="role", field="radios",
               options=options, back=path_for(request, step_route("service")))


async def trust_taxable_page(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "trust-taxable") or (
            None if answers.get("service_choice") == TRUST_OPTION else go(request, "service")):
        return early
    current = {"HMRC-TERS-ORG": "yes", "HMRC-TERSNT-ORG": "no"}
    form = await posted(request, "taxable") or Form(values={"taxable": current.get(answers.get("service", ""), "")})
    if request.method == "POST":
        keys = {value: key for key, value in current.items()}
        if form.get("taxable") in keys:
            set_service(request, answers, keys[form.get("taxable")])
            return go(request, "client-id")
        form.error("taxable", "Select yes if your client's trust or estate is taxable")
    return ask(request, form, question="Is your client's trust or estate taxable?", name="taxable", field="radios",
               options=[("yes", "Yes"), ("no", "No")], inline=True, back=path_for(request, step_route("service")))


def back_from_client_id(request: Request, answers: dict[str, Any]) -> str:
    step = {ITSA_OPTION: "agent-role", TRUST_OPTION: "trust-taxable"}.get(answers["service_choice"], "service")
    return path_for(request, step_route(step))


async def client_id_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "client-id"):
        return early
    service = BY_KEY[answers["service"]]
    kind = identifiers.IdentifierKind(service.identifier)
    shown = identifiers.format_for_display(kind, answers.get("identifier", ""))
    form = await posted(request, "identifier") or Form(values={"identifier": shown})
    if request.method == "POST":
        try:
            value = identifiers.parse(kind, form.get("identifier"))
        except identifiers.InvalidIdentifier as invalid:
            form.error("identifier", invalid.message)
        else:
            if value != answers.get("identifier"):
                journeys.forget(request, JOURNEY, *LOOKUP)
            journeys.save(request, JOURNEY, identifier=value)
            return go(request, "known-fact") if service.known_fact else look_up_and_continue(request, viewer)
    return ask(request, form, question=f"What is your client's {identifiers.LABELS[kind]}?", name="identifier",
               field="text", hint=CLIENT_ID_HINTS.get(kind), back=back_from_client_id(request, answers),
               input={"classes": "govuk-input--width-20", "spellcheck": False, "autocomplete": "off"})


async def known_fact_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "known-fact"):
        return early
    service = BY_KEY[answers["service"]]
    if service.known_fact is None:
        return go(request, first_missing(answers))
    question = FACT_QUESTIONS[service.known_fact]
    names = ("date-day", "date-month", "date-year") if question.field == "date" else (question.field,)
    form = await posted(request, *names) or fact_form(question, answers.get("known_fact", ""))
    if request.method == "POST" and (value := read_fact(form, question)) is not None:
        journeys.save(request, JOURNEY, known_fact=value)
        return look_up_and_continue(request, viewer)
    hint = ITSA_POSTCODE_HINT if service.regime == "ITSA" else question.hint
    widths = {"postcode": "govuk-input--width-10", "email": "govuk-input--width-30"}
    return ask(request, form, question=question.question, name=question.field,
               field="date" if question.field == "date" else "text", hint=hint,
               back=path_for(request, step_route("client-id")),
               input={"classes": widths.get(question.field, ""), "spellcheck": False,
                      "autocomplete": "off", "type": "email" if question.field == "email" else "text"})


async def confirm_client_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if early := not_reached(request, answers, "confirm-client"):
        return early
    taxpayer = db_session(request).get(Taxpayer, answers["taxpayer_id"])
    assert taxpayer is not None  # set by a successful look-up in this session
    form = await posted(request, "confirm") or Form(values={"confirm": "yes" if answers.get("confirmed") else ""})
    if request.method == "POST" and form.get("confirm") in ("yes", "no"):
        return client_confirmed(request, viewer, answers, taxpayer, form.get("confirm") == "yes")
    if request.method == "POST":
        form.error("confirm", f"Select yes if {taxpayer.name} is the client you want authorisation from")
    service = BY_KEY[answers["service"]]
    return ask(request, form, question=f"Is {taxpayer.name} the client you want authorisation from?",
               name="confirm", field="radios", options=[("yes", "Yes"), ("no", "No")], inline=True,
               back=path_for(request, step_route("known-fact" if service.known_fact else "client-id")))


def client_confirmed(request: Request, viewer: Viewer, answers: dict[str, Any], taxpayer: Taxpayer,
                     right_client: bool) -> RedirectResponse:
    """On to "Check your answers", unless the firm may not ask this client now (domain.md §2.4)."""
    if not right_client:
        journeys.forget(request, JOURNEY, "identifier", "known_fact", *LOOKUP)
        return go(request, "client-id")
    assert viewer.firm_id is not None
    try:
        handshake.check_can_request(db_session(request), firm_id=viewer.firm_id,
                                         service=BY_KEY[answers["service"]], taxpayer=taxpayer, today=date.today())
    except Refused as refused:
        return go(request, EXITS[refused.reason])
    journeys.save(request, JOURNEY, confirmed=True)
    return go(request, "check-your-answers")


def answer_rows(answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, value, change step) for "Check your answers" and "We could not find your client"."""
    service = BY_KEY[answers["service"]]
    kind = identifiers.IdentifierKind(service.identifier)
    rows = [("Client type", CLIENT_TYPE_LABELS[answers["client_type"]], "client-type"),
            ("Tax service", service.name, "service"),
            (identifiers.LABELS[kind], identifiers.format_for_display(kind, answers["identifier"]), "client-id")]
    if service.known_fact:
        rows.append((FACT_QUESTIONS[service.known_fact].summary, fact_display(service, answers["known_fact"]),
                     "known-fact"))
    return rows


async def check_answers_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if request.method == "POST":
        return await send(request, viewer, answers)
    if early := not_reached(request, answers, "check-your-answers"):
        return early
    db = db_session(request)
    taxpayer = db.get(Taxpayer, answers["taxpayer_id"])
    assert taxpayer is not None
    return render(request, "agent_requests/check_answers.html", {
        "client_name": taxpayer.name, "rows": answer_rows(answers), "step_route": step_route})


async def send(request: Request, viewer: Viewer, answers: dict[str, Any]) -> Response:
    """Creates the request, checking everything again here: nothing an earlier page decided is trusted."""
    if first_missing(answers) != "check-your-answers":
        sent = journeys.answers(request, SENT).get("request_id")
        if not answers and sent:  # a second click on "Confirm and send"
            return redirect_to(request, "request_sent", request_id=sent)
        return go(request, first_missing(answers))
    db = db_session(request)
    found = look_up(db, viewer, answers)
    if found == "client-not-found":
        journeys.forget(request, JOURNEY, *LOOKUP)
    if isinstance(found, str):  # too many attempts keeps the answers, to send once the wait is over
        return go(request, found)
    if found.id != answers["taxpayer_id"]:
        journeys.save(request, JOURNEY, taxpayer_id=found.id, confirmed=False)
        return go(request, "confirm-client")
    try:
        created = handshake.create_request(db, firm_id=viewer.firm_id, user_id=viewer.user_id,
                                                service=BY_KEY[answers["service"]], taxpayer=found,
                                                today=date.today())
    except Refused as refused:
        return go(request, EXITS[refused.reason])
    journeys.forget(request, JOURNEY)
    journeys.save(request, SENT, request_id=created.id)
    return redirect_to(request, "request_sent", request_id=created.id)


# --- ask a client for authorisation: the exits ---------------------------------------------------------------------


async def client_not_found(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    if not answers.get("identifier") or chosen_service(answers) is None:
        return go(request, first_missing(answers))
    return render(request, "agent_requests/client_not_found.html", {
        "rows": answer_rows(answers), "step_route": step_route})


async def too_many_attempts(request: Request) -> Response:
    require_agent(request)
    return render(request, "agent_requests/too_many_attempts.html")


async def refused_page(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, JOURNEY)
    taxpayer = db_session(request).get(Taxpayer, answers["taxpayer_id"]) if answers.get("taxpayer_id") else None
    service = chosen_service(answers)
    template = request.url.path.rsplit("/", 1)[-1].replace("-", "_")
    return render(request, f"agent_requests/{template}.html", {
        "client_name": taxpayer.name if taxpayer else "your client",
        "service_name": service.name if service else "this tax service"})



def question(step: str, handler: Any) -> Route:
    return Route(f"/authorisation-requests/new/{step}", handler, methods=["GET", "POST"], name=step_route(step))



routes = [
    Route("/authorisation-requests/new", start, name="new_authorisation_request"),
    question("client-type", client_type_page),
    question("service", service_page),
    question("agent-role", agent_role_page),
    question("trust-taxable", trust_taxable_page),
    question("client-id", client_id_page),
    question("known-fact", known_fact_page),
    question("confirm-client", confirm_client_page),
    question("check-your-answers", check_answers_page),
    Route("/authorisation-requests/new/client-not-found", client_not_found, name=step_route("client-not-found")),
    Route("/authorisation-requests/new/too-many-attempts", too_many_attempts, name=step_route("too-many-attempts")),
    Route("/authorisation-requests/new/already-pending", refused_page, name=step_route("already-pending")),
    Route("/authorisation-requests/new/already-authorised", refused_page, name=step_route("already-authorised")),
]
