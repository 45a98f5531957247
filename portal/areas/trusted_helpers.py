"""Trusted helpers' pages: a person asks a friend or relative to help with their tax (domain.md §5).

The rules (inviting, the five-person limit, ending the link from either side) are portal.domain.trusted_helpers';
what a helper may see is portal.domain.access's. This module only asks them, and words their answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import trusted_helpers
from portal.domain.accounts import token_hash
from portal.domain.models import HelperLink, Taxpayer, User
from portal.domain.people import Viewer
from portal.domain.trusted_helpers import (
    MAX_PEOPLE_HELPED,
    OPEN,
    Refusal,
    Refused,
    people_helped,
    personal_taxpayer,
)
from portal.i18n import N_, gettext
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, check_email, read_form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import current_viewer, require_viewer

JOURNEY = "helper-invite"


@dataclass(frozen=True)
class HelperRow:
    link_id: int
    email: str
    name: str | None
    status: str
    since: datetime


@dataclass(frozen=True)
class HelpedRow:
    link_id: int
    taxpayer_id: int
    name: str
    since: datetime | None


# --- queries -----------------------------------------------------------------------------------------------------


def list_helpers(db: Session, taxpayer_id: int) -> list[HelperRow]:
    rows = db.execute(
        select(col(HelperLink.id), col(HelperLink.invited_email), col(User.name), col(HelperLink.status),
               func.coalesce(HelperLink.accepted_at, HelperLink.created_at))
        .outerjoin(User, col(User.id) == HelperLink.helper_user_id)
        .where(col(HelperLink.taxpayer_id) == taxpayer_id, col(HelperLink.status).in_(OPEN))
        .order_by(col(HelperLink.created_at), col(HelperLink.id))
    )
    return [HelperRow(*row) for row in rows]


def list_helped(db: Session, user_id: int) -> list[HelpedRow]:
    rows = db.execute(
        select(col(HelperLink.id), col(Taxpayer.id), col(Taxpayer.name), col(HelperLink.accepted_at))
        .join(Taxpayer, col(Taxpayer.id) == HelperLink.taxpayer_id)
        .where(col(HelperLink.helper_user_id) == user_id, col(HelperLink.status) == "active")
        .order_by(col(Taxpayer.name), col(Taxpayer.id))
    )
    return [HelpedRow(*row) for row in rows]


def owned_link(db: Session, viewer: Viewer, link_id: int) -> tuple[HelperLink, Taxpayer]:
    """A helper link on one of the viewer's own tax accounts, still open; anything else is a 404."""
    link = db.get(HelperLink, link_id)
    taxpayer = db.get(Taxpayer, link.taxpayer_id) if link else None
    if link is None or taxpayer is None or taxpayer.owner_user_id != viewer.user_id or link.status not in OPEN:
        raise HTTPException(status_code=404)
    return link, taxpayer


def helping_link(db: Session, viewer: Viewer, link_id: int) -> tuple[HelperLink, Taxpayer]:
    link = db.get(HelperLink, link_id)
    if link is None or link.helper_user_id != viewer.user_id or link.status != "active":
        raise HTTPException(status_code=404)
    taxpayer = db.get(Taxpayer, link.taxpayer_id)
    assert taxpayer is not None
    return link, taxpayer


# --- forms -------------------------------------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """Enough to recognise an address you own, not enough to learn someone else's: j***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


INVITE_REFUSED = {
    Refusal.OWN_EMAIL: N_("Enter the email address of someone else. You cannot ask yourself to help you"),
    # Translators: %(email)s is the email address the person typed, here and in the next message.
    Refusal.ALREADY_HELPING: N_("%(email)s is already helping you"),
    Refusal.ALREADY_INVITED: N_("You have already asked %(email)s to help you"),
}


def _check_invite(db: Session, viewer: Viewer, taxpayer: Taxpayer, form: Form) -> None:
    check_email(form, "email", gettext("Enter the email address of the person you want to help you"))
    email = form.get("email").lower()
    form.values["email"] = email
    if not form.ok:
        return
    assert taxpayer.id is not None
    try:
        trusted_helpers.check_can_invite(db, taxpayer_id=taxpayer.id, inviter_email=viewer.email, email=email)
    except Refused as refused:
        form.error("email", gettext(INVITE_REFUSED[refused.reason]) % {"email": email})


def _require_personal(request: Request, viewer: Viewer) -> Taxpayer | None:
    return personal_taxpayer(db_session(request), viewer.user_id)


# --- handlers: the person being helped ---------------------------------------------------------------------------


async def manage(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = _require_personal(request, viewer)
    if taxpayer is None:
        return render(request, "helpers/individuals_only.html")
    assert taxpayer.id is not None  # a stored row
    helpers = list_helpers(db_session(request), taxpayer.id)
    return render(request, "helpers/manage.html", {"taxpayer": taxpayer, "helpers": helpers})


async def invite(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = _require_personal(request, viewer)
    if taxpayer is None:
        return render(request, "helpers/individuals_only.html")
    if request.method == "GET":
        email = journeys.answers(request, JOURNEY).get("email", "")
        return render(request, "helpers/invite.html", {"form": Form(values={"email": email})})
    form = await read_form(request, "email")
    _check_invite(db_session(request), viewer, taxpayer, form)
    if not form.ok:
        return render(request, "helpers/invite.html", {"form": form})
    journeys.forget(request, JOURNEY)
    journeys.save(request, JOURNEY, email=form.get("email"))
    return redirect_to(request, "helper_invite_check")


async def invite_check(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = _require_personal(request, viewer)
    email = journeys.answers(request, JOURNEY).get("email", "")
    if taxpayer is None or not email:
        return redirect_to(request, "helper_invite")
    if request.method == "GET":
        return render(request, "helpers/invite_check.html", {"email": email})
    db = db_session(request)
    form = Form(values={"email": email})
    _check_invite(db, viewer, taxpayer, form)  # again: something may have changed since the first page
    if not form.ok:
        return render(request, "helpers/invite.html", {"form": form})
    assert taxpayer.id is not None
    link, token = trusted_helpers.invite(db, taxpayer_id=taxpayer.id, inviter_user_id=viewer.user_id,
                                         inviter_email=viewer.email, email=email)
    # Kept in the person's server-side session only so the next page can show the link to pass on.
    journeys.save(request, JOURNEY, sent_link_id=link.id, sent_token=token)
    return redirect_to(request, "helper_invite_sent")


async def invite_sent(request: Request) -> Response:
    require_viewer(request)
    answers = journeys.answers(request, JOURNEY)
    link = db_session(request).get(HelperLink, answers.get("sent_link_id", 0))
    token = str(answers.get("sent_token", ""))
    if link is None or link.status != "invited" or link.invite_token_hash != token_hash(token):
        return redirect_to(request, "trusted_helpers")
    url = str(request.base_url).rstrip("/") + path_for(request, "helper_accept", token=token)
    return render(request, "helpers/invite_sent.html", {"email": link.invited_email, "url": url})


async def remove(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    link, _taxpayer = owned_link(db, viewer, request.path_params["link_id"])
    helper = db.get(User, link.helper_user_id) if link.helper_user_id else None
    context = {"link": link, "helper_name": helper.name if helper else None}
    if request.method == "GET":
        return render(request, "helpers/remove.html", context)
    try:
        if link.status == trusted_helpers.INVITED:
            trusted_helpers.withdraw(db, link=link, actor_user_id=viewer.user_id)
        else:
            trusted_helpers.end(db, link=link, ended_by="client", actor_user_id=viewer.user_id)
    except Refused:  # answered or ended meanwhile: the list shows how things stand
        pass
    return redirect_to(request, "trusted_helpers")


# --- handlers: the helper ----------------------------------------------------------------------------------------


async def accept(request: Request) -> Response:
    db = db_session(request)
    link = trusted_helpers.link_by_token(db, request.path_params["token"])
    if link is None:
        raise HTTPException(status_code=404)
    taxpayer = db.get(Taxpayer, link.taxpayer_id)
    assert taxpayer is not None
    viewer = current_viewer(request)
    context = {"link": link, "person": taxpayer.name, "token": request.path_params["token"]}
    if link.status != "invited":
        return render(request, "helpers/accept_closed.html", context)
    if viewer is None:
        return render(request, "helpers/accept_signed_out.html", context)
    if viewer.email.lower() != link.invited_email:
        return render(request, "helpers/accept_wrong_email.html", {**context, "masked": mask_email(link.invited_email)})
    try:
        trusted_helpers.check_address_confirmed(db, viewer.user_id)
    except Refused:  # the invitation went to an address nobody has proved yet
        return render(request, "auth/confirm_email_first.html", status_code=403)
    if request.method == "POST":
        return await _respond(request, db, viewer, link)
    if people_helped(db, viewer.user_id) >= MAX_PEOPLE_HELPED:
        return render(request, "helpers/accept_limit.html", {**context, "limit": MAX_PEOPLE_HELPED})
    return render(request, "helpers/accept.html", context)


async def _respond(request: Request, db: Session, viewer: Viewer, link: HelperLink) -> Response:
    form = await read_form(request, "decision")
    respond = trusted_helpers.decline if form.get("decision") == "decline" else trusted_helpers.accept
    try:
        respond(db, link=link, user_id=viewer.user_id, email=viewer.email)
    except Refused as refused:
        if refused.reason is Refusal.LIMIT_REACHED:  # the page again, which explains the limit
            return redirect_to(request, "helper_accept", token=request.path_params["token"])
    return redirect_to(request, "helping")


async def helping(request: Request) -> Response:
    viewer = require_viewer(request)
    people = list_helped(db_session(request), viewer.user_id)
    return render(request, "helpers/helping.html", {"people": people, "limit": MAX_PEOPLE_HELPED})


async def stop_helping(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    link, taxpayer = helping_link(db, viewer, request.path_params["link_id"])
    if request.method == "GET":
        return render(request, "helpers/stop.html", {"link": link, "person": taxpayer.name})
    try:
        trusted_helpers.end(db, link=link, ended_by="helper", actor_user_id=viewer.user_id)
    except Refused:  # ended meanwhile, by either side
        pass
    return redirect_to(request, "helping")


routes = [
    Route("/trusted-helpers", manage, name="trusted_helpers"),
    Route("/trusted-helpers/invite", invite, methods=["GET", "POST"], name="helper_invite"),
    Route("/trusted-helpers/invite/check", invite_check, methods=["GET", "POST"], name="helper_invite_check"),
    Route("/trusted-helpers/invite/sent", invite_sent, name="helper_invite_sent"),
    Route("/trusted-helpers/remove/{link_id:id}", remove, methods=["GET", "POST"], name="helper_remove"),
    Route("/trusted-helpers/accept/{token}", accept, methods=["GET", "POST"], name="helper_accept"),
    Route("/helping", helping, name="helping"),
    Route("/helping/stop/{link_id:id}", stop_helping, methods=["GET", "POST"], name="stop_helping"),
]
