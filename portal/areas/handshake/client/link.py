"""The client link an agent sends (domain.md §2.6): who it is from, then the request it stands for."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.handshake.client.common import URL_PART_NAMES, URL_PARTS, T
from portal.areas.handshake.client.respond import consent_page, exit_page, still_pending
from portal.domain.client_links import LINK_PREFIX, client_link, normalise_agency_name
from portal.domain.handshake import EXPIRY_DAYS, Status, effective_status
from portal.domain.models import AuthorisationRequest, Firm, Taxpayer
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form
from portal.web.links import path_for
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer


def find_link_firm(db: Session, uid: str, name: str, url_part: str) -> Firm | None:
    if url_part not in URL_PARTS or not (uid.isascii() and uid.isalnum()) or len(uid) > 8:
        return None
    firm: Firm | None = db.execute(select(Firm).where(col(Firm.link_uid) == uid)).scalar_one_or_none()
    if firm is None or normalise_agency_name(firm.name) != name:
        return None
    return firm


def requests_for_link(db: Session, *, firm_id: int, url_part: str, user_id: int) -> list[AuthorisationRequest]:
    """This firm's requests for this link's services to any taxpayer the person owns, newest first."""
    owned = select(col(Taxpayer.id)).where(col(Taxpayer.owner_user_id) == user_id)
    return list(db.execute(
        select(AuthorisationRequest).where(
            col(AuthorisationRequest.firm_id) == firm_id, col(AuthorisationRequest.service).in_(URL_PARTS[url_part]),
            col(AuthorisationRequest.taxpayer_id).in_(owned))
        .order_by(col(AuthorisationRequest.created_at).desc(), col(AuthorisationRequest.id).desc())
    ).scalars())


def pick_request(found: list[AuthorisationRequest], today: date) -> AuthorisationRequest | None:
    """The pending one, otherwise the most recent, so the person is told exactly what happened to it."""
    pending = [r for r in found if effective_status(r, today) is Status.PENDING]
    return (pending or found)[0] if pending or found else None


def _link(request: Request, db: Session) -> tuple[Firm, str]:
    params = request.path_params
    firm = find_link_firm(db, params["uid"], params["name"], params["service"])
    if firm is None:
        raise HTTPException(status_code=404)
    return firm, params["service"]


def _cannot_view(request: Request, agency: str) -> Response:
    return render(request, T + "cannot_view.html", {"agency": agency})


async def link_start(request: Request) -> Response:
    db = db_session(request)
    firm, url_part = _link(request, db)
    viewer = current_viewer(request)
    if viewer is not None and viewer.is_agent:
        return _cannot_view(request, firm.name)
    respond = client_link(firm, url_part) + "/respond"
    start_href = respond if viewer else path_for(request, "sign_in") + "?next=" + quote(respond, safe="")
    context = {"agency": firm.name, "service_name": gettext(URL_PART_NAMES[url_part]), "start_href": start_href,
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
                      {"agency": firm.name, "service_name": gettext(URL_PART_NAMES[url_part])})
    if not still_pending(found):
        return exit_page(request, db, found, firm)
    return consent_page(request, db, found, firm, Form())


_LINK = LINK_PREFIX + "/{uid}/{name}/{service}"
routes = [
    Route(_LINK, link_start, name="client_link"),
    Route(_LINK + "/respond", link_respond, name="client_link_respond"),
]
