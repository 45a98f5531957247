"""Stop acting for a client: the firm ends an authorisation it holds, after a confirmation."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.handshake.agent.common import ask, posted, require_agent
from portal.domain import handshake
from portal.domain.models import Authorisation
from portal.domain.people import Authority, Viewer
from portal.domain.services import BY_KEY
from portal.i18n import gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form
from portal.web.gate import require_authority
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

STOPPED = "stopped"


def agent_authority(request: Request) -> tuple[Viewer, Authority, list[Authorisation]]:
    """The firm's live authorisations for the client, behind the one gate; only an agent's authority counts."""
    authority = require_authority(request, request.path_params["client_id"])
    if authority.kind != "agent":
        raise HTTPException(status_code=404)
    viewer = require_viewer(request)
    assert viewer.firm_id is not None
    held = handshake.active_authorisations(db_session(request), firm_id=viewer.firm_id,
                                                taxpayer_id=authority.taxpayer.id)
    return viewer, authority, [a for a in held if a.service in authority.services]


async def stop_acting(request: Request) -> Response:
    _viewer, authority, held = agent_authority(request)
    options = [(a.service, BY_KEY[a.service].name) for a in held]
    form = await posted(request, "service") or Form()
    if request.method == "POST":
        if form.get("service") in dict(options):
            return redirect_to(request, "confirm_stop_acting", client_id=authority.taxpayer.id,
                               service=form.get("service"))
        form.error("service", gettext("Select the tax service you want to stop acting for"))
    return ask(request, form, question=gettext("Which tax service do you want to stop acting for?"), name="service",
               field="radios", options=options,
               back=path_for(request, "client_overview", client_id=authority.taxpayer.id),
               # Translators: %(name)s is the client's name.
               hint=gettext("You are authorised to deal with these tax services for %(name)s.")
               % {"name": authority.taxpayer.name})


async def confirm_stop(request: Request) -> Response:
    viewer, authority, held = agent_authority(request)
    authorisation = next((a for a in held if a.service == request.path_params["service"]), None)
    if authorisation is None:
        raise HTTPException(status_code=404)
    service = BY_KEY[authorisation.service]
    if request.method == "POST":
        handshake.end_authorisation(db_session(request), authorisation, ended_by="agent",
                                         actor_user_id=viewer.user_id, authority="agent")
        # The English name is kept, and translated where it is shown: the person may switch language before then.
        # (Not `service_name`: that is the portal's own name, which every page's title and header show.)
        journeys.save(request, STOPPED, client_name=authority.taxpayer.name, tax_service=service.english_name)
        return redirect_to(request, "stopped_acting")
    return render(request, "agent_requests/confirm_stop.html", {
        "client": authority.taxpayer, "service": service,
        "back": path_for(request, "stop_acting", client_id=authority.taxpayer.id)})


async def stopped(request: Request) -> Response:
    require_agent(request)
    answers = journeys.answers(request, STOPPED)
    if not answers:
        return redirect_to(request, "clients")
    return render(request, "agent_requests/stopped.html", answers)



routes = [
    Route("/authorisation-requests/stopped", stopped, name="stopped_acting"),
    Route("/clients/{client_id:id}/stop-acting", stop_acting, methods=["GET", "POST"], name="stop_acting"),
    Route("/clients/{client_id:id}/stop-acting/{service}", confirm_stop, methods=["GET", "POST"],
          name="confirm_stop_acting"),
]
