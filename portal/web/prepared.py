"""Read queries on the hottest paths, run on the database driver directly.

Every signed-in request looks up its session, and the client list (the agent's home page, on every keystroke
of a search) runs one query for its page. Through Connection.execute each of those costs more Python than the
database spends answering: measured, the two took about 130 µs of a 760 µs dashboard request in SQLAlchemy's
execution machinery. A PreparedRead compiles its statement once per dialect with SQLAlchemy and then runs it
on the DBAPI cursor of the request's own connection, inside the request's transaction:

- the SQL and the bound values are what SQLAlchemy itself sends (its compiler, its bind processors);
- each column goes through its type's own result processor, so rows hold the Python values
  Connection.execute would give (tests/test_prepared.py compares the two on SQLite and PostgreSQL).

Use it for a prebuilt SELECT on a path that runs on nearly every request; everything else should go through
SQLAlchemy as usual, which is simpler and does more (events, error wrapping, statement variants).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any]


@dataclass
class _Plan:
    """The statement compiled for one dialect, and how to pass values in and read rows out."""

    sql: str
    positions: tuple[str, ...] | None  # parameter names in order for a positional paramstyle (SQLite's "?")
    defaults: dict[str, Any]  # values the statement carries itself, such as LIMIT 1
    bind_processors: dict[str, Processor]
    result_processors: list[Processor | None] | None = field(default=None)  # from the first cursor seen

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.defaults, **params}
        for name, process in self.bind_processors.items():
            values[name] = process(values[name])
        return [values[name] for name in self.positions] if self.positions is not None else values


class PreparedRead:
    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        # A row type per statement: mypy cannot type a namedtuple whose field names are known only at run time.
        self.row_type: type[Any] = namedtuple("Row", statement.selected_columns.keys(), rename=True)  # type: ignore[misc]
        self._plans: dict[str, _Plan] = {}

    def all(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples with the statement's column names."""
        dialect = connection.dialect
        plan = self._plans.get(dialect.name) or self._plan(dialect)
        driver: Any = connection.connection.driver_connection  # the DBAPI connection; None only once closed
        cursor = driver.cursor()
        try:
            cursor.execute(plan.sql, plan.parameters(params))
            if plan.result_processors is None:
                plan.result_processors = self._result_processors(dialect, cursor.description)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        make = self.row_type._make
        processors = plan.result_processors
        if not any(processors):
            return [make(row) for row in rows]
        return [make([value if process is None or value is None else process(value)
                      for process, value in zip(processors, row, strict=True)]) for row in rows]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self.all(connection, params)
        return rows[0] if rows else None

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            # Expanding IN and literal-execute parameters are rendered per execution: not supported here.
            raise ValueError("PreparedRead needs a statement whose SQL does not change between executions")
        defaults: dict[str, Any] = {}
        processors: dict[str, Processor] = {}
        for bind, name in compiled.bind_names.items():
            if not bind.required:
                defaults[name] = bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        plan = _Plan(compiled.string, positions, defaults, processors)
        self._plans[dialect.name] = plan
        return plan

    def _result_processors(self, dialect: Dialect, description: Sequence[Any]) -> list[Processor | None]:
        columns = list(self.statement.selected_columns)
        return [column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(columns, description, strict=True)]
