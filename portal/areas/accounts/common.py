"""What the accounts pages share: where to go next, emailed links, and finishing a sign-in step."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.domain import accounts, audit, two_step
from portal.domain.models import User, UserSession
from portal.domain.people import Viewer
from portal.settings import Settings
from portal.web.links import path_for, redirect_to
from portal.web.sessions import HalfSession, Sessions


def home_for(viewer: Viewer) -> str:
    """The name of the route a signed-in person starts from."""
    return "clients" if viewer.is_agent else "account"


def safe_next(target: str) -> str | None:
    """Only a path on this site: never '//evil.example' or an absolute URL."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def next_of(request: Request) -> str | None:
    return safe_next(request.query_params.get("next", ""))


def with_next(request: Request, name: str, next_url: str | None) -> str:
    """The path of the route called `name`, carrying where to go after it."""
    return path_for(request, name, query={"next": next_url or ""})


def go_on(request: Request, next_url: str | None) -> RedirectResponse:
    """To the page asked for, or to the start page, which sends each person to their own home."""
    return RedirectResponse(next_url, status_code=303) if next_url else redirect_to(request, "start")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def source_of(request: Request) -> str:
    """Where the attempt came from, for the per-source limits. Behind a proxy, uvicorn's --proxy-headers
    (with --forwarded-allow-ips) puts the real client here."""
    return request.client.host if request.client else "unknown"


def session_record(db: Session, session_id: int) -> UserSession:
    record = db.get(UserSession, session_id)
    assert record is not None  # the session was loaded from this very row this request
    return record


def saved(db: Session, session_id: int, key: str) -> Any:
    return session_record(db, session_id).journeys.get("accounts", {}).get(key)


def save(db: Session, session_id: int, **values: Any) -> None:
    """Kept in the session on the server (a TOTP secret being set up, a WebAuthn challenge): nothing a person
    could alter in a hidden field. Works for half sessions too, unlike portal.web.journeys."""
    record = session_record(db, session_id)
    merged = {**record.journeys.get("accounts", {}), **values}
    record.journeys = {**record.journeys, "accounts": merged}
    db.add(record)


def begin_session(request: Request, db: Session, user: User, next_url: str | None) -> Response:
    """The password (or an emailed link) checked: on to the second step, to setting one up (every member of an
    agent firm must have one), or, for someone without one, straight in."""
    sessions = sessions_of(request)
    if two_step.has_methods(db, user.id):
        response: Response = redirect_to(request, "second_step", query={"next": next_url or ""})
        sessions.start(db, request, user, response, second_step_done=False)
        audit.record(db, "password_accepted", authority="self", actor_user_id=user.id)
        return response
    if two_step.required(db, user.id):
        response = redirect_to(request, "set_up_second_step", query={"next": next_url or ""})
        sessions.start(db, request, user, response, second_step_done=False)
        audit.record(db, "password_accepted", authority="self", actor_user_id=user.id)
        return response
    response = go_on(request, next_url)
    sessions.start(db, request, user, response, second_step_done=True)
    accounts.clear_sign_in_failures(db, user.email)
    audit.record(db, "signed_in", authority="self", actor_user_id=user.id)
    return response


def finish_second_step(request: Request, db: Session, half: HalfSession, response: Response, method: str) -> None:
    """Both steps passed: a new session identifier again (ASVS 5.0 7.2.4), and the lock counts start over."""
    user = db.get(User, half.user_id)
    assert user is not None
    sessions_of(request).start(db, request, user, response, second_step_done=True)
    accounts.clear_sign_in_failures(db, user.email)
    two_step.clear_wrong_codes(db, user.id)
    audit.record(db, "signed_in", authority="self", actor_user_id=user.id, method=method)


def rp_id(request: Request) -> str:
    return settings_of(request).webauthn_rp_id or request.url.hostname or "localhost"


def origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")
