"""Your clients: the agent's client switcher, and the overview of one client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import identifiers, pagination
from portal.access import IDENTIFIER_REGIMES, require_authority, visible_to_agent
from portal.auth import Viewer, require_viewer
from portal.db import transaction
from portal.forms import Form
from portal.rendering import render
from portal.models import Authorisation, FirmClient, Obligation, Taxpayer, TaxpayerIdentifier
from portal.services import BY_KEY, CLIENT_TYPE_LABELS, REGIME_NAMES, regime_name

PAGE_SIZE = 20
MAX_SEARCH_LENGTH = 100


@dataclass(frozen=True)
class ClientRow:
    taxpayer_id: int
    name: str
    client_type: str
    regimes: list[str]
    next_due: date | None


@dataclass(frozen=True)
class ObligationRow:
    regime: str
    kind: str
    period_start: date
    period_end: date
    due_date: date
    fulfilled_on: date | None

    @property
    def status(self) -> str:
        if self.fulfilled_on is not None:
            return "fulfilled"
        return "overdue" if self.due_date < date.today() else "due"


def _matching(viewer: Viewer, *, text: str, regime: str) -> list[ColumnElement[bool]]:
    conditions = [FirmClient.firm_id == viewer.firm_id, visible_to_agent(viewer, FirmClient.taxpayer_id)]
    if text and (kind := identifiers.detect_kind(text)) is not None:
        by_reference = select(TaxpayerIdentifier.taxpayer_id).where(
            TaxpayerIdentifier.kind == kind, TaxpayerIdentifier.value == identifiers.normalise(kind, text)
        )
        conditions.append(FirmClient.taxpayer_id.in_(by_reference))
    elif text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(FirmClient.sort_name.like(pattern, escape="\\"))
    if regime:
        authorised_for_regime = select(Authorisation.taxpayer_id).where(
            Authorisation.firm_id == viewer.firm_id, Authorisation.regime == regime, Authorisation.ended_at.is_(None)
        )
        conditions.append(FirmClient.taxpayer_id.in_(authorised_for_regime))
    return conditions


def count_clients(db: Session, viewer: Viewer, *, text: str = "", regime: str = "") -> int:
    query = select(func.count()).select_from(FirmClient).where(*_matching(viewer, text=text, regime=regime))
    return db.execute(query).scalar_one()


def search_clients(db: Session, viewer: Viewer, *, text: str, regime: str, page: pagination.Page) -> list[ClientRow]:
    live = (Authorisation.firm_id == viewer.firm_id, Authorisation.taxpayer_id == FirmClient.taxpayer_id,
            Authorisation.ended_at.is_(None))
    regimes = select(func.aggregate_strings(Authorisation.regime, ",")).where(*live).scalar_subquery()
    # The next deadline the firm can see: only in the regimes it is authorised for.
    next_due = (
        select(func.min(Obligation.due_date))
        .join(Authorisation, (Authorisation.taxpayer_id == Obligation.taxpayer_id)
              & (Authorisation.regime == Obligation.regime))
        .where(*live, Obligation.taxpayer_id == FirmClient.taxpayer_id, Obligation.fulfilled_on.is_(None))
        .scalar_subquery()
    )
    query = (
        select(FirmClient.taxpayer_id, Taxpayer.name, Taxpayer.client_type, regimes, next_due)
        .join(Taxpayer, Taxpayer.id == FirmClient.taxpayer_id)
        .where(*_matching(viewer, text=text, regime=regime))
        .order_by(FirmClient.sort_name, FirmClient.taxpayer_id)
        .limit(page.size)
        .offset(page.offset)
    )
    return [
        ClientRow(taxpayer_id, name, client_type, sorted(set((codes or "").split(",")) - {""}, key=regime_name), due)
        for taxpayer_id, name, client_type, codes, due in db.execute(query)
    ]


def list_obligations(db: Session, taxpayer_id: int, regimes: list[str]) -> list[ObligationRow]:
    rows = db.execute(
        select(Obligation.regime, Obligation.kind, Obligation.period_start, Obligation.period_end,
               Obligation.due_date, Obligation.fulfilled_on)
        .where(Obligation.taxpayer_id == taxpayer_id, Obligation.regime.in_(regimes))
        .order_by(Obligation.due_date.desc())
    )
    return [ObligationRow(*row) for row in rows]


def list_identifiers(db: Session, taxpayer_id: int, regimes: list[str]) -> list[tuple[str, str]]:
    """(label, displayed value) of the references for the regimes the person may see."""
    rows = db.execute(
        select(TaxpayerIdentifier.kind, TaxpayerIdentifier.value)
        .where(TaxpayerIdentifier.taxpayer_id == taxpayer_id)
        .order_by(TaxpayerIdentifier.kind)
    ).all()
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
        form.error("q", f"Search must be {MAX_SEARCH_LENGTH} characters or fewer")
    regime = form.get("service") if form.get("service") in REGIME_NAMES else ""
    text = "" if form.errors else form.get("q")
    return form, text, regime


async def index(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.is_agent:
        return RedirectResponse("/account", status_code=303)
    db = transaction(request)
    form, text, regime = _search_form(request)
    total = count_clients(db, viewer, text=text, regime=regime)
    page = pagination.clamp(pagination.page_number(request.query_params.get("page")), size=PAGE_SIZE, total=total)
    rows = search_clients(db, viewer, text=text, regime=regime, page=page)

    def href(number: int) -> str:
        params = {k: v for k, v in (("q", text), ("service", regime)) if v} | ({"page": number} if number > 1 else {})
        return "/clients" + ("?" + urlencode(params) if params else "")

    context = {
        "form": form, "rows": rows, "page": page, "page_links": pagination.links(page, href), "href": href,
        "searching": bool(text or regime), "regime_names": REGIME_NAMES, "client_types": CLIENT_TYPE_LABELS,
        "today": date.today(),
    }
    return render(request, "clients/index.html", context, partial="partials/clients/results.html")


async def overview(request: Request) -> Response:
    authority = require_authority(request, request.path_params["client_id"])
    db = transaction(request)
    obligations = list_obligations(db, authority.taxpayer.id, authority.regimes)
    context = {
        "title": f"Overview – {authority.taxpayer.name}",
        "authority": authority,
        "client": authority.taxpayer,
        "obligations": obligations,
        "open_obligations": [o for o in obligations if o.status != "fulfilled"][::-1],
        "fulfilled_obligations": [o for o in obligations if o.status == "fulfilled"],
        "references": list_identifiers(db, authority.taxpayer.id, authority.regimes),
        "services": [BY_KEY[key] for key in authority.services],
        "client_types": CLIENT_TYPE_LABELS,
        "regime_name": regime_name,
    }
    return render(request, "clients/overview.html", context, partial="partials/clients/overview.html")


routes = [
    Route("/clients", index, name="clients"),
    Route("/clients/{client_id:int}", overview, name="client_overview"),
]
