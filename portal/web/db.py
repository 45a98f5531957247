"""The one unit of work per request: a connection, and an ORM Session inside it, committed by the middleware."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def connection(request: Request) -> Connection:
    """The request's one database transaction, begun on first use.

    UnitOfWorkMiddleware commits it just before the response starts (so a redirect never races its own
    write) when the status is below 400, and rolls it back otherwise. Pages that only read with prebuilt Core
    queries (the client list, the session check) use it directly and skip the ORM Session's set-up, which
    costs more than their SQL.
    """
    state = request.scope["state"]
    active: Connection | None = state.get(_CONNECTION_KEY)
    if active is None:
        engine: Engine = state[_ENGINE_KEY]
        if request.method not in SAFE_METHODS or state.get(_WRITES_KEY):
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")  # ignored by PostgreSQL
        active = engine.connect()
        active.begin()
        state[_CONNECTION_KEY] = active
    return active


def db_session(request: Request) -> Session:
    """An ORM Session inside the request's transaction (see connection()): its flushes and savepoints happen
    there, and it never commits on its own."""
    state = request.scope["state"]
    session: Session | None = state.get(_SESSION_KEY)
    if session is None:
        # rollback_only: Session.commit() flushes but leaves the commit to the middleware; a rollback still
        # ends the whole transaction, as it should after an error.
        session = Session(bind=connection(request), expire_on_commit=False, join_transaction_mode="rollback_only")
        state[_SESSION_KEY] = session
    return session


def keep_despite_refusal(request: Request) -> None:
    """Commit this request's transaction even though it answers with an error: for the API, whose refusals are
    4xx responses where a page's are redirects, when what was recorded must stand (a failed known-fact guess
    counting towards the lock-out). Only rows the refusal itself wrote may be pending when it is called."""
    request.scope["state"][_KEEP_KEY] = True


def will_write(request: Request) -> None:
    """Before the first query: this request writes whatever its method (the API counts every request towards its
    rate limit), so on SQLite it takes the write lock at BEGIN rather than failing to upgrade to it mid-way."""
    request.scope["state"][_WRITES_KEY] = True


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES_KEY = "portal.will_write"
_KEEP_KEY = "portal.keep_despite_refusal"
_ENGINE_KEY = "engine"
_CONNECTION_KEY = "portal.db_connection"
_SESSION_KEY = "portal.db_session"


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[_ENGINE_KEY] = self.engine

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                _finish(state, commit=message["status"] < 400 or bool(state.get(_KEEP_KEY)))
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        finally:
            _finish(state, commit=False)


def _finish(state: dict[str, Any], *, commit: bool) -> None:
    session: Session | None = state.pop(_SESSION_KEY, None)
    active: Connection | None = state.pop(_CONNECTION_KEY, None)
    if active is None:
        return
    try:
        if commit:
            if session is not None:
                session.flush()  # changes still pending in the Session reach the transaction first
            active.commit()
        else:
            active.rollback()
    finally:
        if session is not None:
            session.close()
        active.close()  # a transaction still open here (a failed flush or commit) is rolled back
