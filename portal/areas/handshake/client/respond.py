"""Answering one authorisation request (domain.md §2.6): consent, check your answer, accept or decline, and a page
of its own for a request that can no longer be answered. The rules are portal.domain.handshake's."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.handshake.client.common import CONSENT, T, role_kind, role_name, service_name
from portal.domain import handshake
from portal.domain.handshake import EXPIRY_DAYS, ITSA_MAIN, ITSA_SUPPORTING, Refused, Status, effective_status
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer
from portal.i18n import gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

JOURNEY = "authorisation-response"


def replacement_warnings(db: Session, found: AuthorisationRequest, agency: str) -> list[str]:
    """One whole sentence per agent the answer would replace, written out for each role (Welsh puts the role
    words inside the sentence, so they are never filled in from a separate word)."""
    warnings = []
    for current, name in handshake.agents_replaced_by(db, found):
        if current.firm_id == found.firm_id:  # the same firm changing how it acts (main <-> supporting)
            if found.service == ITSA_SUPPORTING:
                text = gettext("If you authorise %(agency)s as your supporting agent, we will remove them as your "
                               "main agent.")
            else:
                text = gettext("If you authorise %(agency)s as your main agent, we will remove them as your "
                               "supporting agent.")
            warnings.append(text % {"agency": agency})
            continue
        kind = role_kind(current.service)
        if kind == "main":
            # Translators: %(agency)s is the agent asking; %(name)s the agent who acts for the client now.
            text = gettext("If you authorise %(agency)s, we will remove %(name)s as your main agent for this service.")
        elif kind == "supporting":
            text = gettext("If you authorise %(agency)s, we will remove %(name)s as your supporting agent for this "
                           "service.")
        else:
            text = gettext("If you authorise %(agency)s, we will remove %(name)s as your agent for this service.")
        warnings.append(text % {"agency": agency, "name": name})
    return warnings


def _own_request(request: Request, db: Session) -> tuple[AuthorisationRequest, Firm]:
    """A request to a taxpayer this person owns (through the one gate), or a 404."""
    found = db.get(AuthorisationRequest, request.path_params["request_id"])
    if found is None or require_authority(request, found.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    firm = db.get(Firm, found.firm_id)
    assert firm is not None
    return found, firm


def _request_context(db: Session, found: AuthorisationRequest, firm: Firm) -> dict[str, object]:
    taxpayer = db.get(Taxpayer, found.taxpayer_id)
    return {"agency": firm.name, "service_name": service_name(found.service), "role": role_name(found.service),
            "role_kind": role_kind(found.service), "service_key": found.service, "taxpayer": taxpayer, "found": found}


EXIT_PAGES = {Status.EXPIRED: "expired.html", Status.CANCELLED: "cancelled.html",
              Status.ACCEPTED: "already_accepted.html", Status.DEAUTHORISED: "already_accepted.html",
              Status.REJECTED: "already_declined.html"}


def exit_page(request: Request, db: Session, found: AuthorisationRequest, firm: Firm) -> Response:
    """What happened to a request that can no longer be answered: a page of its own, never an error. A request
    still waiting for an answer (the accepted or declined page opened from a bookmark, Back or another tab
    before answering) goes to the question it waits for."""
    status = effective_status(found, date.today())
    if status not in EXIT_PAGES:
        return redirect_to(request, "authorisation_consent", request_id=found.id)
    return render(request, T + EXIT_PAGES[status], _request_context(db, found, firm) | {"status": status})


def consent_page(request: Request, db: Session, found: AuthorisationRequest, firm: Firm, form: Form) -> Response:
    context = _request_context(db, found, firm) | {
        "form": form, "can_do": [gettext(line) for line in CONSENT[found.service]], "expiry_days": EXPIRY_DAYS,
        "warnings": replacement_warnings(db, found, firm.name), "is_itsa_main": found.service == ITSA_MAIN,
        "is_itsa_supporting": found.service == ITSA_SUPPORTING}
    return render(request, T + "consent.html", context)


def still_pending(found: AuthorisationRequest) -> bool:
    return effective_status(found, date.today()) is Status.PENDING


async def consent(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if not still_pending(found):
        return exit_page(request, db, found, firm)
    if request.method == "GET":
        saved = journeys.answers(request, JOURNEY)
        values = {"authorise": saved.get("authorise", "")} if saved.get("request_id") == found.id else {}
        return consent_page(request, db, found, firm, Form(values=values))
    form = await read_form(request, "authorise")
    if form.get("authorise") not in ("yes", "no"):
        form.values["authorise"] = ""
        form.error("authorise", gettext("Select yes if you want to authorise %(agency)s") % {"agency": firm.name})
        return consent_page(request, db, found, firm, form)
    journeys.save(request, JOURNEY, request_id=found.id, authorise=form.get("authorise"))
    next_page = "authorisation_check_answer" if form.get("authorise") == "yes" else "authorisation_decline"
    return redirect_to(request, next_page, request_id=found.id)


async def check_answer(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if not still_pending(found):
        return exit_page(request, db, found, firm)
    saved = journeys.answers(request, JOURNEY)
    if saved.get("request_id") != found.id or saved.get("authorise") != "yes":
        return redirect_to(request, "authorisation_consent", request_id=found.id)
    return render(request, T + "check_answer.html", _request_context(db, found, firm))


async def accept(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    try:
        handshake.accept_request(db, user_id=require_viewer(request).user_id, request=found,
                                      today=date.today())
    except Refused:  # answered, cancelled or expired meanwhile (a double click, another tab)
        db.refresh(found)
        return exit_page(request, db, found, firm)
    journeys.forget(request, JOURNEY)
    return redirect_to(request, "authorisation_accepted", request_id=found.id)


async def accepted(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if found.status != Status.ACCEPTED:
        return exit_page(request, db, found, firm)
    return render(request, T + "accepted.html", _request_context(db, found, firm))


async def decline(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if request.method == "GET":
        if not still_pending(found):
            return exit_page(request, db, found, firm)
        return render(request, T + "decline.html", _request_context(db, found, firm))
    try:
        handshake.decline_request(db, user_id=require_viewer(request).user_id, request=found,
                                       today=date.today())
    except Refused:
        db.refresh(found)
        return exit_page(request, db, found, firm)
    journeys.forget(request, JOURNEY)
    return redirect_to(request, "authorisation_declined", request_id=found.id)


async def declined(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if found.status != Status.REJECTED:
        return exit_page(request, db, found, firm)
    return render(request, T + "declined.html", _request_context(db, found, firm))


_ONE = "/authorisation-response/{request_id:id}"
routes = [
    Route(_ONE + "/consent", consent, methods=["GET", "POST"], name="authorisation_consent"),
    Route(_ONE + "/check-your-answer", check_answer, name="authorisation_check_answer"),
    Route(_ONE + "/accept", accept, methods=["POST"], name="authorisation_accept"),
    Route(_ONE + "/accepted", accepted, name="authorisation_accepted"),
    Route(_ONE + "/decline", decline, methods=["GET", "POST"], name="authorisation_decline"),
    Route(_ONE + "/declined", declined, name="authorisation_declined"),
]
