"""A firm's contact email address (issue 12): an administrator asks for a new one, and it becomes the contact only
when someone follows the single-use link emailed to it (or at once, if it is their own confirmed sign-in
address). Registration asks the same way (portal.areas.registration). The rules: portal.domain.firms."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import account_emails, accounts, firms
from portal.domain.models import Firm
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, check_email, read_form
from portal.web.gate import require_firm_admin
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer


def send_confirmation(request: Request, firm: Firm, email: str) -> None:
    """Email the link that makes `email` the firm's contact. It works once, for a day: a shared mailbox may not be
    read at once, and the link proves only who reads the address, never signs anyone in."""
    viewer = require_viewer(request)
    settings = request.app.state.settings
    token = firms.ask_to_confirm_contact(db_session(request), firm_id=firm.id, user_id=viewer.user_id, email=email,
                                         lifetime=timedelta(seconds=settings.sign_up_link_seconds))
    account_emails.firm_contact_confirmation(db_session(request), to=email.strip().lower(), firm_name=firm.name,
                                             asked_by=viewer.name,
                                             path=path_for(request, "confirm_firm_contact", token=token))


def _firm(request: Request) -> Firm:
    viewer = require_firm_admin(request)
    firm = db_session(request).get(Firm, viewer.firm_id)
    assert firm is not None  # the viewer's membership names it
    return firm


async def change(request: Request) -> Response:
    firm = _firm(request)
    db = db_session(request)
    viewer = require_viewer(request)
    context = {"firm": firm, "pending": firms.pending_contact(db, firm.id),
               "changed": request.query_params.get("changed") == "yes"}
    if request.method == "GET":
        return render(request, "firm_contact/change.html", {**context, "form": Form()})
    form = await read_form(request, "contact_email")
    check_email(form, "contact_email", gettext("Enter your firm's contact email address"))
    email = form.get("contact_email").strip().lower()
    if form.ok and email == firm.email:
        form.error("contact_email", gettext("This is already your firm’s contact email address"))
    if not form.ok:
        return render(request, "firm_contact/change.html", {**context, "form": form})
    if firms.proved_by(db, user_id=viewer.user_id, email=email):
        firms.change_contact(db, firm=firm, user_id=viewer.user_id, email=email)
        return redirect_to(request, "firm_contact", query={"changed": "yes"})
    send_confirmation(request, firm, email)
    return render(request, "auth/check_email.html", {
        "email": email,
        "instruction": gettext("It becomes your firm’s contact email address when someone follows the link in the "
                               "email, within 24 hours. Until then, we keep using %(current)s.")
        % {"current": firm.email}})


async def confirm(request: Request) -> Response:
    """The emailed link: a page with a button first (email scanners that open links must not use it up)."""
    db = db_session(request)
    token = request.path_params["token"]
    record = accounts.peek_email_token(db, accounts.FIRM_CONTACT, token)
    firm = db.get(Firm, record.payload.get("firm_id")) if record else None
    if record is None or firm is None:
        return render(request, "auth/link_expired.html", status_code=404)
    if request.method == "GET":
        return render(request, "firm_contact/confirm.html", {"email": record.email, "firm": firm})
    confirmed = firms.confirm_contact(db, token=token)
    if confirmed is None:
        return render(request, "auth/link_expired.html", status_code=404)
    return render(request, "firm_contact/confirmed.html", {"email": confirmed.email, "firm": confirmed})


routes = [
    Route("/manage-account/contact-email", change, methods=["GET", "POST"], name="firm_contact"),
    Route("/firm-contact/confirm/{token}", confirm, methods=["GET", "POST"], name="confirm_firm_contact"),
]
