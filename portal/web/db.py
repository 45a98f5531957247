"""The one unit of work per request: a connection, and an ORM Session inside it, committed by the middleware."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
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
        engines: _Engines = state[_ENGINES_KEY]
        writes = request.method not in SAFE_METHODS or state.get(_WRITES_KEY)
        active = (engines.writing if writes else engines.reading).connect()
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
    rate limit), so on SQLite it takes the write lock at BEGIN rather than failing to upgrade to it mid-way.

    A GET that writes without saying so works alone and fails under load: SQLite refuses at once ("database is
    locked") to turn a read into a write once another write has committed since the read began. Tests run with
    `refuse_unannounced_writes`, which makes any such write fail every time instead."""
    request.scope["state"][_WRITES_KEY] = True


def write_on_its_own(request: Request, statement: Executable) -> None:
    """A small write that is not part of what the request does (a session's last-seen time, which every page
    moves on now and then): made in a transaction of its own once the request's has ended, so a page that only
    reads stays a read. It is not worth an error page: if it fails, it is logged and the next request tries."""
    request.scope["state"].setdefault(_ON_ITS_OWN_KEY, []).append(statement)


class UnannouncedWrite(RuntimeError):
    """A GET (or HEAD) wrote without calling will_write() first: see will_write()."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES_KEY = "portal.will_write"
_KEEP_KEY = "portal.keep_despite_refusal"
_ENGINE_KEY = "engine"
_ENGINES_KEY = "portal.engines"
_CONNECTION_KEY = "portal.db_connection"
_SESSION_KEY = "portal.db_session"
_ON_ITS_OWN_KEY = "portal.write_on_its_own"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
logger = logging.getLogger(__name__)


class _Engines:
    """The engine a request's transaction begins on: one that takes SQLite's write lock at BEGIN for requests
    that write, and one that does not for those that only read (PostgreSQL ignores the difference)."""

    def __init__(self, engine: Engine, *, refuse_unannounced_writes: bool) -> None:
        self.own = engine
        self.writing = engine.execution_options(sqlite_begin="IMMEDIATE")
        self.reading = engine
        if refuse_unannounced_writes:
            self.reading = engine.execution_options()  # an engine of its own, whose events `writing` does not share
            event.listen(self.reading, "before_cursor_execute", _refuse_write)


def _refuse_write(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):
        raise UnannouncedWrite(f"A request that only reads wrote: call will_write(request) before its first "
                               f"query, or write_on_its_own(request, ...). The statement: {statement[:200]}")


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, *, refuse_unannounced_writes: bool = False) -> None:
        self.app = app
        self.engine = engine
        self.engines = _Engines(engine, refuse_unannounced_writes=refuse_unannounced_writes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[_ENGINE_KEY] = self.engine
        state[_ENGINES_KEY] = self.engines

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
        _end(active, session, commit=commit)
    finally:
        _write_on_its_own(state)


def _end(active: Connection, session: Session | None, *, commit: bool) -> None:
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


def _write_on_its_own(state: dict[str, Any]) -> None:
    statements: list[Executable] = state.pop(_ON_ITS_OWN_KEY, [])
    if not statements:
        return
    engines: _Engines = state[_ENGINES_KEY]
    try:
        with engines.own.begin() as own:  # SQLite: a transaction whose first statement writes waits for the lock
            for statement in statements:
                own.execute(statement)
    except DBAPIError:
        logger.exception("A write made on its own failed; the next request will make it again")
