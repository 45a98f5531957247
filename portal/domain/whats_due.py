"""What's due as SQL: the outstanding obligations of the clients a person may act for (the group rule,
`portal.domain.access`), filtered, counted no further than COUNT_CAP + 1, a page at a time or every row for the
CSV (`portal.areas.worklist` serves them). Built once per shape of filter, so SQLAlchemy's compiled-SQL cache
serves them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.domain.access import in_no_group_or_mine, restricted_by_groups
from portal.domain.list_filters import ListFilter, list_filter_conditions
from portal.domain.models import Authorisation, FirmClient, Obligation, Taxpayer
from portal.domain.names import name_conditions, name_params, search_words
from portal.domain.people import Viewer
from portal.domain.services import regime_name
from portal.domain.sql import table_of

PAGE_SIZE = 20
# Pages beyond this many rows are not offered: filter the list, or download it all as CSV.
COUNT_CAP = 2_000
CSV_BATCH = 2_000

_ob, _fc, _auth, _tp = table_of(Obligation), table_of(FirmClient), table_of(Authorisation), table_of(Taxpayer)
_client = _fc.alias("client")  # the firm's client row the conditions ask about (the CSV joins _fc for its reference)

# Which prebuilt query a filter needs: (by regime, from a date, to a date, how many name words or None,
# restricted to the viewer's access groups, an administrator's group or member filter).
Shape = tuple[bool, bool, bool, int | None, bool, tuple[bool, str, bool]]


@dataclass(frozen=True)
class Filters:
    regime: str = ""
    status: str = ""  # "", "overdue" or "due"
    within_days: int | None = None
    name: str = ""
    narrowed: ListFilter = ListFilter()  # an administrator's access group or team member

    def bounds(self, today: date) -> tuple[date | None, date | None]:
        """The due dates to include, inclusive at both ends (None: no limit)."""
        low = today if self.status == "due" else None
        high = today - timedelta(days=1) if self.status == "overdue" else None
        if self.within_days is not None:
            limit = today + timedelta(days=self.within_days)
            high = min(high, limit) if high else limit
        return low, high

    def shape(self, viewer: Viewer, today: date) -> Shape:
        low, high = self.bounds(today)
        name_words = len(search_words(self.name)) if self.name else None
        return (bool(self.regime), low is not None, high is not None, name_words, restricted_by_groups(viewer),
                self.narrowed.shape())

    def params(self, viewer: Viewer, today: date) -> dict[str, object]:
        low, high = self.bounds(today)
        return {"firm_id": viewer.firm_id, "user_id": viewer.user_id, "regime": self.regime, "low": low,
                "high": high, **name_params(search_words(self.name)), **self.narrowed.params()}

    def query_string(self) -> dict[str, str]:
        values = {"service": self.regime, "status": self.status,
                  "within": "" if self.within_days is None else str(self.within_days), "client": self.name}
        return {key: value for key, value in values.items() if value} | self.narrowed.query()

    @property
    def any(self) -> bool:
        return bool(self.query_string())


@dataclass(frozen=True, slots=True)
class DueRow:
    obligation_id: int
    taxpayer_id: int
    client: str
    regime: str
    kind: str
    period_start: date
    period_end: date
    due_date: date
    client_reference: str | None = None  # the firm's own name or code for the client

    def overdue(self, today: date) -> bool:
        return self.due_date < today

    @property
    def service(self) -> str:
        return regime_name(self.regime)


# --- queries: built once per shape of filter and reused, so SQLAlchemy's compiled-SQL cache serves them ---------


def _matching(with_regime: bool, low: bool, high: bool, name_words: int | None,
              restricted: bool, narrowed: tuple[bool, str, bool]) -> list[ColumnElement[bool]]:
    # The firm's client, and what the person may see of it (the rule, on its kept set of groups) and the filter:
    # asked of each obligation's client, so the database walks obligations in the list's order and stops at a
    # page. Joined instead, SQLite started from the firm's clients and sorted all their work (360 ms a page).
    client = [_client.c.firm_id == bindparam("firm_id"), _client.c.taxpayer_id == _ob.c.taxpayer_id]
    if restricted:
        client.append(in_no_group_or_mine(_client.c.group_set_id, firm_id=bindparam("firm_id"),
                                          user_id=bindparam("user_id")))
    client += list_filter_conditions(_client.c.group_set_id, narrowed)
    conditions = [
        exists(select(_client.c.taxpayer_id).where(*client)),
        _ob.c.fulfilled_on.is_(None),
        # Only the regimes the firm is authorised for: a VAT agent never sees the client's Income Tax.
        exists().where(_auth.c.firm_id == bindparam("firm_id"), _auth.c.taxpayer_id == _ob.c.taxpayer_id,
                       _auth.c.regime == _ob.c.regime, _auth.c.ended_at.is_(None)),
    ]
    if with_regime:
        conditions.append(_ob.c.regime == bindparam("regime"))
    if low:
        conditions.append(_ob.c.due_date >= bindparam("low"))
    if high:
        conditions.append(_ob.c.due_date <= bindparam("high"))
    if name_words is not None:  # as a set of clients: the planner finds the few named ones first
        conditions += name_conditions(_ob.c.taxpayer_id, name_words)
    return conditions


_COLUMNS = (_ob.c.id, _ob.c.taxpayer_id, _tp.c.name, _ob.c.regime, _ob.c.kind, _ob.c.period_start,
            _ob.c.period_end, _ob.c.due_date)
# Soonest first, then by client. Not by client name: deadlines are statutory, so tens of thousands of a big
# firm's obligations share one due date, and ordering those by a name held on another table means sorting
# them all for every page. (due_date, taxpayer_id, id) comes straight off ix_obligation_open_due.
_ORDER = (_ob.c.due_date, _ob.c.taxpayer_id, _ob.c.id)


# Pages from here on come from the first matches in the list's order; nearer ones from matches found in no order
# (`_matches_query`).
DEEP_OFFSET = 200


@cache
def _count_query(shape: Shape) -> Select[int]:
    """How many match, counting no further than `cap`: an exact count of a 100,000-client firm's work is a
    walk over hundreds of thousands of rows on every page view. In no order: the database walks whichever index
    finds them soonest."""
    matching = select(_ob.c.id).where(*_matching(*shape))
    return select(func.count()).select_from(matching.limit(bindparam("cap")).subquery())


@cache
def _page_query(shape: Shape) -> Select[Any]:
    return (select(*_COLUMNS).select_from(_ob)
            .join(_tp, _tp.c.id == _ob.c.taxpayer_id).where(*_matching(*shape))
            .order_by(*_ORDER).limit(bindparam("limit")).offset(bindparam("offset")))


def _named(page: Any, *extra: Any) -> Select[Any]:
    """A page's rows with their clients' names, joined after the page is cut: joined first, PostgreSQL hashed every
    taxpayer."""
    return (select(page.c.id, page.c.taxpayer_id, _tp.c.name, page.c.regime, page.c.kind, page.c.period_start,
                   page.c.period_end, page.c.due_date, *extra)
            .join(_tp, _tp.c.id == page.c.taxpayer_id)
            .order_by(page.c.due_date, page.c.taxpayer_id, page.c.id))


@cache
def _matches_query(shape: Shape, in_order: bool) -> Select[Any]:
    """A page, each row with the number of matches up to `cap`, from one walk: up to `cap` matches (MATERIALIZED:
    kept, not re-run) give the count and the page.

    - in_order, the first `cap` matches in the list's order: for a page far in, as every page offered lies within
      them. Counted and paged apart, a page far in walked the same obligations twice (PostgreSQL, 100,000 clients, a
      restricted user's page 50: 53 ms, 38 ms so).
    - in no order, for a first page: the database finds its matches as soonest. If there are no more than COUNT_CAP
      of them, all were found and the page is exact; past the cap they are any `cap`, and `due_page` walks the
      list's order for its page, which with plenty of matches stops soon. Walked in the list's order from the start,
      a page of a few clients' work (a name searched, a filter few match) passed every obligation due before theirs
      (PostgreSQL, 100,000 clients, "smith": 26,000 obligations read for 20 rows, 60 ms)."""
    matches = select(_ob.c.id, _ob.c.taxpayer_id, _ob.c.regime, _ob.c.kind, _ob.c.period_start, _ob.c.period_end,
                     _ob.c.due_date).where(*_matching(*shape))
    if in_order:
        matches = matches.order_by(*_ORDER)
    found = matches.limit(bindparam("cap")).cte("matches").prefix_with("MATERIALIZED")
    total = select(func.count()).select_from(found).scalar_subquery().label("total")
    return _named(select(found).order_by(found.c.due_date, found.c.taxpayer_id, found.c.id)
                  .limit(bindparam("limit")).offset(bindparam("offset")).subquery("page"), total)


@cache
def _after_query(shape: Shape) -> Select[Any]:
    """The next batch after a row, by keyset: the cost of a batch does not grow with how far in it is."""
    after = tuple_(bindparam("after_due"), bindparam("after_taxpayer"), bindparam("after_id"))
    # The CSV's rows carry the firm's client reference too; the page's do not: reading firm_client's rows (not
    # just its index) made the database plan the page query far worse.
    return (select(*_COLUMNS, _fc.c.client_reference).select_from(_ob)
            .join(_fc, (_fc.c.firm_id == bindparam("firm_id")) & (_fc.c.taxpayer_id == _ob.c.taxpayer_id))
            .join(_tp, _tp.c.id == _ob.c.taxpayer_id)
            .where(*_matching(*shape), _ob.c.due_date >= bindparam("after_due"), tuple_(*_ORDER) > after)
            .order_by(*_ORDER).limit(bindparam("limit")))


def due_page(db: Session, viewer: Viewer, filters: Filters, today: date, wanted: int) -> tuple[list[DueRow], int]:
    """Page `wanted` of the outstanding obligations (past the last page, the last page), and how many match, counted
    no further than COUNT_CAP + 1."""
    number = min(wanted, COUNT_CAP // PAGE_SIZE)  # pages beyond the cap are not offered
    shape, params = filters.shape(viewer, today), filters.params(viewer, today)
    in_order = (number - 1) * PAGE_SIZE >= DEEP_OFFSET

    def matches(in_order: bool, offset: int) -> list[Any]:  # each row ends with the count of matches
        return list(db.connection().execute(_matches_query(shape, in_order), params | {
            "cap": COUNT_CAP + 1, "limit": PAGE_SIZE, "offset": offset}))

    rows = matches(in_order, (number - 1) * PAGE_SIZE)
    if rows and (in_order or rows[0].total <= COUNT_CAP):
        return [DueRow(*row[:-1]) for row in rows], rows[0].total
    if not rows and number == 1:  # nothing matches
        return [], 0
    if rows:  # plenty, found in no order: the page comes from the list's order, which meets matches soon
        total = rows[0].total
    else:  # nothing there: the page is past the end (an old link, a typed URL); counted, it is clamped
        total = db.connection().execute(_count_query(shape), params | {"cap": COUNT_CAP + 1}).scalar_one()
        if not total:
            return [], 0
    last = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    offset = (min(number, last) - 1) * PAGE_SIZE
    if total <= COUNT_CAP:  # few: gathered and sorted again, for the last page
        return [DueRow(*row[:-1]) for row in matches(False, offset)], total
    page = db.connection().execute(_page_query(shape), params | {"limit": PAGE_SIZE, "offset": offset})
    return [DueRow(*row) for row in page], total


def iter_due(engine: Engine, viewer: Viewer, filters: Filters, today: date, batch: int = CSV_BATCH) -> Iterator[DueRow]:
    """Every matching row, a batch at a time, each batch on a connection of its own so a slow download does
    not hold a connection (or a snapshot) for its whole length."""
    query, params = _after_query(filters.shape(viewer, today)), filters.params(viewer, today)
    after: dict[str, object] = {"after_due": date.min, "after_taxpayer": 0, "after_id": 0, "limit": batch}
    while True:
        with engine.connect() as connection:
            rows = [DueRow(*row) for row in connection.execute(query, params | after)]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]
        after = after | {"after_due": last.due_date, "after_taxpayer": last.taxpayer_id, "after_id": last.obligation_id}


