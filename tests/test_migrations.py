from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from portal.db import make_engine
from portal.migrate import upgrade


def test_the_migrations_build_exactly_the_schema_the_models_describe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert differences == []
        assert "alembic_version" in inspect(connection).get_table_names()
    upgrade(engine)  # running it again changes nothing and does not fail
