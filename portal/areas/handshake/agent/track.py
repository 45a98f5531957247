"""After sending: the confirmation, resending the link, cancelling, and tracking the firm's
requests of the last 30 days, 10 a page."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.areas.handshake.agent.common import ask, firm_request, posted, request_context, require_agent
from portal.domain import access, handshake
from portal.domain.handshake import AGENT_STATUS_TEXT, Refused, Status
from portal.domain.services import BY_KEY
from portal.i18n import N_, gettext
from portal.web import pagination
from portal.web.db import db_session
from portal.web.forms import Form, check_length
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render

PAGE_SIZE = 10
MAX_NAME_FILTER = 100
# The status filter's options; the labels are translated when the page is drawn (status_filters()).
STATUS_FILTERS = [("", N_("All statuses")), ("pending", AGENT_STATUS_TEXT[Status.PENDING]),
                  ("expiring", N_("Expires in the next 5 days"))] + [
    (str(status), AGENT_STATUS_TEXT[status]) for status in Status if status is not Status.PENDING]


def status_filters() -> list[tuple[str, str]]:
    return [(value, gettext(label)) for value, label in STATUS_FILTERS]



async def sent_page(request: Request) -> Response:
    viewer = require_agent(request)
    context = request_context(request, viewer, firm_request(request, viewer))
    return render(request, "agent_requests/sent.html", {**context, "resend": False})


async def resend_page(request: Request) -> Response:
    viewer = require_agent(request)
    context = request_context(request, viewer, firm_request(request, viewer))
    if context["status"] is not Status.PENDING:
        return render(request, "agent_requests/not_pending.html", context)
    return render(request, "agent_requests/sent.html", {**context, "resend": True})


async def cancel_page(request: Request) -> Response:
    viewer = require_agent(request)
    record = firm_request(request, viewer)
    context = request_context(request, viewer, record)
    form = await posted(request, "confirm") or Form()
    if request.method == "POST" and form.get("confirm") == "no":
        return redirect_to(request, "track_requests")
    if request.method == "POST" and form.get("confirm") == "yes":
        assert viewer.firm_id is not None  # require_agent let only agents through
        try:
            handshake.cancel_request(db_session(request), firm_id=viewer.firm_id, user_id=viewer.user_id,
                                          request=record, today=date.today())
        except Refused:
            return redirect_to(request, "request_cancel", request_id=record.id)
        return redirect_to(request, "request_cancelled", request_id=record.id)
    if context["status"] is not Status.PENDING:
        return render(request, "agent_requests/not_pending.html", context)
    if request.method == "POST":
        form.error("confirm", gettext("Select yes if you want to cancel this authorisation request"))
    return ask(request, form, question=gettext("Are you sure you want to cancel this authorisation request?"),
               name="confirm", field="radios", options=[("yes", gettext("Yes")), ("no", gettext("No"))], inline=True,
               back=path_for(request, "track_requests"),
               # Translators: the client's name, then the tax service's name.
               hint=gettext("You asked %(client)s to authorise you for %(service)s.")
               % {"client": context["client_name"], "service": context["service"].name})


async def cancelled_page(request: Request) -> Response:
    viewer = require_agent(request)
    record = firm_request(request, viewer)
    if record.status != Status.CANCELLED:
        raise HTTPException(status_code=404)
    return render(request, "agent_requests/cancelled.html", request_context(request, viewer, record))


# --- track requests ------------------------------------------------------------------------------------------------


def filter_form(request: Request) -> tuple[Form, str, str]:
    form = Form(values={"client": request.query_params.get("client", "").strip(),
                        "status": request.query_params.get("status", "")})
    check_length(form, "client", gettext("Client name"), MAX_NAME_FILTER)
    status = form.get("status") if form.get("status") in dict(STATUS_FILTERS) else ""
    return form, ("" if form.errors else form.get("client")), status


async def track(request: Request) -> Response:
    viewer = require_agent(request)
    db = db_session(request)
    form, name, status = filter_form(request)
    today = date.today()

    def fetch(page: pagination.Page) -> tuple[list[handshake.TrackedRequest], int]:
        assert viewer.firm_id is not None
        return handshake.track_requests(db, firm_id=viewer.firm_id, today=today, client_name=name,
                                             status=status, limit=PAGE_SIZE, offset=page.offset)

    wanted = pagination.page_number(request.query_params.get("page"))
    rows, total = fetch(pagination.Page(wanted, PAGE_SIZE, 0))
    page = pagination.clamp(wanted, size=PAGE_SIZE, total=total)
    if page.number != wanted:  # past the last page: show the last one
        rows, total = fetch(page)

    # "Stop acting" leads to a client's page, which the gate shows only to whoever may act for them: a standard
    # user kept out of a client by access groups sees the firm's request, but no link to a 404.
    accepted = {row.request.taxpayer_id for row in rows if row.status is Status.ACCEPTED}
    if access.restricted_by_groups(viewer):
        accepted = {taxpayer_id for taxpayer_id in accepted if access.authority_for(db, viewer, taxpayer_id)}
    base = path_for(request, "track_requests")

    def href(number: int) -> str:
        params = {k: v for k, v in (("client", name), ("status", status)) if v} | (
            {"page": number} if number > 1 else {})
        return base + ("?" + urlencode(params) if params else "")

    return render(request, "agent_requests/track.html", {
        "form": form, "rows": rows, "page": page, "page_links": pagination.links(page, href), "href": href,
        "filtering": bool(name or status), "status_filters": status_filters(), "status_text": AGENT_STATUS_TEXT,
        "services": BY_KEY, "Status": Status, "may_stop": accepted})



routes = [
    Route("/authorisation-requests", track, name="track_requests"),
    Route("/authorisation-requests/{request_id:id}/sent", sent_page, name="request_sent"),
    Route("/authorisation-requests/{request_id:id}/resend", resend_page, name="request_resend"),
    Route("/authorisation-requests/{request_id:id}/cancel", cancel_page, methods=["GET", "POST"],
          name="request_cancel"),
    Route("/authorisation-requests/{request_id:id}/cancelled", cancelled_page, name="request_cancelled"),
]
