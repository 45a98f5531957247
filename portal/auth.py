"""Signing in and out, and the server-side sessions behind the signed cookie."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import URLSafeSerializer
from sqlalchemy import bindparam, select, update
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import audit, ratelimits
from portal.db import connection, transaction
from portal.forms import Form, read_form
from portal.models import Firm, Membership, User, UserSession, utcnow
from portal.prepared import PreparedRead
from portal.rendering import render
from portal.security import SESSION_TOKEN_HASH, CookieNames, token_hash
from portal.settings import Settings

# Seen-at is written at most once a minute, so reading a page is not a write on every request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, with their agent services account if they have one."""

    user_id: int
    name: str
    email: str
    session_id: int
    firm_id: int | None = None
    firm_name: str | None = None
    arn: str | None = None
    role: str | None = None
    access_groups_enabled: bool = False

    @property
    def is_agent(self) -> bool:
        return self.firm_id is not None

    @property
    def is_firm_admin(self) -> bool:
        return self.role == "admin"


# Every signed-in request runs it, so it runs on the driver directly (portal.prepared).
_session, _user = UserSession.__table__, User.__table__  # type: ignore[attr-defined]
_membership, _firm = Membership.__table__, Firm.__table__  # type: ignore[attr-defined]
VIEWER_QUERY = PreparedRead(
    select(_session.c.id.label("session_id"), _session.c.created_at, _session.c.last_seen_at,
           _user.c.id.label("user_id"), _user.c.name, _user.c.email, _membership.c.firm_id, _membership.c.role,
           _firm.c.name.label("firm_name"), _firm.c.arn, _firm.c.access_groups_enabled)
    .join(_user, _user.c.id == _session.c.user_id)
    .outerjoin(_membership, _membership.c.user_id == _user.c.id)
    .outerjoin(_firm, _firm.c.id == _membership.c.firm_id)
    .where(_session.c.token_hash == bindparam("token_hash"), _session.c.ended_at.is_(None))
)


def _aware(moment: datetime) -> datetime:
    # Core reads bypass SQLModel's UTC type on SQLite, which stores UTC without an offset.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SignInRequired(Exception):
    """Raised by require_viewer; portal.app answers it with a redirect to the sign-in page."""


def password_hasher(settings: Settings) -> PasswordHasher:
    if settings.environment == "test":
        # Tests sign in hundreds of times; the production cost (~180 ms a hash here) would dominate them.
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(settings: Settings, password: str) -> str:
    return password_hasher(settings).hash(password)


class Sessions:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cookies = CookieNames(settings)
        self.signer = URLSafeSerializer(settings.secret_key, salt="session")
        self.hasher = password_hasher(settings)
        # Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def start(self, db: Session, user: User, response: Response) -> None:
        token = secrets.token_urlsafe(32)
        db.add(UserSession(token_hash=token_hash(token), user_id=user.id))
        response.headers.append("set-cookie", self.cookies.header(self.cookies.session, self.signer.dumps(token)))

    def end(self, db: Session, viewer: Viewer, response: Response) -> None:
        record = db.get(UserSession, viewer.session_id)
        if record is not None and record.ended_at is None:
            record.ended_at = utcnow()
            record.journeys = {}  # half-finished answers (and any invitation link) go with the session
        response.headers.append("set-cookie", self.cookies.header(self.cookies.session, "", max_age=0))

    def load(self, request: Request) -> Viewer | None:
        # The CSRF middleware has already checked the cookie's signature and hashed its token.
        hashed = request.scope["state"].get(SESSION_TOKEN_HASH)
        if hashed is None:
            return None
        db = connection(request)
        row = VIEWER_QUERY.first(db, {"token_hash": hashed})
        if row is None:
            return None
        now = utcnow()
        created_at, last_seen_at = _aware(row.created_at), _aware(row.last_seen_at)
        if self._expired(created_at, last_seen_at, now):
            db.execute(update(UserSession).where(UserSession.id == row.session_id).values(ended_at=now))
            return None
        if now - last_seen_at > LAST_SEEN_RESOLUTION:
            db.execute(update(UserSession).where(UserSession.id == row.session_id).values(last_seen_at=now))
        return Viewer(row.user_id, row.name, row.email, row.session_id, row.firm_id, row.firm_name, row.arn,
                      row.role, bool(row.access_groups_enabled))

    def _expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        idle = timedelta(seconds=self.settings.session_idle_seconds)
        absolute = timedelta(seconds=self.settings.session_absolute_seconds)
        return now - last_seen_at > idle or now - created_at > absolute

    def authenticate(self, db: Session, email: str, password: str) -> User | None:
        user = db.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()
        try:
            self.hasher.verify(user.password_hash if user else self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return user


def current_viewer(request: Request) -> Viewer | None:
    if "viewer" not in request.state._state:
        request.state.viewer = request.app.state.sessions.load(request)
    return request.state.viewer


def require_viewer(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise SignInRequired()
    return viewer


def home_for(viewer: Viewer) -> str:
    return "/clients" if viewer.is_agent else "/account"


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
        form.error("email", f"Email address must be {MAX_EMAIL_LENGTH} characters or fewer")
    if not form.get("password"):
        form.error("password", "Enter your password")
    if not form.ok:
        return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})
    db = transaction(request)
    user = _check_credentials(request, db, sessions, form)
    if user is None:
        form.values["password"] = ""  # never echo a password back into the page
        return render(request, "auth/sign_in.html", {"form": form, "next_url": next_url})
    response = RedirectResponse(next_url or "/", status_code=303)
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
    response = RedirectResponse("/signed-out", status_code=303)
    if viewer is not None:
        db = transaction(request)
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
