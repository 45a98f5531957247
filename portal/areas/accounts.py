"""Signing in and out."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.domain import audit, ratelimits
from portal.domain.accounts import MAX_EMAIL_LENGTH
from portal.domain.models import User, utcnow
from portal.domain.people import Viewer
from portal.web.db import db_session
from portal.web.forms import Form, read_form, too_long
from portal.web.links import redirect_to
from portal.web.rendering import render
from portal.web.sessions import Sessions, current_viewer


def home_for(viewer: Viewer) -> str:
    """The name of the route a signed-in person starts from."""
    return "clients" if viewer.is_agent else "account"


def safe_next(target: str) -> str | None:
    """Only a path on this site: never '//evil.example' or an absolute URL."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


async def sign_in(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next", ""))
    if request.method == "GET":
        return render(request, "auth/sign_in.html", {"form": Form(), "next_url": next_url})
    form = await read_form(request, "email", "password")
    sessions: Sessions = request.app.state.sessions
    if not form.get("email"):
        form.error("email", "Enter your email address")
    elif len(form.get("email")) > MAX_EMAIL_LENGTH:
        form.error("email", too_long("Email address", MAX_EMAIL_LENGTH))
    if not form.get("password"):
        form.error("password", "Enter your password")
    if not form.ok:
        return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})
    db = db_session(request)
    user = _check_credentials(request, db, sessions, form)
    if user is None:
        form.values["password"] = ""  # never echo a password back into the page
        return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})
    response = RedirectResponse(next_url, status_code=303) if next_url else redirect_to(request, "start")
    sessions.start(db, user, response)
    audit.record(db, "signed_in", authority="self", actor_user_id=user.id)
    return response


def _check_credentials(request: Request, db: Session, sessions: Sessions, form: Form) -> User | None:
    settings = sessions.settings
    window = timedelta(seconds=settings.sign_in_window_seconds)
    key = ratelimits.limit_key("sign-in", form.get("email").lower())
    now = utcnow()
    if ratelimits.is_limited(db, key=key, limit=settings.sign_in_attempts_allowed, window=window, now=now):
        # The same answer whether or not the account exists, so the lock tells an attacker nothing.
        form.error("email", "You have tried to sign in too many times. Wait 15 minutes, then try again")
        return None
    user = sessions.authenticate(db, form.get("email"), form.get("password"))
    if user is None:
        ratelimits.record_attempt(db, key=key, window=window, now=now)
        audit.record(db, "sign_in_failed", authority="anonymous", email=form.get("email").lower())
        form.error("email", "Enter a correct email address and password")
        return None
    ratelimits.clear_attempts(db, key=key)
    return user


async def sign_out(request: Request) -> Response:
    viewer = current_viewer(request)
    response = redirect_to(request, "signed_out")
    if viewer is not None:
        db = db_session(request)
        request.app.state.sessions.end(db, viewer, response)
        audit.record(db, "signed_out", authority="self", actor_user_id=viewer.user_id)
    return response


async def signed_out(request: Request) -> Response:
    return render(request, "auth/signed_out.html")


routes = [
    Route("/sign-in", sign_in, methods=["GET", "POST"], name="sign_in"),
    Route("/sign-out", sign_out, methods=["POST"], name="sign_out"),
    Route("/signed-out", signed_out, name="signed_out"),
]
