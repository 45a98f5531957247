"""The database without the web: engines, a unit of work for scripts, and SQL helpers shared by queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import String, Table, event
from sqlalchemy.engine import Connection, CursorResult, Engine, Result, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, SQLModel, create_engine


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core Table, for queries that skip the ORM (prebuilt, bulk or in event listeners)."""
    # SQLModel sets __table__ on every table=True class, but its stubs do not declare the attribute.
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


class comma_list(FunctionElement[str]):  # noqa: N801 (named like the SQL functions it stands for)
    """Values joined with commas. SQLAlchemy's aggregate_strings sends the separator as a post-compile
    parameter, which re-renders the SQL on every execution; this one is plain SQL the compiled cache keeps."""

    type = String()
    inherit_cache = True


@compiles(comma_list, "sqlite")
def _comma_list_sqlite(element: comma_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(comma_list, "postgresql")
def _comma_list_postgresql(element: comma_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. Session.execute is typed to return a plain Result; for those
    statements it is a CursorResult, which carries the count."""
    return cast(CursorResult[Any], result).rowcount


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching any value that contains `text`, lower-cased: a search
    for "50%" or "a_b" finds those characters rather than treating them as wildcards."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No JIT: the portal's queries are short, and PostgreSQL compiles any whose estimated cost passes
        # jit_above_cost, which a list walked until a page is full can reach on its estimate alone: measured, a
        # 9 ms client list spent 220 ms compiling itself (issue 13's bench, 100,000 clients).
        options = " ".join(filter(None, [str(parsed.query.get("options", "")), "-c jit=off"]))  # keep the URL's own
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5, connect_args={"options": options})
    database = parsed.database or ":memory:"  # a URL that names no file means SQLite's in-memory database
    in_memory = database == ":memory:"
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        # An in-memory database lives in its one connection, so every user must share it.
        poolclass=StaticPool if in_memory else None,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Connection) -> None:
    # A request that will write takes SQLite's write lock when it begins. A deferred transaction that reads
    # and then writes fails at once ("database is locked") if another write committed in between, where it
    # should have waited its turn: two clicks on "Accept" must queue, not crash.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    # Straight to the driver: every request begins one, and SQLAlchemy's statement path costs more than it.
    driver: Any = connection.connection.driver_connection  # sqlite3's connection, typed Any | None
    driver.execute(f"BEGIN {mode}")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
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
    uses db_session(request)."""
    # expire_on_commit=False keeps loaded rows readable after commit, e.g. to build a redirect URL.
    with Session(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session, \
            session.begin():
        yield session


