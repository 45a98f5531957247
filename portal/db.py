"""Engine construction and the one unit of work per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import String, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, create_engine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class comma_list(FunctionElement[str]):  # noqa: N801 (named like the SQL functions it stands for)
    """Values joined with commas. SQLAlchemy's aggregate_strings sends the separator as a post-compile
    parameter, which re-renders the SQL on every execution; this one is plain SQL the compiled cache keeps."""

    type = String()
    inherit_cache = True


@compiles(comma_list, "sqlite")
def _comma_list_sqlite(element: comma_list, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(comma_list, "postgresql")
def _comma_list_postgresql(element: comma_list, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching any value that contains `text`, lower-cased: a search
    for "50%" or "a_b" finds those characters rather than treating them as wildcards."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5)
    in_memory = parsed.database in (None, "", ":memory:")
    if not in_memory:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        # An in-memory database lives in its one connection, so every user must share it.
        poolclass=StaticPool if in_memory else None,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # A request that will write takes SQLite's write lock when it begins. A deferred transaction that reads
    # and then writes fails at once ("database is locked") if another write committed in between, where it
    # should have waited its turn: two clicks on "Accept" must queue, not crash.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    # Straight to the driver: every request begins one, and SQLAlchemy's statement path costs more than it.
    connection.connection.driver_connection.execute(f"BEGIN {mode}")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # SQLAlchemy emits BEGIN itself (_sqlite_begin), so the driver must not start transactions on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers carry on while one request writes; NORMAL is durable enough with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """Commit when the block ends cleanly, roll back when it raises. For scripts and tests; a web request
    uses transaction(request)."""
    # expire_on_commit=False keeps loaded rows readable after commit, e.g. to build a redirect URL.
    with Session(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session, \
            session.begin():
        yield session


def connection(request: Request) -> Connection:
    """The request's one database transaction, begun on first use.

    UnitOfWorkMiddleware commits it just before the response starts (so a redirect never races its own
    write) when the status is below 400, and rolls it back otherwise. Pages that only read with prebuilt Core
    queries (the client list, the session check) use it directly and skip the ORM Session's set-up, which
    costs more than their SQL.
    """
    state = request.scope["state"]
    active = state.get(_CONNECTION_KEY)
    if active is None:
        engine: Engine = state[_ENGINE_KEY]
        if request.method not in SAFE_METHODS:
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")  # ignored by PostgreSQL
        active = engine.connect()
        active.begin()
        state[_CONNECTION_KEY] = active
    return active


def transaction(request: Request) -> Session:
    """An ORM Session inside the request's transaction (see connection()): its flushes and savepoints happen
    there, and it never commits on its own."""
    state = request.scope["state"]
    session = state.get(_SESSION_KEY)
    if session is None:
        # rollback_only: Session.commit() flushes but leaves the commit to the middleware; a rollback still
        # ends the whole transaction, as it should after an error.
        session = Session(bind=connection(request), expire_on_commit=False, join_transaction_mode="rollback_only")
        state[_SESSION_KEY] = session
    return session


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
                _finish(state, commit=message["status"] < 400)
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        finally:
            _finish(state, commit=False)


def _finish(state: dict, *, commit: bool) -> None:  # type: ignore[type-arg]
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
