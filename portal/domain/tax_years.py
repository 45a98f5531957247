"""Making Tax Digital for Income Tax, as data: a taxpayer's tax years (quarterly updates per business, then the
final declaration), the position of a year when it is declared, and the figures shown before declaring and
stored with the declaration. No web here: the pages (portal.areas.income_tax), the demo data and, later, the
API all read the same years and figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.domain import tax_calculation
from portal.domain.models import Business, Obligation, Submission
from portal.domain.obligations import ObligationStatus, obligation_status
from portal.domain.services import Labels
from portal.i18n import N_

ITSA = "ITSA"
# Obligation kinds, stored as they are (codes in English): shown as `_(kind)` / gettext(kind).
QUARTERLY_UPDATE = N_("Quarterly update")
FINAL_DECLARATION = N_("Final declaration")
# A Labels mapping: `kinds.get(code)` is already in the language of the moment.
BUSINESS_KINDS = Labels({"self-employment": N_("Self-employment"), "uk-property": N_("UK property"),
                         "foreign-property": N_("Foreign property")})
UNLINKED = N_("Income not linked to a business")  # shown as gettext(UNLINKED)


@dataclass(frozen=True)
class ObligationRow:
    obligation: Obligation
    reference: str | None

    @property
    def status(self) -> ObligationStatus:
        return obligation_status(due_date=self.obligation.due_date, fulfilled_on=self.obligation.fulfilled_on)


@dataclass
class BusinessUpdates:
    name: str
    kind: str
    updates: list[ObligationRow] = field(default_factory=list)


@dataclass
class TaxYear:
    start: int
    businesses: dict[int | None, BusinessUpdates] = field(default_factory=dict)
    declarations: list[ObligationRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return tax_year_label(self.start)


@dataclass(frozen=True)
class BusinessProfit:
    name: str
    kind: str
    income: int
    expenses: int

    @property
    def profit(self) -> int:
        return tax_calculation.profit(self.income, self.expenses)


def tax_year_start(day: date) -> int:
    return day.year if day >= date(day.year, 4, 6) else day.year - 1


def tax_year_label(start: int) -> str:
    return f"{start} to {start + 1} tax year"


def businesses_of(db: Session, taxpayer_id: int) -> dict[int | None, Business]:
    rows = db.execute(
        select(Business).where(col(Business.taxpayer_id) == taxpayer_id).order_by(col(Business.id))).scalars()
    return {business.id: business for business in rows}


def _business_updates(businesses: dict[int | None, Business], business_id: int | None) -> BusinessUpdates:
    business = businesses.get(business_id)
    return BusinessUpdates(business.name, business.kind) if business else BusinessUpdates(UNLINKED, "self-employment")


def income_tax_years(db: Session, taxpayer_id: int) -> list[TaxYear]:
    """The taxpayer's Income Tax obligations by tax year, then by business, each with its receipt reference."""
    rows = db.execute(
        select(Obligation, col(Submission.reference))
        .outerjoin(Submission, col(Submission.obligation_id) == Obligation.id)
        .where(col(Obligation.taxpayer_id) == taxpayer_id, col(Obligation.regime) == ITSA)
        .order_by(col(Obligation.period_start), col(Obligation.business_id), col(Obligation.id))
    ).all()
    businesses = businesses_of(db, taxpayer_id)
    years: dict[int, TaxYear] = {}
    for obligation, reference in rows:
        start = tax_year_start(obligation.period_start)
        year = years.setdefault(start, TaxYear(start))
        row = ObligationRow(obligation, reference)
        if obligation.kind == QUARTERLY_UPDATE:
            if obligation.business_id not in year.businesses:
                year.businesses[obligation.business_id] = _business_updates(businesses, obligation.business_id)
            year.businesses[obligation.business_id].updates.append(row)
        else:
            year.declarations.append(row)
    return sorted(years.values(), key=lambda year: year.start, reverse=True)


def year_position(db: Session, declaration: Obligation) -> tuple[list[BusinessProfit], list[ObligationRow]]:
    """Each business's income and expenses for the declaration's tax year, summed from the quarterly updates
    sent; and the quarterly updates of that year still outstanding."""
    rows = db.execute(
        select(Obligation, col(Submission.figures))
        .outerjoin(Submission, col(Submission.obligation_id) == Obligation.id)
        .where(col(Obligation.taxpayer_id) == declaration.taxpayer_id, col(Obligation.regime) == ITSA,
               col(Obligation.kind) == QUARTERLY_UPDATE, col(Obligation.period_start) >= declaration.period_start,
               col(Obligation.period_end) <= declaration.period_end)
        .order_by(col(Obligation.business_id), col(Obligation.period_start))
    ).all()
    businesses = businesses_of(db, declaration.taxpayer_id)
    totals: dict[int | None, tuple[int, int]] = {}
    outstanding = []
    for obligation, figures in rows:
        if obligation.fulfilled_on is None:
            outstanding.append(ObligationRow(obligation, None))
            continue
        income, expenses = totals.get(obligation.business_id, (0, 0))
        totals[obligation.business_id] = (income + int((figures or {}).get("income", 0)),
                                          expenses + int((figures or {}).get("expenses", 0)))
    profits = []
    for business_id in sorted(totals, key=lambda key: (key is None, key or 0)):
        business = _business_updates(businesses, business_id)
        profits.append(BusinessProfit(business.name, business.kind, *totals[business_id]))
    return profits, outstanding


@dataclass(frozen=True)
class DeclarationAnswers:
    """What the person adds on the final declaration's own pages: income the quarterly updates do not carry, and
    the choices the law leaves to them. None: the law's default (see portal.tax_calculation)."""

    savings_interest: int = 0
    dividends: int = 0
    trading_allowance: bool | None = None
    property_allowance: bool | None = None
    sideways_relief: bool | None = None  # None: not asked yet, which is no claim


def declaration_figures(declaration: Obligation, profits: list[BusinessProfit],
                        answers: DeclarationAnswers | None = None, *, scottish: bool = False) -> dict[str, Any]:
    """The calculation as it is shown before submission and stored with the submission, for its receipt."""
    answers = answers or DeclarationAnswers()
    result = tax_calculation.declare(
        [tax_calculation.BusinessIncome(p.name, p.kind, p.income, p.expenses) for p in profits],
        savings_interest=answers.savings_interest, dividends=answers.dividends, scottish=scottish,
        trading_allowance=answers.trading_allowance, property_allowance=answers.property_allowance,
        sideways_relief=bool(answers.sideways_relief))
    by_row = [asdict(b) for b in result.businesses]
    figures: dict[str, Any] = _plain({
        "tax_year": tax_year_label(tax_year_start(declaration.period_start)),
        "rates": _rates_label(tax_calculation.TAX_YEAR),
        "scottish": scottish,
        "answers": asdict(answers),
        "businesses": [asdict(p) | {"profit": row["profit_pounds"], "allowance": row["allowance_pounds"]}
                       for p, row in zip(profits, by_row, strict=True)],
        "sources": [asdict(source) for source in result.sources],
        "allowances": [asdict(use) for use in result.allowances],
        "trading_loss": result.trading_loss_pounds,
        "sideways_relief_claimed": result.sideways_relief_claimed,
        "class4_profits": result.class4_profits_pounds,
        "not_covered": list(tax_calculation.NOT_COVERED),
        "calculation": asdict(result.calculation),
    })
    return figures


def _plain(value: Any) -> Any:
    """JSON-ready: the rates are Decimals ("8.75"), kept as text so no float ever rounds them."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Decimal) else value


def _rates_label(tax_year: str) -> str:
    start = int(tax_year[:4])  # "2025-26"
    return f"{start} to {start + 1}"
