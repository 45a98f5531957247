"""Bring a database to the newest schema with Alembic, the only way the schema changes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, *, secret_key: str | None = None) -> None:
    """`secret_key` is the settings' (migration 0012 seals authenticator app keys under it); without it a migration
    that needs it reads the environment as the portal would (Settings.from_environ)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["secret_key"] = secret_key
        command.upgrade(config, "head")
