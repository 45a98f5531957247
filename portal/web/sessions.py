"""The server-side sessions behind the signed cookie, and who the signed-in person is."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import Update, bindparam, select, update
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import Response

from portal.domain import audit
from portal.domain.accounts import PasswordChecker, end_oldest_sessions, end_sessions, token_hash
from portal.domain.models import Firm, Membership, User, UserSession, utcnow
from portal.domain.people import Viewer
from portal.domain.sql import table_of
from portal.domain.times import aware
from portal.settings import Settings
from portal.web.db import connection, write_on_its_own
from portal.web.i18n import remember_at_sign_in
from portal.web.prepared import PreparedRead
from portal.web.security import SESSION_TOKEN_HASH, CookieNames

# Seen-at is written at most once a minute, so reading a page is not a write on every request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


# Every signed-in request runs it, so it runs on the driver directly (portal.web.prepared).
_session, _user = table_of(UserSession), table_of(User)
_membership, _firm = table_of(Membership), table_of(Firm)
VIEWER_QUERY = PreparedRead(
    select(_session.c.id.label("session_id"), _session.c.created_at, _session.c.last_seen_at,
           _session.c.second_step_done, _user.c.id.label("user_id"), _user.c.name, _user.c.email,
           _membership.c.firm_id, _membership.c.role, _firm.c.name.label("firm_name"),
           _firm.c.arn, _firm.c.access_groups_enabled)
    .join(_user, _user.c.id == _session.c.user_id)
    .outerjoin(_membership, _membership.c.user_id == _user.c.id)
    .outerjoin(_firm, _firm.c.id == _membership.c.firm_id)
    .where(_session.c.token_hash == bindparam("token_hash"), _session.c.ended_at.is_(None))
)


class SignInRequired(Exception):
    """Raised by require_viewer; portal.app answers it with a redirect to the sign-in page."""


class SecondStepRequired(SignInRequired):
    """Raised by require_viewer for a session that has passed the password but not the second step."""


@dataclass(frozen=True)
class HalfSession:
    """A session past the password (or an emailed link) but not yet past the second step. It reaches only the
    second-step pages: current_viewer is None for it everywhere else."""

    session_id: int
    user_id: int
    name: str
    email: str


HALF_SESSION = "half_session"  # request state: the HalfSession, when that is what the cookie holds
TIMED_OUT = "session_timed_out"  # request state: the cookie's session ended by the idle or absolute limit
SEEN_AT = "session_seen_at"  # request state: the session's last-seen time as the server now holds it


class Sessions:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cookies = CookieNames(settings)
        self.signer = URLSafeSerializer(settings.secret_key, salt="session")
        # One hash's work whether or not the email has an account (portal.domain.accounts).
        self.passwords = PasswordChecker(settings)

    def start(self, db: Session, request: Request, user: User, response: Response, *,
              second_step_done: bool) -> UserSession:
        """A new session with a new identifier (ASVS 5.0 7.2.4): at sign-in, and again once the second step is
        passed. Any session this browser held before ends on the server, so an older cookie is worthless."""
        previous = request.scope.get("state", {}).get(SESSION_TOKEN_HASH)
        if previous is not None:
            db.execute(update(UserSession).where(col(UserSession.token_hash) == previous,
                                                 col(UserSession.ended_at).is_(None))
                       .values(ended_at=utcnow(), journeys={}))
        token = secrets.token_urlsafe(32)  # 256 bits from the OS's CSPRNG
        now = utcnow()
        record = UserSession(token_hash=token_hash(token), user_id=user.id, second_step_done=second_step_done,
                             reauthenticated_at=now if second_step_done else None, created_at=now,
                             last_seen_at=now, user_agent=request.headers.get("user-agent", "")[:300])
        db.add(record)
        db.flush()
        if second_step_done:
            idle = timedelta(seconds=self.settings.session_idle_seconds)
            ended = end_oldest_sessions(db, user.id, allowed=self.settings.sessions_per_account, idle=idle)
            if ended:
                audit.record(db, "sessions_ended_over_limit", authority="self", actor_user_id=user.id,
                             count=len(ended))
        response.headers.append("set-cookie", self.cookies.header(self.cookies.session, self.signer.dumps(token)))
        # Anyone's last search of clients left in this browser (a shared computer) is forgotten: the cookie is
        # sent to /clients only, so the sign-in cannot see whether there is one.
        response.headers.append("set-cookie", self.cookies.clients_view_header(""))
        remember_at_sign_in(db, request, user, response, self.settings)  # the language follows the person
        return record

    def rotate(self, db: Session, session_id: int, response: Response) -> None:
        """A new identifier for the same session, after re-authentication ("Confirm it is you", ASVS 5.0 7.2.4):
        the old cookie stops working at once, and the session keeps its answers and its place in the limits."""
        token = secrets.token_urlsafe(32)
        db.execute(update(UserSession).where(col(UserSession.id) == session_id, col(UserSession.ended_at).is_(None))
                   .values(token_hash=token_hash(token)))
        response.headers.append("set-cookie", self.cookies.header(self.cookies.session, self.signer.dumps(token)))

    def restart_for_second_step(self, db: Session, request: Request, user: User, response: Response) -> None:
        """Someone who has just become a member of an agent firm (joined one, or registered one) and has no second
        step yet: every session of theirs ends, those of other browsers too, and this browser's starts again as a
        half session, which reaches nothing but setting the second step up (`two_step.required` holds from now)."""
        end_sessions(db, user.id)
        self.start(db, request, user, response, second_step_done=False)

    def renew(self, request: Request) -> bool:
        """The timeout dialog's "Stay signed in": the session's last-seen time, and nothing else, moves on."""
        viewer = current_viewer(request)
        if viewer is None:
            return False
        write_on_its_own(request, _this_session(viewer.session_id).values(last_seen_at=utcnow()))
        return True

    def end(self, db: Session, viewer: Viewer, response: Response) -> None:
        record = db.get(UserSession, viewer.session_id)
        if record is not None and record.ended_at is None:
            record.ended_at = utcnow()
            record.journeys = {}  # half-finished answers (and any invitation link) go with the session
        response.headers.append("set-cookie", self.cookies.header(self.cookies.session, "", max_age=0))
        response.headers.append("set-cookie", self.cookies.clients_view_header(""))  # their last search of clients

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
        # The session's own bookkeeping is written on its own, after this request's transaction: a page that
        # only reads must not turn its read into a write (see portal.web.db.will_write).
        if self._expired(created_at, last_seen_at, now):
            write_on_its_own(request, _this_session(row.session_id).values(ended_at=now))
            request.state._state[TIMED_OUT] = True
            return None
        if now - last_seen_at > LAST_SEEN_RESOLUTION:
            write_on_its_own(request, _this_session(row.session_id).values(last_seen_at=now))
            last_seen_at = now
        if not row.second_step_done:
            request.state._state[HALF_SESSION] = HalfSession(row.session_id, row.user_id, row.name, row.email)
            return None
        request.state._state[SEEN_AT] = last_seen_at
        return Viewer(row.user_id, row.name, row.email, row.session_id, row.firm_id, row.firm_name, row.arn,
                      row.role, bool(row.access_groups_enabled))

    def _expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        idle = timedelta(seconds=self.settings.session_idle_seconds)
        absolute = timedelta(seconds=self.settings.session_absolute_seconds)
        return now - last_seen_at > idle or now - created_at > absolute



def _this_session(session_id: int) -> Update:
    """An UPDATE of one session's row, built only when a page has something to write there."""
    return update(UserSession).where(col(UserSession.id) == session_id)


def current_viewer(request: Request) -> Viewer | None:
    if "viewer" not in request.state._state:
        request.state.viewer = request.app.state.sessions.load(request)
    viewer: Viewer | None = request.state.viewer
    return viewer


def half_signed_in(request: Request) -> HalfSession | None:
    """The session waiting for its second step, for the second-step pages only."""
    current_viewer(request)
    half: HalfSession | None = request.state._state.get(HALF_SESSION)
    return half


def seconds_left(request: Request) -> int | None:
    """How long the signed-in session has left before the idle limit, as the server counts it: the timeout
    dialog's clock starts from this, so its warning never comes after the server has already ended the session."""
    seen_at: datetime | None = request.state._state.get(SEEN_AT)
    if current_viewer(request) is None or seen_at is None:
        return None
    idle = timedelta(seconds=request.app.state.settings.session_idle_seconds)
    return max(0, int((seen_at + idle - utcnow()).total_seconds()))


def timed_out(request: Request) -> bool:
    current_viewer(request)
    return bool(request.state._state.get(TIMED_OUT))


def require_viewer(request: Request) -> Viewer:
    """The signed-in person, past both steps; anyone else is sent to sign in (or to their second step)."""
    viewer = current_viewer(request)
    if viewer is None:
        if request.state._state.get(HALF_SESSION) is not None:
            raise SecondStepRequired()
        raise SignInRequired()
    return viewer


