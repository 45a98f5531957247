"""Your clients: the agent's client switcher, and the overview of one client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlencode

from sqlalchemy import Connection, bindparam, exists, select
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.domain import client_search, firm_access, identifiers, list_filters
from portal.domain.access import IDENTIFIER_REGIMES
from portal.domain.client_search import ClientSearch, count_query, page_and_total
from portal.domain.models import Authorisation, FirmClient, Obligation, Taxpayer, TaxpayerIdentifier
from portal.domain.obligations import ObligationStatus, obligation_status
from portal.domain.people import Authority, Viewer
from portal.domain.services import BY_KEY, CLIENT_TYPE_LABELS, REGIME_NAMES, regime_name
from portal.domain.sql import comma_list, table_of
from portal.i18n import N_, current_language, gettext
from portal.web import pagination
from portal.web.db import connection, db_session
from portal.web.formatting import govuk_date
from portal.web.forms import Form, read_form
from portal.web.gate import require_authority
from portal.web.links import path_for, redirect_to
from portal.web.prepared import PreparedRead
from portal.web.rendering import render
from portal.web.security import CookieNames
from portal.web.sessions import require_viewer

PAGE_SIZE = 20
MAX_SEARCH_LENGTH = 100


class ClientRow(NamedTuple):
    """One line of the client list, with its cells ready to show (the list renders on every keystroke).
    A tuple, so the template unpacks it rather than looking up six attributes a row."""

    taxpayer_id: int
    name: str
    client_type: str
    services: str
    next_due: str
    overdue: bool
    reference: str  # the firm's own client reference, or ""

    @classmethod
    def from_row(cls, taxpayer_id: int, name: str, client_type: str, regimes: str | None, due: date | None,
                 today: date, reference: str | None = None) -> ClientRow:
        language = current_language()
        return cls(taxpayer_id, name, client_type_label(client_type), _services_label(regimes, language),
                   _due_label(due, language), due is not None and due < today, reference or "")


# Labels (portal.domain.services.Labels) read in the language of the moment; the ones below are cached per
# language: the same few dozen combinations, in English or in Welsh.


def client_type_label(client_type: str) -> str:
    """"Individual or sole trader", in the language of the moment (the code itself if it is not one we know)."""
    return CLIENT_TYPE_LABELS.get(client_type, client_type)


def regime_names() -> dict[str, str]:
    """Code -> short name of every tax service, for a filter's options, in the language of the moment."""
    return dict(REGIME_NAMES.items())


# Obligations keep their kind as the English words the tax rules write ("VAT return"): shown through these.
OBLIGATION_KINDS = frozenset({N_("VAT return"), N_("Quarterly update"), N_("Final declaration"),
                              N_("Plastic Packaging Tax return")})


def obligation_kind(kind: str) -> str:
    return gettext(kind) if kind in OBLIGATION_KINDS else kind


def services_label(regimes: str | None) -> str:
    """"Income Tax, VAT" from the list query's "VAT,ITSA": a firm's clients share a few dozen combinations."""
    return _services_label(regimes, current_language())


@lru_cache(maxsize=512)
def _services_label(regimes: str | None, language: str) -> str:
    return ", ".join(sorted(regime_name(code) for code in set((regimes or "").split(",")) - {""}))


@lru_cache(maxsize=2048)
def _due_label(due: date | None, language: str) -> str:
    # Translators: in the client list's "Next deadline" column, for a client with nothing outstanding.
    return govuk_date(due) if due else gettext("None due")


@dataclass(frozen=True)
class ObligationRow:
    regime: str
    kind: str
    period_start: date
    period_end: date
    due_date: date
    fulfilled_on: date | None

    @property
    def status(self) -> ObligationStatus:
        return obligation_status(due_date=self.due_date, fulfilled_on=self.fulfilled_on)


_fc, _auth, _tp = table_of(FirmClient), table_of(Authorisation), table_of(Taxpayer)
_ob, _ident = table_of(Obligation), table_of(TaxpayerIdentifier)
_own = _fc.alias("own")  # the page's rows of firm_client again, for their references


@cache
def _page_query(*shape: Any) -> PreparedRead:
    page, total = page_and_total(*shape)
    # The page's references are read for its 20 rows below.
    live = (_auth.c.firm_id == bindparam("firm_id"), _auth.c.taxpayer_id == page.c.taxpayer_id,
            _auth.c.ended_at.is_(None))
    regimes = select(comma_list(_auth.c.regime)).where(*live).scalar_subquery()
    # The next deadline the firm can see: only in the regimes it is authorised for. Walking the client's
    # open obligations soonest first (ix_obligation_open_taxpayer) stops at the first one the firm may see.
    next_due = (
        select(_ob.c.due_date)
        .where(_ob.c.taxpayer_id == page.c.taxpayer_id, _ob.c.fulfilled_on.is_(None),
               exists().where(_auth.c.firm_id == bindparam("firm_id"), _auth.c.taxpayer_id == _ob.c.taxpayer_id,
                              _auth.c.regime == _ob.c.regime, _auth.c.ended_at.is_(None)))
        .order_by(_ob.c.due_date)
        .limit(1)
        .scalar_subquery()
    )
    # Every row also carries the number of matches: the database counts once (an uncorrelated subquery) and
    # the page needs one round trip, not two.
    # The agent's home page runs it on every visit and keystroke: on the driver directly (portal.web.prepared).
    return PreparedRead(
        select(page.c.taxpayer_id, _tp.c.name, _tp.c.client_type, regimes, next_due, total.label("total"),
               _own.c.client_reference)
        .join(_tp, _tp.c.id == page.c.taxpayer_id)
        .join(_own, (_own.c.firm_id == bindparam("firm_id")) & (_own.c.taxpayer_id == page.c.taxpayer_id))
        .order_by(page.c.sort_name, page.c.taxpayer_id)
    )


def count_clients(db: Connection, viewer: Viewer, search: ClientSearch) -> int:
    return db.execute(count_query(*search.shape(viewer)), search.params(viewer)).scalar_one()


def search_clients(
    db: Connection, viewer: Viewer, search: ClientSearch, wanted: int
) -> tuple[list[ClientRow], pagination.Page]:
    """Page `wanted` of the clients matching the search, and where it falls; past the last page, the last page."""
    cap = client_search.RESTRICTED_COUNT_CAP if search.capped(viewer) else None
    if cap is not None:  # pages beyond the cap are not offered (and the capped query holds no rows past it)
        wanted = min(wanted, cap // PAGE_SIZE)
    rows = _fetch_page(db, viewer, search, pagination.Page(wanted, PAGE_SIZE, 0))
    if rows:
        total = rows[0].total
    else:  # nothing on this page: none match, or the page is past the end (an old link, a typed URL)
        total = count_clients(db, viewer, search) if wanted > 1 else 0
        if total:
            rows = _fetch_page(db, viewer, search, pagination.clamp(wanted, size=PAGE_SIZE, total=total))
    page = pagination.clamp(wanted, size=PAGE_SIZE, total=total if cap is None else min(total, cap))
    if cap is not None and total > cap:
        page = pagination.Page(page.number, page.size, cap, more=True)
    today = date.today()
    return [ClientRow.from_row(taxpayer_id, name, client_type, regimes, due, today, reference)
            for taxpayer_id, name, client_type, regimes, due, _total, reference in rows], page


def _fetch_page(db: Connection, viewer: Viewer, search: ClientSearch, page: pagination.Page) -> list[Any]:
    return _page_query(*search.shape(viewer)).all(db, search.params(viewer) | {"limit": page.size,
                                                                               "offset": page.offset})


OBLIGATIONS_QUERY = (
    select(_ob.c.regime, _ob.c.kind, _ob.c.period_start, _ob.c.period_end, _ob.c.due_date, _ob.c.fulfilled_on)
    .where(_ob.c.taxpayer_id == bindparam("taxpayer_id"))
    .order_by(_ob.c.due_date.desc())
)


def list_obligations(db: Session, taxpayer_id: int, regimes: list[str]) -> list[ObligationRow]:
    # Filtered here rather than with IN (...): an expanding IN re-renders the SQL on every request.
    visible = set(regimes)
    rows = db.connection().execute(OBLIGATIONS_QUERY, {"taxpayer_id": taxpayer_id})
    return [ObligationRow(*row) for row in rows if row.regime in visible]


IDENTIFIERS_QUERY = (
    select(_ident.c.kind, _ident.c.value)
    .where(_ident.c.taxpayer_id == bindparam("taxpayer_id"))
    .order_by(_ident.c.kind)
)


def list_identifiers(db: Session, taxpayer_id: int, regimes: list[str]) -> list[tuple[str, str]]:
    """(label, displayed value) of the references for the regimes the person may see."""
    rows = db.execute(IDENTIFIERS_QUERY, {"taxpayer_id": taxpayer_id}).all()
    visible = set(regimes)
    return [
        (identifiers.LABELS[identifiers.IdentifierKind(kind)],
         identifiers.format_for_display(identifiers.IdentifierKind(kind), value))
        for kind, value in rows
        if visible & set(IDENTIFIER_REGIMES.get(kind, ("TRS",)))
    ]


def _search_form(request: Request) -> tuple[Form, str, str]:
    form = Form(values={"q": request.query_params.get("q", "").strip(),
                        "service": request.query_params.get("service", "")})
    if len(form.get("q")) > MAX_SEARCH_LENGTH:
        form.error("q", gettext("Search must be %(limit)d characters or fewer") % {"limit": MAX_SEARCH_LENGTH})
    regime = form.get("service") if form.get("service") in REGIME_NAMES else ""
    text = "" if form.errors else form.get("q")
    return form, text, regime


async def index(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.is_agent:
        return redirect_to(request, "account")
    db = connection(request)
    form, text, regime = _search_form(request)
    options = list_filters.filter_options(db_session(request), viewer)
    narrowed = list_filters.list_filter(viewer, options, **{name: request.query_params.get(name, "")
                                                            for name in ("show", "group", "member")})
    search = ClientSearch(text, regime, narrowed)
    rows, page = search_clients(db, viewer, search, pagination.page_number(request.query_params.get("page")))

    search_query = urlencode({k: v for k, v in (("q", text), ("service", regime)) if v} | narrowed.query())
    base = path_for(request, "clients")

    def href(number: int) -> str:
        query = "&".join(part for part in (search_query, f"page={number}" if number > 1 else "") if part)
        return base + "?" + query if query else base

    context = {
        "form": form, "rows": rows, "page": page, "page_links": pagination.links(page, href), "href": href,
        "searching": bool(text or regime or narrowed.any), "regime_names": regime_names(), "narrowed": narrowed,
        "options": options, "my_clients": list_filters.offers_my_clients(viewer),
    }
    response = render(request, "clients/index.html", context, partial="partials/clients/results.html")
    remember_view(request, response, href(page.number).partition("?")[2])
    return response


# "Change client" returns to the list as the agent left it (search, filter, page): the list's query, in a cookie
# for the pages under /clients only, for this browser session. partials/acting_for.html reads it. (urlencode
# leaves nothing a cookie value may not hold.)
def remember_view(request: Request, response: Response, query: str) -> None:
    cookies = CookieNames(request.app.state.settings)
    if request.cookies.get(cookies.clients_view, "") == query:
        return
    response.headers.append("set-cookie", cookies.clients_view_header(query))


def _firm_reference(db: Session, viewer: Viewer, authority: Authority) -> str | None:
    """The firm's own reference for the client, when an agent of the firm is asking."""
    if authority.kind != "agent" or viewer.firm_id is None:
        return None
    record = db.get(FirmClient, (viewer.firm_id, authority.taxpayer.id))
    return record.client_reference or "" if record is not None else None


async def overview(request: Request) -> Response:
    authority = require_authority(request, request.path_params["client_id"])
    db = db_session(request)
    obligations = list_obligations(db, authority.taxpayer.id, authority.regimes)
    context = {
        "title": gettext("Overview – %(name)s") % {"name": authority.taxpayer.name},
        "authority": authority,
        "client": authority.taxpayer,
        "obligations": obligations,
        "open_obligations": [o for o in obligations if o.status is not ObligationStatus.FULFILLED][::-1],
        "fulfilled_obligations": [o for o in obligations if o.status is ObligationStatus.FULFILLED],
        "references": list_identifiers(db, authority.taxpayer.id, authority.regimes),
        "services": [BY_KEY[key].name for key in authority.services],
        "client_type": client_type_label(authority.taxpayer.client_type),
        "regime_name": regime_name,
        "obligation_kind": obligation_kind,
        "client_reference": _firm_reference(db, require_viewer(request), authority),
    }
    return render(request, "clients/overview.html", context, partial="partials/clients/overview.html")


async def client_reference(request: Request) -> Response:
    """The firm's own name or code for a client (domain.md §4.3): anyone in the firm who may act for them."""
    authority = require_authority(request, request.path_params["client_id"])
    viewer = require_viewer(request)
    db = db_session(request)
    current = _firm_reference(db, viewer, authority)
    if current is None or viewer.firm_id is None:
        raise HTTPException(status_code=404)
    context = {"authority": authority, "client": authority.taxpayer}
    if request.method == "GET":
        return render(request, "clients/client_reference.html",
                      {**context, "form": Form(values={"reference": current})})
    form = await read_form(request, "reference")
    if len(form.get("reference")) > firm_access.MAX_CLIENT_REFERENCE_LENGTH:
        form.error("reference", gettext("Client reference must be %(limit)d characters or fewer")
                   % {"limit": firm_access.MAX_CLIENT_REFERENCE_LENGTH})
    if not form.ok:
        return render(request, "clients/client_reference.html", {**context, "form": form}, status_code=400)
    firm_access.set_client_reference(db, firm_id=viewer.firm_id, taxpayer_id=authority.taxpayer.id,
                                     actor_user_id=viewer.user_id, reference=form.get("reference"))
    return redirect_to(request, "client_overview", client_id=authority.taxpayer.id)


routes = [
    Route("/clients", index, name="clients"),
    Route("/clients/{client_id:id}/client-reference", client_reference, methods=["GET", "POST"],
          name="client_reference"),
    Route("/clients/{client_id:id}", overview, name="client_overview"),
]
