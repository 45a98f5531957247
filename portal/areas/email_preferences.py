"""Emails you get: a taxpayer turns "done on your behalf" emails on or off; a firm's administrator chooses
whether the firm's contact address gets copies (portal.domain.notifications reads both)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import notifications
from portal.domain.models import Firm, Taxpayer, User
from portal.i18n import gettext
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

YES_NO = {"yes": True, "no": False}


async def emails(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    user = db.get(User, viewer.user_id)
    assert user is not None
    owns_tax = db.execute(select(col(Taxpayer.id)).where(col(Taxpayer.owner_user_id) == viewer.user_id)
                          ).first() is not None
    firm = db.get(Firm, viewer.firm_id) if viewer.firm_id is not None and viewer.is_firm_admin else None
    context = {"owns_tax": owns_tax, "firm_admin": firm is not None, "firm_email": firm.email if firm else "",
               "can_choose": owns_tax or firm is not None}
    if request.method == "GET":
        values = {"on_behalf": "yes" if user.emails_on_behalf else "no",
                  "contact_copies": "yes" if firm is not None and firm.contact_gets_copies else "no"}
        return render(request, "emails_preferences/index.html", {**context, "form": Form(values=values)})
    form = await read_form(request, "on_behalf", "contact_copies")
    if owns_tax and form.get("on_behalf") not in YES_NO:
        form.error("on_behalf", gettext("Select yes if you want an email when someone acting for you does something"))
    if firm is not None and form.get("contact_copies") not in YES_NO:
        form.error("contact_copies", gettext("Select yes if the firm’s contact address should get copies"))
    if not form.ok:
        return render(request, "emails_preferences/index.html", {**context, "form": form})
    notifications.set_preferences(
        db, user=user, emails_on_behalf=YES_NO[form.get("on_behalf")] if owns_tax else None,
        firm=firm, contact_gets_copies=YES_NO[form.get("contact_copies")] if firm is not None else None)
    return redirect_to(request, "account")


routes = [Route("/account/emails", emails, methods=["GET", "POST"], name="email_preferences")]
