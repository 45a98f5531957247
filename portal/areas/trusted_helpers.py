"""Trusted helpers: a person asks a friend or relative to help with their tax (domain.md §5).

A helper's authority is narrower than an agent's; portal.domain.access decides what they may see. This module
only manages the link between the two people: the invitation, accepting it, and either side ending it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.areas.registration import check_email
from portal.domain import accounts, audit, notifications
from portal.domain.access import MAX_ID
from portal.domain.models import HelperLink, Taxpayer, User, utcnow
from portal.domain.people import Viewer
from portal.web import journeys
from portal.web.db import db_session
from portal.web.forms import Form, read_form
from portal.web.rendering import render
from portal.web.security import token_hash
from portal.web.sessions import current_viewer, require_viewer

MAX_PEOPLE_HELPED = 5  # domain.md §5: a helper can help up to five people
MAX_TOKEN_LENGTH = 100
OPEN = ("invited", "active")
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


def personal_taxpayer(db: Session, user_id: int) -> Taxpayer | None:
    """The person's own individual tax account; with several, the first one linked."""
    return db.execute(
        select(Taxpayer).where(Taxpayer.owner_user_id == user_id, Taxpayer.client_type == "personal")
        .order_by(Taxpayer.id).limit(1)
    ).scalar_one_or_none()


def list_helpers(db: Session, taxpayer_id: int) -> list[HelperRow]:
    rows = db.execute(
        select(HelperLink.id, HelperLink.invited_email, User.name, HelperLink.status,
               func.coalesce(HelperLink.accepted_at, HelperLink.created_at))
        .outerjoin(User, User.id == HelperLink.helper_user_id)
        .where(HelperLink.taxpayer_id == taxpayer_id, HelperLink.status.in_(OPEN))
        .order_by(HelperLink.created_at, HelperLink.id)
    )
    return [HelperRow(*row) for row in rows]


def list_helped(db: Session, user_id: int) -> list[HelpedRow]:
    rows = db.execute(
        select(HelperLink.id, Taxpayer.id, Taxpayer.name, HelperLink.accepted_at)
        .join(Taxpayer, Taxpayer.id == HelperLink.taxpayer_id)
        .where(HelperLink.helper_user_id == user_id, HelperLink.status == "active")
        .order_by(Taxpayer.name, Taxpayer.id)
    )
    return [HelpedRow(*row) for row in rows]


def open_link_for(db: Session, taxpayer_id: int, email: str) -> HelperLink | None:
    return db.execute(
        select(HelperLink).where(HelperLink.taxpayer_id == taxpayer_id, HelperLink.invited_email == email,
                                 HelperLink.status.in_(OPEN))
    ).scalars().first()


def people_helped(db: Session, user_id: int) -> int:
    query = select(func.count()).select_from(HelperLink).where(
        HelperLink.helper_user_id == user_id, HelperLink.status == "active")
    return db.execute(query).scalar_one()


def link_by_token(db: Session, token: str) -> HelperLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.execute(
        select(HelperLink).where(HelperLink.invite_token_hash == token_hash(token))
    ).scalar_one_or_none()


def owned_link(db: Session, viewer: Viewer, link_id: int) -> tuple[HelperLink, Taxpayer]:
    """A helper link on one of the viewer's own tax accounts, still open; anything else is a 404."""
    link = db.get(HelperLink, link_id) if 0 < link_id <= MAX_ID else None
    taxpayer = db.get(Taxpayer, link.taxpayer_id) if link else None
    if link is None or taxpayer is None or taxpayer.owner_user_id != viewer.user_id or link.status not in OPEN:
        raise HTTPException(status_code=404)
    return link, taxpayer


def helping_link(db: Session, viewer: Viewer, link_id: int) -> tuple[HelperLink, Taxpayer]:
    link = db.get(HelperLink, link_id) if 0 < link_id <= MAX_ID else None
    if link is None or link.helper_user_id != viewer.user_id or link.status != "active":
        raise HTTPException(status_code=404)
    taxpayer = db.get(Taxpayer, link.taxpayer_id)
    assert taxpayer is not None
    return link, taxpayer


def _move(db: Session, link: HelperLink, from_status: str, **values: object) -> bool:
    """A conditional update: of two clicks racing, only the first changes anything."""
    result = db.execute(
        update(HelperLink).where(HelperLink.id == link.id, HelperLink.status == from_status).values(**values)
    )
    db.refresh(link)
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- forms -------------------------------------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """Enough to recognise an address you own, not enough to learn someone else's: j***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _check_invite(db: Session, viewer: Viewer, taxpayer: Taxpayer, form: Form) -> None:
    check_email(form, "email", "Enter the email address of the person you want to help you")
    email = form.get("email").lower()
    form.values["email"] = email
    if not form.ok:
        return
    if email == viewer.email.lower():
        form.error("email", "Enter the email address of someone else. You cannot ask yourself to help you")
    elif (existing := open_link_for(db, taxpayer.id, email)) is not None:
        message = (f"{email} is already helping you" if existing.status == "active"
                   else f"You have already asked {email} to help you")
        form.error("email", message)


def _require_personal(request: Request, viewer: Viewer) -> Taxpayer | None:
    return personal_taxpayer(db_session(request), viewer.user_id)


# --- handlers: the person being helped ---------------------------------------------------------------------------


async def manage(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = _require_personal(request, viewer)
    if taxpayer is None:
        return render(request, "helpers/individuals_only.html")
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
    return RedirectResponse("/trusted-helpers/invite/check", status_code=303)


async def invite_check(request: Request) -> Response:
    viewer = require_viewer(request)
    taxpayer = _require_personal(request, viewer)
    email = journeys.answers(request, JOURNEY).get("email", "")
    if taxpayer is None or not email:
        return RedirectResponse("/trusted-helpers/invite", status_code=303)
    if request.method == "GET":
        return render(request, "helpers/invite_check.html", {"email": email})
    db = db_session(request)
    form = Form(values={"email": email})
    _check_invite(db, viewer, taxpayer, form)  # again: something may have changed since the first page
    if not form.ok:
        return render(request, "helpers/invite.html", {"form": form})
    token = secrets.token_urlsafe(32)
    link = HelperLink(taxpayer_id=taxpayer.id, invited_email=email, invite_token_hash=token_hash(token))
    db.add(link)
    db.flush()
    audit.record(db, "helper_invited", authority="self", actor_user_id=viewer.user_id, taxpayer_id=taxpayer.id,
                 helper_link_id=link.id, email=email)
    notifications.helper_invited(db, link, token=token)
    # Kept in the person's server-side session only so the next page can show the link to pass on.
    journeys.save(request, JOURNEY, sent_link_id=link.id, sent_token=token)
    return RedirectResponse("/trusted-helpers/invite/sent", status_code=303)


async def invite_sent(request: Request) -> Response:
    require_viewer(request)
    answers = journeys.answers(request, JOURNEY)
    link = db_session(request).get(HelperLink, answers.get("sent_link_id", 0))
    token = str(answers.get("sent_token", ""))
    if link is None or link.status != "invited" or link.invite_token_hash != token_hash(token):
        return RedirectResponse("/trusted-helpers", status_code=303)
    url = str(request.base_url).rstrip("/") + f"/trusted-helpers/accept/{token}"
    return render(request, "helpers/invite_sent.html", {"email": link.invited_email, "url": url})


async def remove(request: Request) -> Response:
    viewer = require_viewer(request)
    db = db_session(request)
    link, taxpayer = owned_link(db, viewer, request.path_params["link_id"])
    helper = db.get(User, link.helper_user_id) if link.helper_user_id else None
    context = {"link": link, "helper_name": helper.name if helper else None}
    if request.method == "GET":
        return render(request, "helpers/remove.html", context)
    if link.status == "invited":
        changed = _move(db, link, "invited", status="withdrawn", ended_at=utcnow(), ended_by="client")
        action = "helper_invitation_withdrawn"
    else:
        changed = _move(db, link, "active", status="ended", ended_at=utcnow(), ended_by="client")
        action = "helper_removed"
    if changed:
        audit.record(db, action, authority="self", actor_user_id=viewer.user_id, taxpayer_id=taxpayer.id,
                     helper_link_id=link.id, email=link.invited_email)
        if link.status == "ended":
            notifications.helper_ended(db, link, ended_by="client")
    return RedirectResponse("/trusted-helpers", status_code=303)


# --- handlers: the helper ----------------------------------------------------------------------------------------


async def accept(request: Request) -> Response:
    db = db_session(request)
    link = link_by_token(db, request.path_params["token"])
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
    if not accounts.email_confirmed(db, viewer.user_id):  # the invitation went to an address nobody has proved
        return render(request, "auth/confirm_email_first.html", status_code=403)
    if request.method == "POST":
        return await _respond(request, db, viewer, link)
    if people_helped(db, viewer.user_id) >= MAX_PEOPLE_HELPED:
        return render(request, "helpers/accept_limit.html", {**context, "limit": MAX_PEOPLE_HELPED})
    return render(request, "helpers/accept.html", context)


async def _respond(request: Request, db: Session, viewer: Viewer, link: HelperLink) -> Response:
    form = await read_form(request, "decision")
    if form.get("decision") == "decline":
        if _move(db, link, "invited", status="declined", ended_at=utcnow(), ended_by="helper"):
            audit.record(db, "helper_declined", authority="helper", actor_user_id=viewer.user_id,
                         taxpayer_id=link.taxpayer_id, helper_link_id=link.id)
        return RedirectResponse("/helping", status_code=303)
    # Lock the helper's row, so two acceptances at once cannot both squeeze under the limit.
    db.execute(select(User.id).where(User.id == viewer.user_id).with_for_update())
    if people_helped(db, viewer.user_id) >= MAX_PEOPLE_HELPED:
        return RedirectResponse(request.url.path, status_code=303)
    if _move(db, link, "invited", status="active", helper_user_id=viewer.user_id, accepted_at=utcnow(),
             invite_token_hash=None):
        audit.record(db, "helper_accepted", authority="helper", actor_user_id=viewer.user_id,
                     taxpayer_id=link.taxpayer_id, helper_link_id=link.id)
    return RedirectResponse("/helping", status_code=303)


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
    if _move(db, link, "active", status="ended", ended_at=utcnow(), ended_by="helper"):
        audit.record(db, "helper_ended", authority="helper", actor_user_id=viewer.user_id,
                     taxpayer_id=taxpayer.id, helper_link_id=link.id)
        notifications.helper_ended(db, link, ended_by="helper")
    return RedirectResponse("/helping", status_code=303)


routes = [
    Route("/trusted-helpers", manage, name="trusted_helpers"),
    Route("/trusted-helpers/invite", invite, methods=["GET", "POST"], name="helper_invite"),
    Route("/trusted-helpers/invite/check", invite_check, methods=["GET", "POST"], name="helper_invite_check"),
    Route("/trusted-helpers/invite/sent", invite_sent, name="helper_invite_sent"),
    Route("/trusted-helpers/remove/{link_id:int}", remove, methods=["GET", "POST"], name="helper_remove"),
    Route("/trusted-helpers/accept/{token}", accept, methods=["GET", "POST"], name="helper_accept"),
    Route("/helping", helping, name="helping"),
    Route("/helping/stop/{link_id:int}", stop_helping, methods=["GET", "POST"], name="stop_helping"),
]
