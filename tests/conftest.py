"""Fixtures for the fast tests. Each test gets an empty database: in-memory SQLite by default, or the
PostgreSQL named by TEST_DATABASE_URL (the test command runs the suite once on each)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element

import html5lib
import httpx2 as httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.app import create_app
from portal.domain.sql import make_engine, unit_of_work
from portal.settings import Settings
from tests import factories
from tests.links import links_in, unrouted
from tests.oauth_dance import Api, access_for

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(database_url=POSTGRES_URL or "sqlite://", secret_key="test-secret-key-" + "x" * 32,
                    environment="test")


@pytest.fixture(scope="session")
def postgres_engine(settings: Settings) -> Iterator[Engine | None]:
    """A database of this test session's own on the server TEST_DATABASE_URL names, dropped at the end, so
    two test runs (two developers, or CI beside a developer) never share tables."""
    if not POSTGRES_URL:
        yield None
        return
    server = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}"'))
    server.dispose()


@pytest.fixture
def engine(postgres_engine: Engine | None) -> Iterator[Engine]:
    if postgres_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield postgres_engine
        return
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def file_engine(postgres_engine: Engine | None, engine: Engine, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """For tests of concurrent requests: an in-memory SQLite database is one shared connection, so two
    threads cannot hold two transactions on it the way two workers do on the real file or on PostgreSQL."""
    if postgres_engine is not None:
        yield engine
        return
    file_backed = make_engine(f"sqlite:///{tmp_path / 'concurrent.db'}")
    SQLModel.metadata.create_all(file_backed)
    yield file_backed
    file_backed.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging a test's data; it commits when the test's arrangement block ends."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _check_html(response: httpx.Response) -> Element | None:
    """Every HTML response must parse: a whole document as a document, an htmx partial as a fragment."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return None
    response.read()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    body = response.text
    if body.lstrip().lower().startswith("<!doctype"):
        return parser.parse(body)  # type: ignore[no-any-return]
    return parser.parseFragment(body)  # type: ignore[no-any-return]


def _check_html_and_links(app: Starlette) -> Callable[[httpx.Response], None]:
    """...and every link and form on it leads to a route of the app (tests/links.py): a typo fails here, not
    only in the end-to-end tests."""

    def check(response: httpx.Response) -> None:
        tree = _check_html(response)
        if tree is not None:
            broken = unrouted(app, links_in(tree))
            assert not broken, f"{response.request.url.path} links to no route: {broken}"

    return check


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    return create_app(settings=settings, engine=engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        test_client.event_hooks["response"].append(_check_html_and_links(app))
        yield test_client


@pytest.fixture
def world(engine: Engine, settings: Settings) -> factories.World:
    """Two firms, their people and clients: enough to prove who can see what."""
    with unit_of_work(engine) as session:
        return factories.build_world(session, settings)


@pytest.fixture
def api(client: TestClient, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr("portal.api.http.RATE_LIMIT", 1000)  # the limit has its own test
    _app, tokens = access_for(client, "agent@example.com")
    return Api(client, str(tokens["access_token"]), world.firm.arn)


@pytest.fixture
def two_workers(file_engine: Engine, settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one database, as two worker processes are."""
    with unit_of_work(file_engine) as db:
        factories.build_world(db, settings)
    with TestClient(create_app(settings=settings, engine=file_engine), follow_redirects=False) as one, \
            TestClient(create_app(settings=settings, engine=file_engine), follow_redirects=False) as two:
        yield one, two
