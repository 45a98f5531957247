"""What's due: every outstanding obligation across the clients a person may act for, and its CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from portal.areas.clients import obligation_kind, regime_name, regime_names
from portal.domain import whats_due as due_list  # COUNT_CAP read through it, so tests may lower the cap
from portal.domain.list_filters import FilterOptions, filter_options, list_filter
from portal.domain.numbers import is_whole_number
from portal.domain.people import Viewer
from portal.domain.services import REGIME_NAMES
from portal.domain.whats_due import PAGE_SIZE, DueRow, Filters, due_page, iter_due
from portal.i18n import N_, gettext, pgettext
from portal.web import pagination
from portal.web.db import db_session
from portal.web.forms import Form
from portal.web.links import path_for, redirect_to
from portal.web.rendering import render
from portal.web.sessions import require_viewer

MAX_NAME_LENGTH = 100
MAX_DAYS = 366
STATUSES = ("", "overdue", "due")  # the status filter's values: all outstanding, overdue, not yet due
# The CSV's column headings, in the language of the person downloading it.
CSV_HEADER = (N_("Client"), N_("Client reference"), N_("Tax service"), N_("Obligation"), N_("Period start"),
              N_("Period end"), N_("Due date"), N_("Status"))


def status_options() -> list[tuple[str, str]]:
    """The status filter's choices, in the language of the moment."""
    # Translators: "Due" is a status (not yet overdue), as on the status tags.
    return [("", gettext("All outstanding")), ("overdue", gettext("Overdue")), ("due", pgettext("status", "Due"))]


# --- the filter form ---------------------------------------------------------------------------------------------


def read_filters(request: Request, viewer: Viewer, options: FilterOptions) -> tuple[Form, Filters]:
    """The filters from the query string. One that is wrong is shown with its error and not applied; an
    administrator's group and member filters only from the firm's own (`list_filters.list_filter`)."""
    query = request.query_params
    narrowed = list_filter(viewer, options, group=query.get("group", ""), member=query.get("member", ""))
    form = Form(values={name: query.get(name, "").strip()[:1000] for name in ("service", "status", "within", "client")})
    regime = form.get("service") if form.get("service") in REGIME_NAMES else ""
    status = form.get("status") if form.get("status") in STATUSES else ""
    within = _days(form)
    name = form.get("client")
    if len(name) > MAX_NAME_LENGTH:
        form.error("client", gettext("Client name must be %(limit)d characters or fewer") % {"limit": MAX_NAME_LENGTH})
        name = ""
    return form, Filters(regime, status, within, name, narrowed)


def _days(form: Form) -> int | None:
    raw = form.get("within").replace(",", "")
    if not raw:
        return None
    if not is_whole_number(raw):
        form.error("within", gettext("Number of days must be a whole number, like 30"))
        return None
    if not 1 <= int(raw) <= MAX_DAYS:
        form.error("within", gettext("Number of days must be between 1 and %(most)d") % {"most": MAX_DAYS})
        return None
    return int(raw)


# --- CSV ---------------------------------------------------------------------------------------------------------


def safe_cell(value: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ (or a tab or return) as a formula; a leading
    quote makes it text. Client names are typed by people outside the firm."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@dataclass(frozen=True)
class CsvWords:
    """The CSV's words in the language of the request, looked up before the download streams (its rows are
    written after the handler has returned)."""

    header: tuple[str, ...]
    overdue: str
    due: str
    services: dict[str, str]
    kinds: dict[str, str]

    @classmethod
    def now(cls) -> CsvWords:
        return cls(tuple(gettext(heading) for heading in CSV_HEADER), gettext("Overdue"), pgettext("status", "Due"),
                   regime_names(), {})

    def kind(self, kind: str) -> str:
        if kind not in self.kinds:
            self.kinds[kind] = obligation_kind(kind)
        return self.kinds[kind]


def csv_lines(rows: Iterator[DueRow], today: date, words: CsvWords | None = None) -> Iterator[bytes]:
    words = words or CsvWords.now()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(words.header)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(row.client), safe_cell(row.client_reference or ""),
                         words.services.get(row.regime, row.regime), safe_cell(words.kind(row.kind)),
                         row.period_start.isoformat(), row.period_end.isoformat(), row.due_date.isoformat(),
                         words.overdue if row.overdue(today) else words.due])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# --- handlers ----------------------------------------------------------------------------------------------------


def _agent(request: Request) -> Viewer | None:
    viewer = require_viewer(request)
    return viewer if viewer.is_agent else None


def _href(path: str, filters: Filters, page: int = 1) -> str:
    params = filters.query_string() | ({"page": str(page)} if page > 1 else {})
    return path + ("?" + urlencode(params) if params else "")


async def whats_due(request: Request) -> Response:
    if (viewer := _agent(request)) is None:
        return redirect_to(request, "account")
    db, today = db_session(request), date.today()
    options = filter_options(db, viewer)
    form, filters = read_filters(request, viewer, options)
    wanted = pagination.page_number(request.query_params.get("page"))
    rows, total = due_page(db, viewer, filters, today, wanted)
    page = pagination.clamp(wanted, size=PAGE_SIZE, total=min(total, due_list.COUNT_CAP))

    base = path_for(request, "whats_due")

    def href(number: int) -> str:
        return _href(base, filters, number)

    context = {
        "form": form, "rows": rows, "page": page,
        "today": today,
        "more": total > due_list.COUNT_CAP,
        "page_links": pagination.links(page, href), "href": href, "filtered": filters.any,
        "csv_href": _href(path_for(request, "whats_due_csv"), filters), "services": regime_names(),
        "statuses": status_options(), "regime_name": regime_name, "obligation_kind": obligation_kind,
        "options": options, "narrowed": filters.narrowed,
    }
    return render(request, "worklist/index.html", context)


async def whats_due_csv(request: Request) -> Response:
    if (viewer := _agent(request)) is None:
        return redirect_to(request, "account")
    form, filters = read_filters(request, viewer, filter_options(db_session(request), viewer))
    if form.errors:
        return redirect_to(request, "whats_due", query=form.values)
    today = date.today()
    rows = iter_due(request.app.state.engine, viewer, filters, today)
    headers = {"Content-Disposition": f'attachment; filename="whats-due-{today.isoformat()}.csv"',
               "Cache-Control": "no-store"}
    return StreamingResponse(csv_lines(rows, today, CsvWords.now()), media_type="text/csv; charset=utf-8",
                             headers=headers)


routes = [
    Route("/whats-due", whats_due, name="whats_due"),
    Route("/whats-due.csv", whats_due_csv, name="whats_due_csv"),
]
