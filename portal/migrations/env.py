"""Alembic environment: runs against the engine portal.migrate hands over, or alembic.ini's URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import portal.domain.account_models  # noqa: F401  (registers every table on SQLModel.metadata)
import portal.domain.api_models  # noqa: F401
import portal.domain.models  # noqa: F401
import portal.domain.outbox_models  # noqa: F401
import portal.domain.team_models  # noqa: F401
from portal.domain.sql import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("No database: alembic.ini sets no sqlalchemy.url and no connection was handed over")
    engine = make_engine(url)
    with engine.connect() as connection:
        _run_with(connection)


def _run_with(connection: Connection) -> None:
    # render_as_batch lets SQLite alter tables (it copies them), which plain ALTER cannot do there.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
