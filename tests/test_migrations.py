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


def test_an_old_database_keeps_its_authenticator_apps_and_recovery_codes_once_they_are_sealed_and_salted(
    empty_database: Engine,
) -> None:
    """Migration 0012 on rows written before it: the demo authenticator app key (stored bare) and a recovery code
    (stored as a bare SHA-256) still sign in afterwards, and neither is readable in the database any more."""
    import dataclasses
    import hashlib

    import pyotp
    from alembic import command
    from starlette.testclient import TestClient

    from portal.app import create_app
    from portal.devdata.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
    from portal.domain.accounts import hash_password
    from portal.migrate import alembic_config
    from portal.settings import Settings
    from tests.factories import csrf_from

    settings = Settings(database_url=str(empty_database.url), secret_key="an-old-portals-secret-key-" + "z" * 24,
                        environment="test")
    old_code = "ABCD2345EFGH"
    config = alembic_config()
    with empty_database.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        connection.execute(text("INSERT INTO \"user\" (id, email, name, password_hash, created_at, email_confirmed_at)"
                                " VALUES (1, 'agent@example.com', 'Amira Reed', :hash, CURRENT_TIMESTAMP, "
                                "CURRENT_TIMESTAMP)"), {"hash": hash_password(settings, DEMO_PASSWORD)})
        connection.execute(text("INSERT INTO second_factor (user_id, kind, label, secret, counter, created_at) "
                                "VALUES (1, 'totp', 'Authenticator app', :secret, 0, CURRENT_TIMESTAMP)"),
                           {"secret": DEMO_TOTP_SECRET})
        connection.execute(text("INSERT INTO recovery_code (user_id, code_hash) VALUES (1, :hash)"),
                           {"hash": hashlib.sha256(old_code.encode()).hexdigest()})
        connection.execute(text("INSERT INTO recovery_code (user_id, code_hash) VALUES (1, :hash)"),
                           {"hash": hashlib.sha256(b"ZZZZ2345EFGH").hexdigest()})
    upgrade(empty_database, secret_key=settings.secret_key)
    with empty_database.connect() as connection:
        stored = connection.execute(text("SELECT secret FROM second_factor")).scalar_one()
        hashes = connection.execute(text("SELECT code_hash FROM recovery_code ORDER BY id")).scalars().all()
    assert DEMO_TOTP_SECRET not in stored and stored.startswith("sealed1:")
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes) and len(set(hashes)) == 2

    app = create_app(settings=dataclasses.replace(settings, database_url=str(empty_database.url)),
                     engine=empty_database)
    with TestClient(app, follow_redirects=False) as client:
        def password() -> str:
            answer = client.post("/sign-in", data={"email": "agent@example.com", "password": DEMO_PASSWORD,
                                                    "csrf_token": csrf_from(client.get("/sign-in").text)})
            return str(answer.headers["location"])
        second = password()
        assert second.startswith("/sign-in/second-step")
        page = client.get(second)
        done = client.post(second, data={"code": pyotp.TOTP(DEMO_TOTP_SECRET).now(),
                                         "csrf_token": csrf_from(page.text)})
        assert done.status_code == 303 and client.get("/account").status_code == 200
        recovery = "/sign-in/recovery-code"
        client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/account").text)})
        second = password()
        page = client.get(recovery)
        used = client.post(recovery, data={"recovery_code": "abcd-2345-efgh", "csrf_token": csrf_from(page.text)})
        assert used.status_code == 303 and client.get("/account").status_code == 200


def test_the_migration_keeps_each_clients_groups_and_tax_services_as_the_tables_say(empty_database: Engine) -> None:
    """Migration 0016 on firms that already have groups: each client's kept set of groups and regime bits are
    worked out from the group tables and authorisations (a client in a custom group and a tax-service group, one
    excluded from it, one in none), as portal.domain.group_sets would keep them."""
    from alembic import command
    from sqlmodel import Session

    from portal.domain import firm_access
    from portal.domain.sql import unit_of_work
    from portal.migrate import alembic_config
    from portal.settings import Settings
    from tests.factories import build_world
    from tests.test_group_sets import kept, truth

    upgrade(empty_database)
    settings = Settings(database_url=str(empty_database.url), secret_key="test-secret-key-" + "x" * 32,
                        environment="test")
    with unit_of_work(empty_database) as db:
        world = build_world(db, settings)
        admin = world.agent.id
        leeds = firm_access.create_group(db, firm_id=world.firm.id, actor_user_id=admin, name="Leeds")
        firm_access.add_clients(db, leeds, actor_user_id=admin, taxpayer_ids=[world.vat_client.id])
        vat = firm_access.create_tax_service_group(db, firm_id=world.firm.id, actor_user_id=admin, regime="VAT",
                                                   name="VAT")
        itsa = firm_access.create_tax_service_group(db, firm_id=world.firm.id, actor_user_id=admin, regime="ITSA",
                                                    name="IT")
        firm_access.remove_clients(db, itsa, actor_user_id=admin, taxpayer_ids=[world.itsa_client.id])
        expected = {world.vat_client.id: (frozenset({leeds.id, vat.id}), frozenset({"VAT"})),
                    world.itsa_client.id: (frozenset(), frozenset({"ITSA"}))}
    config = alembic_config()
    with empty_database.begin() as connection:  # back to before 0016: the columns and sets are gone
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    upgrade(empty_database)
    with Session(empty_database) as db:
        assert kept(db, world.firm.id) == truth(db, world.firm.id) == expected
        assert kept(db, world.other_firm.id) == {world.other_client.id: (frozenset(), frozenset({"ITSA"}))}
