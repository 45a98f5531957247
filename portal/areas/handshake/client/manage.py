"""Manage who can deal with your tax (domain.md §2.8): current requests, the agents and trusted helpers who may act,
the history, and removing an agent or a helper. Ending either is the domain's (handshake, trusted_helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.handshake.client.common import ROLES, T, role_kind, role_label, role_name, service_name
from portal.domain import handshake, trusted_helpers
from portal.domain.client_links import client_link
from portal.domain.handshake import Refused, Status, effective_status
from portal.domain.models import Authorisation, AuthorisationRequest, Firm, HelperLink, Taxpayer, User
from portal.domain.services import BY_KEY
from portal.domain.times import aware
from portal.i18n import N_, gettext
from portal.web.db import db_session
from portal.web.gate import require_authority
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

HISTORY_LIMIT = 50


def owned_taxpayers(db: Session, user_id: int) -> list[Taxpayer]:
    return list(db.execute(
        select(Taxpayer).where(col(Taxpayer.owner_user_id) == user_id).order_by(col(Taxpayer.name), col(Taxpayer.id))
    ).scalars())


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
    remove_route: str  # remove_agent or remove_helper, and its path parameters
    remove_params: dict[str, int]


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


def current_requests(db: Session, taxpayer_id: int, today: date) -> list[CurrentRequest]:
    rows = db.execute(
        select(AuthorisationRequest, Firm).join(Firm, col(Firm.id) == col(AuthorisationRequest.firm_id))
        .where(col(AuthorisationRequest.taxpayer_id) == taxpayer_id, col(AuthorisationRequest.status) == Status.PENDING,
               col(AuthorisationRequest.expires_on) >= today)
        .order_by(col(AuthorisationRequest.expires_on), col(AuthorisationRequest.id))
    ).all()
    return [CurrentRequest(firm.name, service_name(r.service), role_name(r.service) if r.service in ROLES else "",
                           r.expires_on,
                           client_link(firm, BY_KEY[r.service].url_part) + "/respond") for r, firm in rows]


def authorised(db: Session, taxpayer_id: int) -> list[Authorised]:
    agents = db.execute(
        select(Authorisation, col(Firm.name)).join(Firm, col(Firm.id) == col(Authorisation.firm_id))
        .where(col(Authorisation.taxpayer_id) == taxpayer_id, col(Authorisation.ended_at).is_(None))
        .order_by(col(Authorisation.started_at), col(Authorisation.id))
    ).all()
    helpers = db.execute(
        select(HelperLink, col(User.name)).join(User, col(User.id) == col(HelperLink.helper_user_id))
        .where(col(HelperLink.taxpayer_id) == taxpayer_id, col(HelperLink.status) == "active")
        .order_by(col(HelperLink.accepted_at), col(HelperLink.id))
    ).all()
    return [Authorised(name, service_name(a.service), role_label(a.service), aware(a.started_at),
                       "remove_agent", {"authorisation_id": a.id}) for a, name in agents] + [
        Authorised(name, gettext("Trusted helper"), "", aware(link.accepted_at or link.created_at),
                   "remove_helper", {"link_id": link.id}) for link, name in helpers]


# What happened, as the history reads it: a whole sentence for each way an authorisation ends (by whom).
AGENT_ENDED = {"client": N_("No longer authorised: removed by you"),
               "agent": N_("No longer authorised: removed by the agent"),
               "hmrc": N_("No longer authorised: removed by HMRC"),
               "helper": N_("No longer authorised: removed by your helper")}
HELPER_ENDED = {"client": N_("No longer your trusted helper: removed by you"),
                "agent": N_("No longer your trusted helper: removed by the agent"),
                "hmrc": N_("No longer your trusted helper: removed by HMRC"),
                "helper": N_("No longer your trusted helper: removed by your helper")}


REQUEST_EVENTS = {Status.ACCEPTED: N_("You accepted the request"), Status.DEAUTHORISED: N_("You accepted the request"),
                  Status.REJECTED: N_("You declined the request"),
                  Status.CANCELLED: N_("The agent cancelled the request"), Status.EXPIRED: N_("The request expired")}


def history(db: Session, taxpayer_id: int, today: date) -> list[HistoryEvent]:
    """Accepted, declined, expired, cancelled and no-longer-authorised events, newest first."""
    requests = db.execute(
        select(AuthorisationRequest, col(Firm.name)).join(Firm, col(Firm.id) == col(AuthorisationRequest.firm_id))
        .where(col(AuthorisationRequest.taxpayer_id) == taxpayer_id,
               (col(AuthorisationRequest.status) != Status.PENDING) | (col(AuthorisationRequest.expires_on) < today))
        .order_by(col(AuthorisationRequest.created_at).desc()).limit(HISTORY_LIMIT)
    ).all()
    ended = db.execute(
        select(Authorisation, col(Firm.name)).join(Firm, col(Firm.id) == col(Authorisation.firm_id))
        .where(col(Authorisation.taxpayer_id) == taxpayer_id, col(Authorisation.ended_at).is_not(None))
        .order_by(col(Authorisation.ended_at).desc()).limit(HISTORY_LIMIT)
    ).all()
    helpers = db.execute(
        select(HelperLink, col(User.name)).join(User, col(User.id) == col(HelperLink.helper_user_id))
        .where(col(HelperLink.taxpayer_id) == taxpayer_id, col(HelperLink.status) == "ended")
        .order_by(col(HelperLink.ended_at).desc()).limit(HISTORY_LIMIT)
    ).all()
    events = [_request_event(r, name, today) for r, name in requests] + [
        HistoryEvent(aware(a.ended_at), name, service_name(a.service),
                     gettext(AGENT_ENDED.get(a.ended_by or "", AGENT_ENDED["hmrc"])))
        for a, name in ended if a.ended_at] + [
        HistoryEvent(aware(link.ended_at), name, gettext("Trusted helper"),
                     gettext(HELPER_ENDED.get(link.ended_by or "", HELPER_ENDED["client"])))
        for link, name in helpers if link.ended_at]
    return sorted(events, key=lambda e: e.at, reverse=True)[:HISTORY_LIMIT]


def _request_event(found: AuthorisationRequest, agency: str, today: date) -> HistoryEvent:
    status = effective_status(found, today)
    if status is Status.EXPIRED:  # it expired at the end of its respond-by date
        at = datetime.combine(found.expires_on + timedelta(days=1), time.min, UTC)
    else:
        at = aware(found.responded_at or found.created_at)
    return HistoryEvent(at, agency, service_name(found.service), gettext(REQUEST_EVENTS[status]))


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
    found = db.get(Authorisation, request.path_params["authorisation_id"])
    if found is None or require_authority(request, found.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    firm = db.get(Firm, found.firm_id)
    assert firm is not None
    return found, {"name": firm.name, "service_name": service_name(found.service), "role": role_name(found.service),
                   "role_kind": role_kind(found.service), "service_key": found.service,
                   "taxpayer": db.get(Taxpayer, found.taxpayer_id),
                   "remove_route": "remove_agent", "remove_params": {"authorisation_id": found.id}}


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
    return redirect_to(request, "agent_removed", authorisation_id=found.id)


async def agent_removed(request: Request) -> Response:
    db = db_session(request)
    found, context = _own_authorisation(request, db)
    if found.ended_at is None:
        return redirect_to(request, "remove_agent", authorisation_id=found.id)
    return render(request, T + "removed.html", context)


def _own_helper_link(request: Request, db: Session) -> tuple[HelperLink, dict[str, object]]:
    link = db.get(HelperLink, request.path_params["link_id"])
    if link is None or link.helper_user_id is None or require_authority(request, link.taxpayer_id).kind != "self":
        raise HTTPException(status_code=404)
    helper = db.get(User, link.helper_user_id)
    assert helper is not None
    return link, {"name": helper.name, "service_name": gettext("Trusted helper"), "helper": True, "service_key": "",
                  "taxpayer": db.get(Taxpayer, link.taxpayer_id),
                  "remove_route": "remove_helper", "remove_params": {"link_id": link.id}}


async def remove_helper(request: Request) -> Response:
    db = db_session(request)
    link, context = _own_helper_link(request, db)
    if link.status != "active":
        return render(request, T + "already_removed.html", context)
    if request.method == "GET":
        return render(request, T + "remove_helper.html", context)
    try:
        trusted_helpers.end(db, link=link, ended_by="client", actor_user_id=require_viewer(request).user_id)
    except trusted_helpers.Refused:  # removed meanwhile in another tab
        return render(request, T + "already_removed.html", context)
    return redirect_to(request, "helper_removed", link_id=link.id)


async def helper_removed(request: Request) -> Response:
    db = db_session(request)
    link, context = _own_helper_link(request, db)
    if link.status == "active":
        return redirect_to(request, "remove_helper", link_id=link.id)
    return render(request, T + "removed.html", context)


routes = [
    Route("/manage-your-tax-agents", manage, name="manage_tax_agents"),
    Route("/manage-your-tax-agents/remove/{authorisation_id:id}", remove_agent, methods=["GET", "POST"],
          name="remove_agent"),
    Route("/manage-your-tax-agents/removed/{authorisation_id:id}", agent_removed, name="agent_removed"),
    Route("/manage-your-tax-agents/remove-helper/{link_id:id}", remove_helper, methods=["GET", "POST"],
          name="remove_helper"),
    Route("/manage-your-tax-agents/helper-removed/{link_id:id}", helper_removed, name="helper_removed"),
]
