"""A request's one transaction, under load: a page must not fail because another request or the worker wrote
while it was reading.

On SQLite a transaction that began by reading cannot start writing once another write has committed since its
read: SQLite answers "database is locked" at once, without waiting its turn. So a request that writes takes the
write lock when it begins (will_write), and a page that only reads leaves its session's bookkeeping to a
transaction of its own (write_on_its_own). The tests below commit a write from another thread just before the
request's first write, after it has read, as the email worker did in CI when it failed a browser test this way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain.models import Firm, UserSession, utcnow
from portal.domain.sql import unit_of_work
from portal.domain.times import aware
from portal.settings import Settings
from portal.web.db import UnannouncedWrite, UnitOfWorkMiddleware, connection, will_write
from tests import factories


@contextmanager
def another_write_commits_just_before_the_next_write(engine: Engine) -> Iterator[list[BaseException]]:
    """Once, just before the next statement that writes on `engine`, after whatever the request has read:
    another thread commits a write. It waits only a moment for it, since a request that holds the write lock
    makes the other thread queue until it commits."""
    armed = threading.Event()
    armed.set()
    failures: list[BaseException] = []
    threads: list[threading.Thread] = []

    def write() -> None:
        try:
            with engine.begin() as other:
                other.execute(update(Firm).values(name=Firm.name + "."))  # SQLite skips a write that changes nothing
        except BaseException as failure:  # noqa: BLE001 - handed to the test, which fails on it
            failures.append(failure)

    def before_write(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed.is_set() and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            armed.clear()
            thread = threading.Thread(target=write)
            thread.start()
            thread.join(timeout=0.5)
            threads.append(thread)

    event.listen(engine, "before_cursor_execute", before_write)
    try:
        yield failures
    finally:
        event.remove(engine, "before_cursor_execute", before_write)
        for thread in threads:
            thread.join()
    assert not armed.is_set(), "the request never wrote, so nothing raced it"


@pytest.fixture
def signed_in(file_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with unit_of_work(file_engine) as db:
        factories.build_world(db, settings)
    with TestClient(create_app(settings=settings, engine=file_engine), follow_redirects=False) as client:
        factories.sign_in(client, "agent@example.com")
        yield client


def test_a_page_that_saves_something_as_it_shows_waits_for_a_write_that_commits_meanwhile(
        signed_in: TestClient, file_engine: Engine) -> None:
    # The page keeps the new authenticator app's secret in the session as it shows it.
    with another_write_commits_just_before_the_next_write(file_engine) as failures:
        response = signed_in.get("/account/security/authenticator-app")
    assert response.status_code == 200, response.text
    assert "Set up an authenticator app" in response.text
    assert not failures


def test_moving_a_sessions_last_seen_time_on_does_not_fail_a_page_that_only_reads(
        signed_in: TestClient, file_engine: Engine) -> None:
    a_while_ago = utcnow() - timedelta(minutes=5)
    with file_engine.begin() as db:
        db.execute(update(UserSession).where(col(UserSession.ended_at).is_(None)).values(last_seen_at=a_while_ago))
    with another_write_commits_just_before_the_next_write(file_engine) as failures:
        response = signed_in.get("/account")
    assert response.status_code == 200, response.text
    assert not failures
    with Session(file_engine) as db:
        seen = db.execute(select(col(UserSession.last_seen_at)).where(col(UserSession.ended_at).is_(None))).scalar_one()
    assert aware(seen) > a_while_ago  # moved on, in a transaction of its own


def _app_writing_on_get(engine: Engine, *, announced: bool) -> Starlette:
    async def page(request: Request) -> PlainTextResponse:
        if announced:
            will_write(request)
        connection(request).execute(select(1))
        connection(request).execute(text("UPDATE firm SET name = name"))
        return PlainTextResponse("written")

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(UnitOfWorkMiddleware, engine=engine, refuse_unannounced_writes=True)
    return app


def test_in_tests_a_get_that_writes_without_saying_so_fails_every_time(engine: Engine) -> None:
    with TestClient(_app_writing_on_get(engine, announced=False)) as client, pytest.raises(UnannouncedWrite):
        client.get("/")
    with TestClient(_app_writing_on_get(engine, announced=True)) as client:
        assert client.get("/").text == "written"
