"""The client's side of the handshake (domain.md §2.6, §2.8): the client link, answering a request, and
"Manage who can deal with your tax". The rules live in portal.domain.handshake; this module only asks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.domain import audit, handshake, notifications
from portal.domain.access import MAX_ID
from portal.domain.client_links import LINK_PREFIX, client_link, normalise_agency_name
from portal.domain.handshake import EXPIRY_DAYS, ITSA_MAIN, ITSA_SUPPORTING, Refused, Status, effective_status
from portal.domain.models import Authorisation, AuthorisationRequest, Firm, HelperLink, Taxpayer, User, utcnow
from portal.domain.services import BY_KEY, SERVICES, regime_name
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer

RESPONSE_PREFIX = "/authorisation-response"
MANAGE = "/manage-your-tax-agents"
JOURNEY = "authorisation-response"
HISTORY_LIMIT = 50
T = "client_authorisations/"

# What each authorisation lets the agent do, in the client's words (domain.md §1.3).
_RETURNS = ("view, submit and change your {0} returns", "contact HMRC about your {0}",
            "manage your contact details for {0}", "deal with {0} penalties and repayments for you")
CONSENT: dict[str, tuple[str, ...]] = {
    ITSA_MAIN: (
        "sign you up to Making Tax Digital for Income Tax, or opt you out",
        "contact HMRC about your current and previous returns",
        "view and change your details, such as your sources of income",
        "give HMRC your bank details for repayments",
        "view and submit your quarterly updates",
        "submit your end-of-year tax return",
        "view your tax calculations and what you owe or have paid",
        "see your Self Assessment details, such as your name, address, National Insurance number and "
        "Unique Taxpayer Reference",
        "receive and appeal penalties for you",
        "cancel your Self Assessment registration",
        "use software to do these things for you",
    ),
    ITSA_SUPPORTING: (
        "sign you up to Making Tax Digital for Income Tax, or opt you out",
        "contact HMRC about your returns",
        "view your personal and business details",
        "change your business details and sources of income",
        "send your quarterly updates",
        "make end-of-year adjustments",
        "use software to do these things for you",
    ),
    "PERSONAL-INCOME-RECORD": (
        "view your past employers", "view your taxable benefits, such as a company car",
        "view your pensions", "view the dates of your PAYE employments",
    ),
    "HMRC-MTD-VAT": (
        "contact HMRC about your VAT", "view and change your VAT details and bank details",
        "view, change and submit your VAT returns", "view your VAT payments and what you owe",
        "cancel your VAT registration", "appeal VAT penalties for you", "use software to do these things for you",
    ),
    "HMRC-TERS-ORG": (
        "report changes to the trustees, settlors, beneficiaries and other details of the trust or estate",
        "declare that the trust's details are up to date", "contact HMRC about the trust or estate",
    ),
    "HMRC-TERSNT-ORG": (
        "report changes to the trustees, settlors, beneficiaries and other details of the trust",
        "declare that the trust's details are up to date", "contact HMRC about the trust",
    ),
    "HMRC-CGT-PD": tuple(line.format("Capital Gains Tax on UK property") for line in _RETURNS),
    "HMRC-PPT-ORG": tuple(line.format("Plastic Packaging Tax") for line in _RETURNS),
    "HMRC-CBC-ORG": tuple(line.format("country-by-country reporting").replace("returns", "reports")
                          for line in _RETURNS),
    "HMRC-CBC-NONUK-ORG": tuple(line.format("country-by-country reporting").replace("returns", "reports")
                                for line in _RETURNS),
    "HMRC-PILLAR2-ORG": tuple(line.format("Pillar 2 top-up taxes") for line in _RETURNS),
}
ROLES = {ITSA_MAIN: "main agent", ITSA_SUPPORTING: "supporting agent"}
URL_PARTS: dict[str, tuple[str, ...]] = {}
for _service in SERVICES:
    URL_PARTS[_service.url_part] = (*URL_PARTS.get(_service.url_part, ()), _service.key)
URL_PART_NAMES = {part: regime_name(BY_KEY[keys[0]].regime) for part, keys in URL_PARTS.items()}


def service_name(key: str) -> str:
    return regime_name("ITSA") if key in ROLES else BY_KEY[key].name


def role_name(key: str) -> str:
    return ROLES.get(key, "agent")


# Queries -------------------------------------------------------------------------------------------------

def find_link_firm(db: Session, uid: str, name: str, url_part: str) -> Firm | None:
    if url_part not in URL_PARTS or not (uid.isascii() and uid.isalnum()) or len(uid) > 8:
        return None
    firm = db.execute(select(Firm).where(Firm.link_uid == uid)).scalar_one_or_none()
    if firm is None or normalise_agency_name(firm.name) != name:
        return None
    return firm


def requests_for_link(db: Session, *, firm_id: int, url_part: str, user_id: int) -> list[AuthorisationRequest]:
    """This firm's requests for this link's services to any taxpayer the person owns, newest first."""
    owned = select(Taxpayer.id).where(Taxpayer.owner_user_id == user_id)
    return list(db.execute(
        select(AuthorisationRequest).where(
            AuthorisationRequest.firm_id == firm_id, AuthorisationRequest.service.in_(URL_PARTS[url_part]),
            AuthorisationRequest.taxpayer_id.in_(owned))
        .order_by(AuthorisationRequest.created_at.desc(), AuthorisationRequest.id.desc())
    ).scalars())


def pick_request(found: list[AuthorisationRequest], today: date) -> AuthorisationRequest | None:
    """The pending one, otherwise the most recent, so the person is told exactly what happened to it."""
    pending = [r for r in found if effective_status(r, today) is Status.PENDING]
    return (pending or found or [None])[0]


def owned_taxpayers(db: Session, user_id: int) -> list[Taxpayer]:
    return list(db.execute(
        select(Taxpayer).where(Taxpayer.owner_user_id == user_id).order_by(Taxpayer.name, Taxpayer.id)
    ).scalars())


def replacement_warnings(db: Session, found: AuthorisationRequest, agency: str) -> list[str]:
    warnings = []
    for current, name in handshake.agents_replaced_by(db, found):
        if current.firm_id == found.firm_id:  # the same firm changing how it acts (main <-> supporting)
            warnings.append(f"If you authorise {agency} as your {role_name(found.service)}, we will remove "
                            f"them as your {role_name(current.service)}.")
        else:
            warnings.append(f"If you authorise {agency}, we will remove {name} as your "
                            f"{role_name(current.service)} for this service.")
    return warnings


@dataclass(frozen=True)
class CurrentRequest:
    agency: str
    service: str
    role: str
    respond_by: date
    href: str


@dataclass(frozen=True)
class Authorised:
    name: str
    service: str
    role: str
    since: datetime
    remove_href: str


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    name: str
    service: str
    what: str


@dataclass(frozen=True)
class TaxpayerSection:
    taxpayer: Taxpayer
    current: list[CurrentRequest]
    authorised: list[Authorised]
    history: list[HistoryEvent]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def current_requests(db: Session, taxpayer_id: int, today: date) -> list[CurrentRequest]:
    rows = db.execute(
        select(AuthorisationRequest, Firm).join(Firm, Firm.id == AuthorisationRequest.firm_id)
        .where(AuthorisationRequest.taxpayer_id == taxpayer_id, AuthorisationRequest.status == Status.PENDING,
               AuthorisationRequest.expires_on >= today)
        .order_by(AuthorisationRequest.expires_on, AuthorisationRequest.id)
    ).all()
    return [CurrentRequest(firm.name, service_name(r.service), ROLES.get(r.service, ""), r.expires_on,
                           client_link(firm, BY_KEY[r.service].url_part) + "/respond") for r, firm in rows]


def authorised(db: Session, taxpayer_id: int) -> list[Authorised]:
    agents = db.execute(
        select(Authorisation, Firm.name).join(Firm, Firm.id == Authorisation.firm_id)
        .where(Authorisation.taxpayer_id == taxpayer_id, Authorisation.ended_at.is_(None))
        .order_by(Authorisation.started_at, Authorisation.id)
    ).all()
    helpers = db.execute(
        select(HelperLink, User.name).join(User, User.id == HelperLink.helper_user_id)
        .where(HelperLink.taxpayer_id == taxpayer_id, HelperLink.status == "active")
        .order_by(HelperLink.accepted_at, HelperLink.id)
    ).all()
    return [Authorised(name, service_name(a.service), ROLES.get(a.service, "").capitalize(), _aware(a.started_at),
                       f"{MANAGE}/remove/{a.id}") for a, name in agents] + [
        Authorised(name, "Trusted helper", "", _aware(link.accepted_at or link.created_at),
                   f"{MANAGE}/remove-helper/{link.id}") for link, name in helpers]


ENDED_BY = {"client": "you", "agent": "the agent", "hmrc": "HMRC", "helper": "your helper"}
REQUEST_EVENTS = {Status.ACCEPTED: "You accepted the request", Status.DEAUTHORISED: "You accepted the request",
                  Status.REJECTED: "You declined the request", Status.CANCELLED: "The agent cancelled the request",
                  Status.EXPIRED: "The request expired"}


def history(db: Session, taxpayer_id: int, today: date) -> list[HistoryEvent]:
    """Accepted, declined, expired, cancelled and no-longer-authorised events, newest first."""
    requests = db.execute(
        select(AuthorisationRequest, Firm.name).join(Firm, Firm.id == AuthorisationRequest.firm_id)
        .where(AuthorisationRequest.taxpayer_id == taxpayer_id,
               (AuthorisationRequest.status != Status.PENDING) | (AuthorisationRequest.expires_on < today))
        .order_by(AuthorisationRequest.created_at.desc()).limit(HISTORY_LIMIT)
    ).all()
    ended = db.execute(
        select(Authorisation, Firm.name).join(Firm, Firm.id == Authorisation.firm_id)
        .where(Authorisation.taxpayer_id == taxpayer_id, Authorisation.ended_at.is_not(None))
        .order_by(Authorisation.ended_at.desc()).limit(HISTORY_LIMIT)
    ).all()
    helpers = db.execute(
        select(HelperLink, User.name).join(User, User.id == HelperLink.helper_user_id)
        .where(HelperLink.taxpayer_id == taxpayer_id, HelperLink.status == "ended")
        .order_by(HelperLink.ended_at.desc()).limit(HISTORY_LIMIT)
    ).all()
    events = [_request_event(r, name, today) for r, name in requests] + [
        HistoryEvent(_aware(a.ended_at), name, service_name(a.service),
                     f"No longer authorised: removed by {ENDED_BY.get(a.ended_by or '', 'HMRC')}")
        for a, name in ended if a.ended_at] + [
        HistoryEvent(_aware(link.ended_at), name, "Trusted helper",
                     f"No longer your trusted helper: removed by {ENDED_BY.get(link.ended_by or '', 'you')}")
        for link, name in helpers if link.ended_at]
    return sorted(events, key=lambda e: e.at, reverse=True)[:HISTORY_LIMIT]


def _request_event(found: AuthorisationRequest, agency: str, today: date) -> HistoryEvent:
    status = effective_status(found, today)
    if status is Status.EXPIRED:  # it expired at the end of its respond-by date
        at = datetime.combine(found.expires_on + timedelta(days=1), time.min, UTC)
    else:
        at = _aware(found.responded_at or found.created_at)
    return HistoryEvent(at, agency, service_name(found.service), REQUEST_EVENTS[status])


# Shared page pieces --------------------------------------------------------------------------------------

def _link(request: Request, db: Session) -> tuple[Firm, str]:
    params = request.path_params
    firm = find_link_firm(db, params["uid"], params["name"], params["service"])
    if firm is None:
        raise HTTPException(status_code=404)
    return firm, params["service"]


def _cannot_view(request: Request, agency: str) -> Response:
    return render(request, T + "cannot_view.html", {"agency": agency})


def _guard_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise HTTPException(status_code=404)
    return value


def _own_request(request: Request, db: Session) -> tuple[AuthorisationRequest, Firm]:
    """A request to a taxpayer this person owns (through the one gate), or a 404."""
    found = db.get(AuthorisationRequest, _guard_id(request.path_params["request_id"]))
    if found is None or require_authority(request, found.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    firm = db.get(Firm, found.firm_id)
    assert firm is not None
    return found, firm


def _request_context(db: Session, found: AuthorisationRequest, firm: Firm) -> dict[str, object]:
    taxpayer = db.get(Taxpayer, found.taxpayer_id)
    return {"agency": firm.name, "service_name": service_name(found.service), "role": role_name(found.service),
            "service_key": found.service, "taxpayer": taxpayer, "found": found,
            "base": f"{RESPONSE_PREFIX}/{found.id}", "manage_href": MANAGE}


EXIT_PAGES = {Status.EXPIRED: "expired.html", Status.CANCELLED: "cancelled.html",
              Status.ACCEPTED: "already_accepted.html", Status.DEAUTHORISED: "already_accepted.html",
              Status.REJECTED: "already_declined.html"}


def _exit_page(request: Request, db: Session, found: AuthorisationRequest, firm: Firm) -> Response:
    """What happened to a request that can no longer be answered: a page of its own, never an error."""
    status = effective_status(found, date.today())
    return render(request, T + EXIT_PAGES[status], _request_context(db, found, firm) | {"status": status})


def _consent_page(request: Request, db: Session, found: AuthorisationRequest, firm: Firm, form: Form) -> Response:
    context = _request_context(db, found, firm) | {
        "form": form, "can_do": CONSENT[found.service], "expiry_days": EXPIRY_DAYS,
        "warnings": replacement_warnings(db, found, firm.name), "is_itsa_main": found.service == ITSA_MAIN,
        "is_itsa_supporting": found.service == ITSA_SUPPORTING}
    return render(request, T + "consent.html", context)


def _still_pending(found: AuthorisationRequest) -> bool:
    return effective_status(found, date.today()) is Status.PENDING


# Handlers: the client link -------------------------------------------------------------------------------

async def link_start(request: Request) -> Response:
    db = db_session(request)
    firm, url_part = _link(request, db)
    viewer = current_viewer(request)
    if viewer is not None and viewer.is_agent:
        return _cannot_view(request, firm.name)
    respond = client_link(firm, url_part) + "/respond"
    start_href = respond if viewer else "/sign-in?next=" + quote(respond, safe="")
    context = {"agency": firm.name, "service_name": URL_PART_NAMES[url_part], "start_href": start_href,
               "expiry_days": EXPIRY_DAYS, "signed_in": viewer is not None}
    return render(request, T + "start.html", context)


async def link_respond(request: Request) -> Response:
    db = db_session(request)
    firm, url_part = _link(request, db)  # a broken link is a 404 before anyone is asked to sign in
    viewer = require_viewer(request)
    if viewer.is_agent:
        return _cannot_view(request, firm.name)
    assert firm.id is not None
    found = pick_request(requests_for_link(db, firm_id=firm.id, url_part=url_part, user_id=viewer.user_id),
                         date.today())
    if found is None:
        return render(request, T + "not_found.html",
                      {"agency": firm.name, "service_name": URL_PART_NAMES[url_part]})
    if not _still_pending(found):
        return _exit_page(request, db, found, firm)
    return _consent_page(request, db, found, firm, Form())


# Handlers: answering one request -------------------------------------------------------------------------

async def consent(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if not _still_pending(found):
        return _exit_page(request, db, found, firm)
    if request.method == "GET":
        saved = journeys.answers(request, JOURNEY)
        values = {"authorise": saved.get("authorise", "")} if saved.get("request_id") == found.id else {}
        return _consent_page(request, db, found, firm, Form(values=values))
    form = await read_form(request, "authorise")
    if form.get("authorise") not in ("yes", "no"):
        form.values["authorise"] = ""
        form.error("authorise", f"Select yes if you want to authorise {firm.name}")
        return _consent_page(request, db, found, firm, form)
    journeys.save(request, JOURNEY, request_id=found.id, authorise=form.get("authorise"))
    step = "check-your-answer" if form.get("authorise") == "yes" else "decline"
    return RedirectResponse(f"{RESPONSE_PREFIX}/{found.id}/{step}", status_code=303)


async def check_answer(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if not _still_pending(found):
        return _exit_page(request, db, found, firm)
    saved = journeys.answers(request, JOURNEY)
    if saved.get("request_id") != found.id or saved.get("authorise") != "yes":
        return RedirectResponse(f"{RESPONSE_PREFIX}/{found.id}/consent", status_code=303)
    return render(request, T + "check_answer.html", _request_context(db, found, firm))


async def accept(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    try:
        handshake.accept_request(db, user_id=require_viewer(request).user_id, request=found,
                                      today=date.today())
    except Refused:  # answered, cancelled or expired meanwhile (a double click, another tab)
        db.refresh(found)
        return _exit_page(request, db, found, firm)
    journeys.forget(request, JOURNEY)
    return RedirectResponse(f"{RESPONSE_PREFIX}/{found.id}/accepted", status_code=303)


async def accepted(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if found.status != Status.ACCEPTED:
        return _exit_page(request, db, found, firm)
    return render(request, T + "accepted.html", _request_context(db, found, firm))


async def decline(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if request.method == "GET":
        if not _still_pending(found):
            return _exit_page(request, db, found, firm)
        return render(request, T + "decline.html", _request_context(db, found, firm))
    try:
        handshake.decline_request(db, user_id=require_viewer(request).user_id, request=found,
                                       today=date.today())
    except Refused:
        db.refresh(found)
        return _exit_page(request, db, found, firm)
    journeys.forget(request, JOURNEY)
    return RedirectResponse(f"{RESPONSE_PREFIX}/{found.id}/declined", status_code=303)


async def declined(request: Request) -> Response:
    db = db_session(request)
    found, firm = _own_request(request, db)
    if found.status != Status.REJECTED:
        return _exit_page(request, db, found, firm)
    return render(request, T + "declined.html", _request_context(db, found, firm))


# Handlers: manage who can deal with your tax -------------------------------------------------------------

async def manage(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    taxpayers = owned_taxpayers(db, viewer.user_id)
    if not taxpayers:
        return render(request, T + "no_account.html")
    today = date.today()
    sections = [TaxpayerSection(t, current_requests(db, t.id, today), authorised(db, t.id), history(db, t.id, today))
                for t in taxpayers if t.id is not None]
    return render(request, T + "manage.html", {"sections": sections, "grouped": len(sections) > 1})


def _own_authorisation(request: Request, db: Session) -> tuple[Authorisation, dict[str, object]]:
    found = db.get(Authorisation, _guard_id(request.path_params["authorisation_id"]))
    if found is None or require_authority(request, found.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    firm = db.get(Firm, found.firm_id)
    assert firm is not None
    return found, {"name": firm.name, "service_name": service_name(found.service), "role": role_name(found.service),
                   "service_key": found.service, "taxpayer": db.get(Taxpayer, found.taxpayer_id),
                   "manage_href": MANAGE, "action": f"{MANAGE}/remove/{found.id}"}


async def remove_agent(request: Request) -> Response:
    db = db_session(request)
    found, context = _own_authorisation(request, db)
    if found.ended_at is not None:
        return render(request, T + "already_removed.html", context)
    if request.method == "GET":
        return render(request, T + "remove_agent.html", context)
    try:
        handshake.end_authorisation(db, found, ended_by="client", actor_user_id=require_viewer(request).user_id,
                                         authority="self")
    except Refused:  # removed meanwhile in another tab
        return render(request, T + "already_removed.html", context)
    return RedirectResponse(f"{MANAGE}/removed/{found.id}", status_code=303)


async def agent_removed(request: Request) -> Response:
    db = db_session(request)
    found, context = _own_authorisation(request, db)
    if found.ended_at is None:
        return RedirectResponse(f"{MANAGE}/remove/{found.id}", status_code=303)
    return render(request, T + "removed.html", context)


def _own_helper_link(request: Request, db: Session) -> tuple[HelperLink, dict[str, object]]:
    link = db.get(HelperLink, _guard_id(request.path_params["link_id"]))
    if link is None or link.helper_user_id is None or require_authority(request, link.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    helper = db.get(User, link.helper_user_id)
    assert helper is not None
    return link, {"name": helper.name, "service_name": "Trusted helper", "helper": True, "service_key": "",
                  "taxpayer": db.get(Taxpayer, link.taxpayer_id), "manage_href": MANAGE,
                  "action": f"{MANAGE}/remove-helper/{link.id}"}


async def remove_helper(request: Request) -> Response:
    db = db_session(request)
    link, context = _own_helper_link(request, db)
    if link.status != "active":
        return render(request, T + "already_removed.html", context)
    if request.method == "GET":
        return render(request, T + "remove_helper.html", context)
    viewer = require_viewer(request)
    ended = db.execute(  # compare-and-set: two tabs remove the helper once
        update(HelperLink).where(HelperLink.id == link.id, HelperLink.status == "active")
        .values(status="ended", ended_at=utcnow(), ended_by="client").execution_options(synchronize_session=False))
    if ended.rowcount != 1:
        return render(request, T + "already_removed.html", context)
    audit.record(db, "helper_removed", authority="self", actor_user_id=viewer.user_id,
                 taxpayer_id=link.taxpayer_id, helper_link_id=link.id, helper_user_id=link.helper_user_id)
    notifications.helper_ended(db, link, ended_by="client")
    return RedirectResponse(f"{MANAGE}/helper-removed/{link.id}", status_code=303)


async def helper_removed(request: Request) -> Response:
    db = db_session(request)
    link, context = _own_helper_link(request, db)
    if link.status == "active":
        return RedirectResponse(f"{MANAGE}/remove-helper/{link.id}", status_code=303)
    return render(request, T + "removed.html", context)


_LINK = LINK_PREFIX + "/{uid}/{name}/{service}"
_ONE = RESPONSE_PREFIX + "/{request_id:int}"
routes = [
    Route(_LINK, link_start, name="client_link"),
    Route(_LINK + "/respond", link_respond, name="client_link_respond"),
    Route(_ONE + "/consent", consent, methods=["GET", "POST"], name="authorisation_consent"),
    Route(_ONE + "/check-your-answer", check_answer, name="authorisation_check_answer"),
    Route(_ONE + "/accept", accept, methods=["POST"], name="authorisation_accept"),
    Route(_ONE + "/accepted", accepted, name="authorisation_accepted"),
    Route(_ONE + "/decline", decline, methods=["GET", "POST"], name="authorisation_decline"),
    Route(_ONE + "/declined", declined, name="authorisation_declined"),
    Route(MANAGE, manage, name="manage_tax_agents"),
    Route(MANAGE + "/remove/{authorisation_id:int}", remove_agent, methods=["GET", "POST"], name="remove_agent"),
    Route(MANAGE + "/removed/{authorisation_id:int}", agent_removed, name="agent_removed"),
    Route(MANAGE + "/remove-helper/{link_id:int}", remove_helper, methods=["GET", "POST"], name="remove_helper"),
    Route(MANAGE + "/helper-removed/{link_id:int}", helper_removed, name="helper_removed"),
]
