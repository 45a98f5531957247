"""The server-side sessions behind the signed cookie, and who the signed-in person is."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import URLSafeSerializer
from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import Response

from portal.domain.accounts import password_hasher, token_hash
from portal.domain.models import Firm, Membership, User, UserSession, utcnow
from portal.domain.people import Viewer
from portal.domain.sql import table_of
from portal.domain.times import aware
from portal.settings import Settings
from portal.web.db import connection
from portal.web.prepared import PreparedRead
from portal.web.security import SESSION_TOKEN_HASH, CookieNames

# Seen-at is written at most once a minute, so reading a page is not a write on every request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


# Every signed-in request runs it, so it runs on the driver directly (portal.web.prepared).
_session, _user = table_of(UserSession), table_of(User)
_membership, _firm = table_of(Membership), table_of(Firm)
VIEWER_QUERY = PreparedRead(
    select(_session.c.id.label("session_id"), _session.c.created_at, _session.c.last_seen_at,
           _user.c.id.label("user_id"), _user.c.name, _user.c.email, _membership.c.firm_id, _membership.c.role,
           _firm.c.name.label("firm_name"), _firm.c.arn, _firm.c.access_groups_enabled)
    .join(_user, _user.c.id == _session.c.user_id)
    .outerjoin(_membership, _membership.c.user_id == _user.c.id)
    .outerjoin(_firm, _firm.c.id == _membership.c.firm_id)
    .where(_session.c.token_hash == bindparam("token_hash"), _session.c.ended_at.is_(None))
)


class SignInRequired(Exception):
    """Raised by require_viewer; portal.app answers it with a redirect to the sign-in page."""


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
        created_at, last_seen_at = aware(row.created_at), aware(row.last_seen_at)
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
        user = db.execute(select(User).where(col(User.email) == email.lower())).scalar_one_or_none()
        try:
            self.hasher.verify(user.password_hash if user else self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return user


def current_viewer(request: Request) -> Viewer | None:
    if "viewer" not in request.state._state:
        request.state.viewer = request.app.state.sessions.load(request)
    viewer: Viewer | None = request.state.viewer
    return viewer


def require_viewer(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise SignInRequired()
    return viewer


