"""Ask a client for authorisation, one question per page (domain.md §2.7). The known fact is
checked again on the server when the request is sent, never only in an earlier step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.handshake.agent.common import ask, posted, require_agent
from portal.areas.handshake.agent.journey import (
    FOLLOW_UPS,
    ITSA_OPTION,
    TRUST_OPTION,
    Answers,
    Field,
    next_step,
    reached,
    service_options,
    step_after_service,
    with_answer,
)
from portal.areas.handshake.agent.questions import (
    CLIENT_ID_QUESTIONS,
    FACT_QUESTIONS,
    ITSA_POSTCODE_HINT,
    fact_display,
    fact_form,
    read_fact,
    read_identifier,
)
from portal.domain import handshake, identifiers
from portal.domain.handshake import Refusal, Refused
from portal.domain.models import Taxpayer
from portal.domain.people import Viewer
from portal.domain.services import BY_KEY, CLIENT_TYPE_LABELS, ClientType
from portal.i18n import gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render

JOURNEY, SENT = "ask", "ask-sent"


# --- the journey's answers, kept in the person's session (the rules of the journey are journey.py's) -------------


def load(request: Request) -> Answers:
    return Answers.from_saved(journeys.answers(request, JOURNEY))


def store(request: Request, answers: Answers) -> Answers:
    journeys.forget(request, JOURNEY)
    journeys.save(request, JOURNEY, **answers.as_saved())
    return answers


def answer(request: Request, answers: Answers, field: Field, value: str | int | bool | None) -> Answers:
    return store(request, with_answer(answers, field, value))


def step_route(step: str) -> str:
    """The name of the route of a step of the journey: "client-id" is served by "ask_client_id"."""
    return "ask_" + step.replace("-", "_")


def go(request: Request, step: str) -> RedirectResponse:
    return redirect_to(request, step_route(step))


def not_reached(request: Request, answers: Answers, step: str) -> RedirectResponse | None:
    """A page whose earlier questions are unanswered sends the person back to the first of them."""
    return None if reached(answers, step) else go(request, next_step(answers))


# --- looking the client up, with the known-fact rate limit ---------------------------------------------------------


def look_up(db: Session, viewer: Viewer, answers: Answers) -> Taxpayer | str:
    """The client the answers identify, or the exit page to show (the lock-out is the domain's)."""
    found = handshake.look_up_client(db, user_id=viewer.user_id, service=BY_KEY[answers.service],
                                     client_type=answers.client_type, identifier=answers.identifier,
                                     known_fact=answers.known_fact)
    if found is handshake.LookUp.KNOWN_FACT_MISMATCH:  # told apart from an unknown client only to the API
        return str(handshake.LookUp.CLIENT_NOT_FOUND)
    return str(found) if isinstance(found, handshake.LookUp) else found


def look_up_and_continue(request: Request, viewer: Viewer) -> RedirectResponse:
    answers = load(request)
    found = look_up(db_session(request), viewer, answers)
    if isinstance(found, str):
        answer(request, answers, "taxpayer_id", None)
        return go(request, found)
    answer(request, answers, "taxpayer_id", found.id)
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
    answers = load(request)
    form = await posted(request, "client_type") or Form(values={"client_type": answers.client_type})
    if request.method == "POST":
        if form.get("client_type") in CLIENT_TYPE_LABELS:
            answer(request, answers, "client_type", form.get("client_type"))
            return go(request, "service")
        form.error("client_type", gettext("Select the type of client"))
    options = [(str(value), gettext(label)) for value, label in CLIENT_TYPE_LABELS.items()]
    return ask(request, form, question=gettext("What type of client is this?"), name="client_type", field="radios",
               options=options, back=path_for(request, "track_requests"))


async def service_page(request: Request) -> Response:
    require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "service"):
        return early
    options = [(value, gettext(label)) for value, label in service_options(answers.client_type)]
    form = await posted(request, "service") or Form(values={"service": answers.service_choice})
    if request.method == "POST":
        choice = form.get("service")
        if choice in dict(options):
            answer(request, answers, "service_choice", choice)
            return go(request, step_after_service(choice))
        form.error("service", gettext("Select the tax service you want your client to authorise you for"))
    return ask(request, form, question=gettext("What do you want your client to authorise you for?"), name="service",
               field="radios", options=options,
               hint=gettext("You need to send a separate request for each tax service."),
               back=path_for(request, step_route("client-type")))


async def agent_role_page(request: Request) -> Response:
    require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "agent-role") or (
            None if answers.service_choice == ITSA_OPTION else go(request, "service")):
        return early
    current = {handshake.ITSA_MAIN: "main", handshake.ITSA_SUPPORTING: "supporting"}
    form = await posted(request, "role") or Form(values={"role": current.get(answers.service, "")})
    if request.method == "POST":
        roles = {value: key for key, value in current.items()}
        if form.get("role") in roles:
            answer(request, answers, "service", roles[form.get("role")])
            return go(request, "client-id")
        form.error("role", gettext("Select how you want to act for your client"))
    options = [("main", gettext("As their main agent"),
                gettext("You can do everything for your client's Income Tax, including submitting their tax return")),
               ("supporting", gettext("As a supporting agent"),
                gettext("You can send quarterly updates and make adjustments, but you cannot submit their tax "
                        "return"))]
    return ask(request, form, question=gettext("How do you want to act for your client?"), name="role", field="radios",
               options=options, back=path_for(request, step_route("service")))


async def trust_taxable_page(request: Request) -> Response:
    require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "trust-taxable") or (
            None if answers.service_choice == TRUST_OPTION else go(request, "service")):
        return early
    current = {"HMRC-TERS-ORG": "yes", "HMRC-TERSNT-ORG": "no"}
    form = await posted(request, "taxable") or Form(values={"taxable": current.get(answers.service, "")})
    if request.method == "POST":
        keys = {value: key for key, value in current.items()}
        if form.get("taxable") in keys:
            answer(request, answers, "service", keys[form.get("taxable")])
            return go(request, "client-id")
        form.error("taxable", gettext("Select yes if your client's trust or estate is taxable"))
    return ask(request, form, question=gettext("Is your client's trust or estate taxable?"), name="taxable",
               field="radios", options=[("yes", gettext("Yes")), ("no", gettext("No"))], inline=True,
               back=path_for(request, step_route("service")))


def back_from_client_id(request: Request, answers: Answers) -> str:
    step = FOLLOW_UPS.get(answers.service_choice, "service")
    return path_for(request, step_route(step))


async def client_id_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "client-id"):
        return early
    service = BY_KEY[answers.service]
    kind = identifiers.IdentifierKind(service.identifier)
    shown = identifiers.format_for_display(kind, answers.identifier)
    form = await posted(request, "identifier") or Form(values={"identifier": shown})
    if request.method == "POST" and (value := read_identifier(form, kind)) is not None:
        answer(request, answers, "identifier", value)
        return go(request, "known-fact") if service.known_fact else look_up_and_continue(request, viewer)
    question = CLIENT_ID_QUESTIONS[kind]
    return ask(request, form, question=gettext(question.question), name="identifier",
               field="text", hint=gettext(question.hint), back=back_from_client_id(request, answers),
               input={"classes": "govuk-input--width-20", "spellcheck": False, "autocomplete": "off"})


async def known_fact_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "known-fact"):
        return early
    service = BY_KEY[answers.service]
    if service.known_fact is None:
        return go(request, next_step(answers))
    question = FACT_QUESTIONS[service.known_fact]
    names = ("date-day", "date-month", "date-year") if question.field == "date" else (question.field,)
    form = await posted(request, *names) or fact_form(question, answers.known_fact)
    if request.method == "POST" and (value := read_fact(form, question)) is not None:
        answer(request, answers, "known_fact", value)
        return look_up_and_continue(request, viewer)
    hint = ITSA_POSTCODE_HINT if service.regime == "ITSA" else question.hint
    widths = {"postcode": "govuk-input--width-10", "email": "govuk-input--width-30"}
    return ask(request, form, question=gettext(question.question), name=question.field,
               field="date" if question.field == "date" else "text", hint=gettext(hint),
               back=path_for(request, step_route("client-id")),
               input={"classes": widths.get(question.field, ""), "spellcheck": False,
                      "autocomplete": "off", "type": "email" if question.field == "email" else "text"})


async def confirm_client_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = load(request)
    if early := not_reached(request, answers, "confirm-client"):
        return early
    taxpayer = db_session(request).get(Taxpayer, answers.taxpayer_id)
    assert taxpayer is not None  # set by a successful look-up in this session
    form = await posted(request, "confirm") or Form(values={"confirm": "yes" if answers.confirmed else ""})
    if request.method == "POST" and form.get("confirm") in ("yes", "no"):
        return client_confirmed(request, viewer, answers, taxpayer, form.get("confirm") == "yes")
    if request.method == "POST":
        form.error("confirm", gettext("Select yes if %(name)s is the client you want authorisation from")
                   % {"name": taxpayer.name})
    service = BY_KEY[answers.service]
    # Translators: %(name)s is the client's name, as HMRC holds it.
    return ask(request, form, question=gettext("Is %(name)s the client you want authorisation from?")
               % {"name": taxpayer.name},
               name="confirm", field="radios", options=[("yes", gettext("Yes")), ("no", gettext("No"))], inline=True,
               back=path_for(request, step_route("known-fact" if service.known_fact else "client-id")))


def client_confirmed(request: Request, viewer: Viewer, answers: Answers, taxpayer: Taxpayer,
                     right_client: bool) -> RedirectResponse:
    """On to "Check your answers", unless the firm may not ask this client now (domain.md §2.4)."""
    if not right_client:
        answer(request, answers, "confirmed", False)
        return go(request, "client-id")
    assert viewer.firm_id is not None
    try:
        handshake.check_can_request(db_session(request), firm_id=viewer.firm_id,
                                    service=BY_KEY[answers.service], taxpayer=taxpayer, today=date.today())
    except Refused as refused:
        return go(request, EXITS[refused.reason])
    answer(request, answers, "confirmed", True)
    return go(request, "check-your-answers")


def answer_rows(answers: Answers) -> list[tuple[str, str, str]]:
    """(key, value, change step) for "Check your answers" and "We could not find your client"."""
    service = BY_KEY[answers.service]
    kind = identifiers.IdentifierKind(service.identifier)
    rows = [(gettext("Client type"), CLIENT_TYPE_LABELS[ClientType(answers.client_type)], "client-type"),
            (gettext("Tax service"), service.name, "service"),
            (gettext(CLIENT_ID_QUESTIONS[kind].label), identifiers.format_for_display(kind, answers.identifier),
             "client-id")]
    if service.known_fact:
        rows.append((gettext(FACT_QUESTIONS[service.known_fact].summary), fact_display(service, answers.known_fact),
                     "known-fact"))
    return rows


async def check_answers_page(request: Request) -> Response:
    viewer = require_agent(request)
    answers = load(request)
    if request.method == "POST":
        return await send(request, viewer, answers)
    if early := not_reached(request, answers, "check-your-answers"):
        return early
    db = db_session(request)
    taxpayer = db.get(Taxpayer, answers.taxpayer_id)
    assert taxpayer is not None
    return render(request, "agent_requests/check_answers.html", {
        "client_name": taxpayer.name, "rows": answer_rows(answers), "step_route": step_route})


async def send(request: Request, viewer: Viewer, answers: Answers) -> Response:
    """Creates the request, checking everything again here: nothing an earlier page decided is trusted."""
    if next_step(answers) != "check-your-answers":
        sent = journeys.answers(request, SENT).get("request_id")
        if not answers.started and sent:  # a second click on "Confirm and send"
            return redirect_to(request, "request_sent", request_id=sent)
        return go(request, next_step(answers))
    db = db_session(request)
    found = look_up(db, viewer, answers)
    if found == "client-not-found":
        answer(request, answers, "taxpayer_id", None)
    if isinstance(found, str):  # too many attempts keeps the answers, to send once the wait is over
        return go(request, found)
    if found.id != answers.taxpayer_id:
        answer(request, answers, "taxpayer_id", found.id)
        return go(request, "confirm-client")
    assert viewer.firm_id is not None  # require_agent
    try:
        created = handshake.create_request(db, firm_id=viewer.firm_id, user_id=viewer.user_id,
                                           service=BY_KEY[answers.service], taxpayer=found, today=date.today())
    except Refused as refused:
        return go(request, EXITS[refused.reason])
    journeys.forget(request, JOURNEY)
    journeys.save(request, SENT, request_id=created.id)
    return redirect_to(request, "request_sent", request_id=created.id)


# --- ask a client for authorisation: the exits ---------------------------------------------------------------------


async def client_not_found(request: Request) -> Response:
    require_agent(request)
    answers = load(request)
    if not answers.identifier or answers.chosen_service is None:
        return go(request, next_step(answers))
    service = answers.chosen_service
    fact = FACT_QUESTIONS[service.known_fact] if service.known_fact else None
    return render(request, "agent_requests/client_not_found.html", {
        "rows": answer_rows(answers), "step_route": step_route, "fact_check": fact.check if fact else ""})


async def too_many_attempts(request: Request) -> Response:
    require_agent(request)
    return render(request, "agent_requests/too_many_attempts.html")


async def refused_page(request: Request) -> Response:
    require_agent(request)
    answers = load(request)
    taxpayer = db_session(request).get(Taxpayer, answers.taxpayer_id) if answers.taxpayer_id else None
    service = answers.chosen_service
    template = request.url.path.rsplit("/", 1)[-1].replace("-", "_")
    return render(request, f"agent_requests/{template}.html", {
        "client_name": taxpayer.name if taxpayer else gettext("your client"),
        "service_name": service.name if service else gettext("this tax service")})


def question(step: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
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
