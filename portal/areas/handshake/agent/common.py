"""What the agent's handshake pages share: where they live, who may use them, how a
question page and a request page are drawn."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.domain import handshake
from portal.domain.client_links import client_link
from portal.domain.handshake import AGENT_STATUS_TEXT
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer
from portal.domain.people import Viewer
from portal.domain.services import BY_KEY
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.rendering import render
from portal.web.sessions import require_viewer


def absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def require_agent(request: Request) -> Viewer:
    """Only people with an agent services account (administrators and standard users alike); anyone else 404s."""
    viewer = require_viewer(request)
    if not viewer.is_agent:
        raise HTTPException(status_code=404)
    return viewer


async def posted(request: Request, *names: str) -> Form | None:
    return await read_form(request, *names) if request.method == "POST" else None


def ask(request: Request, form: Form, **context: Any) -> Response:
    """A one-question page (agent_requests/question.html): radios, a date or a text input as the h1."""
    defaults: dict[str, Any] = {"hint": None, "options": [], "inline": False, "button": gettext("Continue"),
                "input": {}, "action": request.url.path}
    return render(request, "agent_requests/question.html", {**defaults, **context, "form": form})


def firm_request(request: Request, viewer: Viewer) -> AuthorisationRequest:
    """A request of the viewer's firm, or a 404 that looks the same as one that does not exist."""
    record = db_session(request).get(AuthorisationRequest, request.path_params["request_id"])
    if record is None or record.firm_id != viewer.firm_id:
        raise HTTPException(status_code=404)
    return record


def request_context(request: Request, viewer: Viewer, record: AuthorisationRequest) -> dict[str, Any]:
    db = db_session(request)
    firm, taxpayer = db.get(Firm, viewer.firm_id), db.get(Taxpayer, record.taxpayer_id)
    assert firm is not None and taxpayer is not None
    service = BY_KEY[record.service]
    status = handshake.effective_status(record, date.today())
    return {"record": record, "client_name": taxpayer.name, "service": service, "status": status,
            "status_text": gettext(AGENT_STATUS_TEXT[status]),
            "link": absolute(request, client_link(firm, service.url_part))}

