"""How the portal connects to PostgreSQL (portal.domain.sql.make_engine): without JIT, keeping the URL's own options.

JIT compiles a query whose estimated cost passes jit_above_cost: a client list walked until a page is full can
pass it on its estimate alone, and one 9 ms page spent 220 ms compiling itself (bench/README.md, round two)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from portal.domain.sql import make_engine


def test_connections_run_without_jit_and_keep_the_urls_options(postgres_engine: Engine | None) -> None:
    if postgres_engine is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    with postgres_engine.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar_one() == "off"
    url = make_url(postgres_engine.url.render_as_string(hide_password=False)).update_query_dict(
        {"options": "-c statement_timeout=5000"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar_one() == "off"
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "5s"
    finally:
        engine.dispose()
