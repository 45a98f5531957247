from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from portal.domain.sql import make_engine
from portal.migrate import upgrade
from tests.conftest import POSTGRES_URL


@pytest.fixture
def empty_database(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A database with no tables at all: a SQLite file, or a new database on the PostgreSQL server under test."""
    if not POSTGRES_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    server = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"portal_migrate_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}"'))
    server.dispose()


def test_the_migrations_build_exactly_the_schema_the_models_describe(empty_database: Engine) -> None:
    engine = empty_database
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert differences == []
        assert "alembic_version" in inspect(connection).get_table_names()
    upgrade(engine)  # running it again changes nothing and does not fail


def test_names_already_in_the_database_are_indexed_for_search_by_the_migration(empty_database: Engine) -> None:
    from alembic import command

    from portal.migrate import alembic_config

    config = alembic_config()
    with empty_database.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(text("INSERT INTO taxpayer (client_type, name, address_line1, address_line2, town, "
                                "postcode, country, email, phone, created_at) VALUES ('business', "
                                "'Harbour Print & Sons Ltd', '', '', '', '', 'GB', '', '', CURRENT_TIMESTAMP)"))
    upgrade(empty_database)
    with empty_database.connect() as connection:
        words = connection.execute(text("SELECT word FROM taxpayer_name_word ORDER BY word")).scalars().all()
    assert words == ["harbour", "ltd", "print", "sons"]
