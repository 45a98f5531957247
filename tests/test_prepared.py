"""A PreparedRead gives exactly the rows Connection.execute gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from portal.areas import clients
from portal.domain.models import Obligation, UserSession, utcnow
from portal.domain.people import Viewer
from portal.domain.sql import unit_of_work
from portal.web.prepared import PreparedRead
from portal.web.sessions import VIEWER_QUERY
from tests.factories import World


def _same_rows(engine: Engine, prepared: PreparedRead, params: dict[str, object]) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        ours = prepared.all(connection, params)
        theirs = [tuple(row) for row in connection.execute(prepared.statement, params)]
    assert ours == theirs
    for our_row, their_row in zip(ours, theirs, strict=True):  # equal is not enough: "2026-01-05" != date(...)
        assert [type(value) for value in our_row] == [type(value) for value in their_row]
    return ours


def test_the_session_lookup_reads_what_sqlalchemy_reads(engine: Engine, world: World) -> None:
    with unit_of_work(engine) as db:
        db.add(UserSession(token_hash="a" * 64, user_id=world.agent.id))
    rows = _same_rows(engine, VIEWER_QUERY, {"token_hash": "a" * 64})
    assert len(rows) == 1 and rows[0].email == "agent@example.com" and rows[0].firm_name == "Harbour Tax"
    assert _same_rows(engine, VIEWER_QUERY, {"token_hash": "b" * 64}) == []


SEARCHES = [clients.ClientSearch(text, regime) for text, regime in itertools.product(
    ["", "granite", "jane whit", "a b c d e", "101747696", "AB123456C", "!!"], ["", "VAT", "ITSA"])]


@pytest.mark.parametrize("restricted", [False, True])
def test_every_shape_of_client_search_reads_what_sqlalchemy_reads(engine: Engine, world: World,
                                                                   restricted: bool) -> None:
    viewer = Viewer(world.staff.id, "Staff", "staff@example.com", 1, world.firm.id, "Harbour Tax", None,
                    "standard", access_groups_enabled=restricted)
    found = 0
    for search in SEARCHES:
        query = clients._page_query(*search.shape(viewer))
        for offset in (0, 1, 20):
            found += len(_same_rows(engine, query, search.params(viewer) | {"limit": 20, "offset": offset}))
    assert found > 0  # the comparisons above were not all of empty results


def test_dates_and_literals_come_through_as_sqlalchemy_gives_them(engine: Engine, world: World) -> None:
    table = Obligation.__table__  # type: ignore[attr-defined]
    soonest = PreparedRead(select(table.c.due_date, table.c.kind).where(table.c.taxpayer_id == bindparam("who"))
                           .order_by(table.c.due_date).limit(1))  # LIMIT 1 is a value the statement carries
    rows = _same_rows(engine, soonest, {"who": world.itsa_client.id})
    assert rows == [(date.today() + timedelta(days=5), "VAT return")]


def test_it_reads_inside_the_callers_transaction(engine: Engine, world: World) -> None:
    query = PreparedRead(select(UserSession.__table__.c.id).where(  # type: ignore[attr-defined]
        UserSession.__table__.c.token_hash == bindparam("token_hash")))  # type: ignore[attr-defined]
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(UserSession.__table__.insert(), {  # type: ignore[attr-defined]
            "token_hash": "c" * 64, "user_id": world.agent.id, "created_at": utcnow(),
            "last_seen_at": utcnow(), "journeys": {}})
        assert len(query.all(connection, {"token_hash": "c" * 64})) == 1  # its own uncommitted row
        transaction.rollback()
    with engine.connect() as connection:
        assert query.all(connection, {"token_hash": "c" * 64}) == []


def test_a_statement_whose_sql_changes_per_execution_is_refused(engine: Engine) -> None:
    table = Obligation.__table__  # type: ignore[attr-defined]
    expanding = PreparedRead(select(table.c.id).where(table.c.regime.in_(bindparam("regimes", expanding=True))))
    with engine.connect() as connection, pytest.raises(ValueError, match="does not change"):
        expanding.all(connection, {"regimes": ["VAT"]})
