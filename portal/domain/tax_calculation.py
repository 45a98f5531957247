"""Making Tax Digital for Income Tax: the end-of-year calculation for 2025-26, as HMRC's calculation does it.

Pure, and standard-library only but for portal.i18n.N_: whole pounds in, pence (int) out, integer arithmetic
throughout. The figures live in portal.tax_bands; this module decides which income is taxed where (domain.md §9 has
every rule and source).

1. Each business's profit: receipts less expenses, or less the £1,000 trading or property allowance instead
   (ITTOIA 2005 Part 7A). Receipts of £1,000 or less in all: nil profit without a claim (full relief), unless
   the person chooses expenses (s.783AM), say to record a loss. Above £1,000 the person may choose the allowance
   (partial relief). One trading allowance across all trades, one property allowance across UK and foreign
   property: it is split between the businesses in the order they are listed, each up to its receipts.
2. Each business stands alone (ITA 2007 s.118; PIM4200): a trade's or property business's loss is never set
   against another business's profit; it is carried forward against the same business (s.83, s.118). All UK
   lettings are one UK property business, all overseas lettings one foreign property business.
   The one exception is a claim the person chooses: sideways relief of a trading loss against the year's total
   income (ITA 2007 s.64), capped at the greater of £50,000 and 25% of adjusted total income (s.24A), deducted
   from non-savings income first, then savings, then dividends (s.25). The rest is carried forward.
3. The Personal Allowance (£12,570, less £1 for every £2 of adjusted net income over £100,000; a spare £1 does
   not reduce it) goes against non-savings income first, then savings, then dividends. Adjusted net income here
   is net income: pension contributions and Gift Aid are not covered (NOT_COVERED). This fixed order is
   domain.md §9.1's; where a reordering would save tax (s.25(2) lets reliefs and allowances go where they reduce
   the tax most, e.g. against dividends before savings in rare cases), HMRC's figure can be lower.
4. Non-savings income is charged first, at the rUK or, for a Scottish taxpayer, the Scottish rates; savings next
   (starting rate for savings, Personal Savings Allowance, then UK rates); dividends last (Dividend Allowance,
   then the dividend rates). The 0% slices still use up band space. Savings and dividends use the UK bands for
   Scottish taxpayers too, applied to total taxable income.
5. Class 4 National Insurance on trading profits only (never property), after a sideways claim only as far as
   the loss was set against other trades' profits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.domain.tax_bands import (
    CLASS4_BANDS,
    DIVIDEND_ALLOWANCE,
    DIVIDEND_ALLOWANCE_NAME,
    DIVIDEND_BANDS,
    PERSONAL_ALLOWANCE,
    PERSONAL_SAVINGS_ALLOWANCE_NAME,
    RUK_BANDS,
    SAVINGS_BANDS,
    SCOTTISH_BANDS,
    STARTING_RATE_FOR_SAVINGS,
    STARTING_RATE_NAME,
    TAPER_THRESHOLD,
    BandCharge,
    charges,
    nil_rate,
    personal_savings_allowance,
)
from portal.i18n import N_

__all__ = ["BandCharge", "TaxCalculation", "calculate", "declare", "personal_allowance", "profit"]

TAX_YEAR = "2025-26"

SELF_EMPLOYMENT = "self-employment"
UK_PROPERTY = "uk-property"
FOREIGN_PROPERTY = "foreign-property"
PROPERTY_KINDS = (UK_PROPERTY, FOREIGN_PROPERTY)

TRADING_AND_PROPERTY_ALLOWANCE = 1_000
SIDEWAYS_RELIEF_CAP = 50_000  # or 25% of adjusted total income, whichever is greater

# domain.md §9.5: what this calculation leaves out, named on the page before anyone declares. Stored in English with
# the declaration, translated where shown.
NOT_COVERED: tuple[str, ...] = (
    N_("pension contributions and Gift Aid donations (which would extend the basic rate band)"),
    N_("the Marriage Allowance and Blind Person’s Allowance"),
    N_("the High Income Child Benefit Charge"),
    N_("student loan repayments"),
    N_("capital gains"),
    N_("foreign tax credit relief"),
    N_("losses brought forward from earlier years"),
    N_("employment, pension and any other income not entered here"),
    N_("splitting a £1,000 allowance between businesses other than in the order they are listed"),
    N_("any saving from setting the Personal Allowance against dividends before savings interest (rare)"),
)


@dataclass(frozen=True)
class TaxCalculation:
    total_income_pounds: int  # net income: every source, each business floored on its own, less loss relief
    personal_allowance_pounds: int
    taxable_income_pounds: int
    income_tax_bands: tuple[BandCharge, ...]  # on non-savings income (profits); only bands with amount > 0
    income_tax_pence: int  # on all income: non-savings, savings and dividends
    class4_bands: tuple[BandCharge, ...]  # only bands with amount > 0; empty without trading profits
    class4_pence: int
    total_pence: int
    savings_bands: tuple[BandCharge, ...] = ()  # 0% slices included: they use up band space
    dividend_bands: tuple[BandCharge, ...] = ()
    scottish: bool = False  # non-savings income charged at the Scottish rates
    loss_relief_pounds: int = 0  # trading loss set sideways against the year's total income (a claim)
    loss_relief_cap_pounds: int = 0  # the s.24A cap, when a claim was made


@dataclass(frozen=True)
class BusinessIncome:
    """What the quarterly updates add up to for one business."""

    name: str
    kind: str  # SELF_EMPLOYMENT, UK_PROPERTY or FOREIGN_PROPERTY
    receipts_pounds: int
    expenses_pounds: int


@dataclass(frozen=True)
class BusinessResult:
    name: str
    kind: str
    receipts_pounds: int
    expenses_pounds: int
    allowance_pounds: int  # the trading or property allowance deducted INSTEAD of expenses; 0 if expenses were
    profit_pounds: int  # negative: a loss


@dataclass(frozen=True)
class IncomeSource:
    """One source as HMRC's calculation lists it: a trade, the UK or foreign property business, interest, dividends."""

    name: str
    kind: str  # a business kind, or "savings" / "dividends"
    profit_pounds: int  # negative: a loss (each business stands alone)
    loss_set_sideways_pounds: int  # trading losses only, with a claim
    loss_carried_forward_pounds: int  # against future profits of this same business
    income_pounds: int  # what counts towards total income: never below 0


@dataclass(frozen=True)
class AllowanceUse:
    """Which of the £1,000 allowance or expenses was used for a kind of income, and what the person chose."""

    kind: str  # "trading" or "property"
    receipts_pounds: int  # of all the businesses it covers
    choice: bool | None  # True: the allowance, False: expenses, None: the law's default
    used: str  # "full relief", "partial relief" or "expenses"


@dataclass(frozen=True)
class Declaration:
    businesses: tuple[BusinessResult, ...]
    sources: tuple[IncomeSource, ...]
    allowances: tuple[AllowanceUse, ...]  # one per kind of business held
    trading_loss_pounds: int  # this year's trading losses, before any claim
    sideways_relief_claimed: bool
    class4_profits_pounds: int
    calculation: TaxCalculation


def profit(income_pounds: int, expenses_pounds: int) -> int:
    """A business's profit for the year; negative is a loss."""
    _check_pounds(income_pounds, expenses_pounds)
    if income_pounds < 0 or expenses_pounds < 0:
        raise ValueError("Income and expenses cannot be negative")
    return income_pounds - expenses_pounds


def personal_allowance(adjusted_net_income_pounds: int) -> int:
    reduction = max(0, adjusted_net_income_pounds - TAPER_THRESHOLD) // 2
    return max(0, PERSONAL_ALLOWANCE - reduction)


def sideways_relief_cap(adjusted_total_income_pounds: int) -> int:
    # s.24A: the greater of £50,000 and 25% of adjusted total income (25% rounded down to the pound; it only
    # matters above £200,000, where it is the greater).
    return max(SIDEWAYS_RELIEF_CAP, max(0, adjusted_total_income_pounds) // 4)


def calculate(*, self_employment_profits: Sequence[int], property_profits: Sequence[int] = (),
              foreign_property_profits: Sequence[int] = (), savings_interest: int = 0, dividends: int = 0,
              scottish: bool = False, sideways_relief: bool = False) -> TaxCalculation:
    """The year's Income Tax and Class 4 from profits already worked out: one per trade (negative: a loss), the UK
    property business's (listed in parts, which are netted: it is one business) and the foreign one's."""
    _check_pounds(*self_employment_profits, *property_profits, *foreign_property_profits, savings_interest, dividends)
    if savings_interest < 0 or dividends < 0:
        raise ValueError("Savings interest and dividends cannot be negative")
    trades = [max(0, p) for p in self_employment_profits]
    trade_losses = sum(-p for p in self_employment_profits if p < 0)
    non_savings = sum(trades) + max(0, sum(property_profits)) + max(0, sum(foreign_property_profits))
    total_before_relief = non_savings + savings_interest + dividends

    relief = cap = 0
    if sideways_relief and trade_losses:
        cap = sideways_relief_cap(total_before_relief)
        relief = min(trade_losses, cap, total_before_relief)
    # s.25: relief and the allowance are each taken from non-savings income first, then savings, then dividends.
    non_savings, savings, divs = _deduct(relief, non_savings, savings_interest, dividends)
    total_income = non_savings + savings + divs
    allowance = personal_allowance(total_income)
    non_savings, savings, divs = _deduct(allowance, non_savings, savings, divs)

    non_savings_bands = charges(0, non_savings, SCOTTISH_BANDS if scottish else RUK_BANDS)
    savings_bands = _savings(non_savings, savings, personal_savings_allowance(non_savings + savings + divs))
    dividend_bands = _dividends(non_savings + savings, divs)
    # Class 4: the relief reduces trading profits only as far as it was set against other trades' profits.
    class4_bands = charges(0, sum(trades) - min(relief, sum(trades)), CLASS4_BANDS)

    income_tax = sum(band.tax_pence for band in non_savings_bands + savings_bands + dividend_bands)
    class4 = sum(band.tax_pence for band in class4_bands)
    return TaxCalculation(
        total_income_pounds=total_income,
        personal_allowance_pounds=allowance,
        taxable_income_pounds=non_savings + savings + divs,
        income_tax_bands=non_savings_bands,
        income_tax_pence=income_tax,
        class4_bands=class4_bands,
        class4_pence=class4,
        total_pence=income_tax + class4,
        savings_bands=savings_bands,
        dividend_bands=dividend_bands,
        scottish=scottish,
        loss_relief_pounds=relief,
        loss_relief_cap_pounds=cap,
    )


def _deduct(amount: int, *parts: int) -> tuple[int, ...]:
    """Take `amount` from the parts in order, none going below 0."""
    left = []
    for part in parts:
        taken = min(amount, part)
        left.append(part - taken)
        amount -= taken
    return tuple(left)


def _savings(non_savings_taxable: int, savings_taxable: int, psa: int) -> tuple[BandCharge, ...]:
    starting = min(savings_taxable, max(0, STARTING_RATE_FOR_SAVINGS - non_savings_taxable))
    allowance = min(savings_taxable - starting, psa)
    start = non_savings_taxable + starting + allowance
    return (nil_rate(STARTING_RATE_NAME, starting) + nil_rate(PERSONAL_SAVINGS_ALLOWANCE_NAME, allowance)
            + charges(start, savings_taxable - starting - allowance, SAVINGS_BANDS))


def _dividends(taxed_before: int, dividends_taxable: int) -> tuple[BandCharge, ...]:
    allowance = min(dividends_taxable, DIVIDEND_ALLOWANCE)
    return (nil_rate(DIVIDEND_ALLOWANCE_NAME, allowance)
            + charges(taxed_before + allowance, dividends_taxable - allowance, DIVIDEND_BANDS))


# --- the declaration: allowances, each business on its own, the claim ---------------------------------------------


def allowance_profits(businesses: Sequence[BusinessIncome], choice: bool | None) -> tuple[list[BusinessResult], str]:
    """Each business's profit under the £1,000 allowance rules, for businesses sharing one allowance; and which was
    used: "full relief", "partial relief" or "expenses"."""
    receipts = sum(b.receipts_pounds for b in businesses)
    if receipts <= TRADING_AND_PROPERTY_ALLOWANCE and choice is not False:
        # Full relief: the profits are nil without any claim (s.783AF, s.783BF); the allowance covers the receipts.
        results = [_result(b, b.receipts_pounds, 0) for b in businesses]
        return results, "full relief"
    if receipts > TRADING_AND_PROPERTY_ALLOWANCE and choice is True:
        left, results = TRADING_AND_PROPERTY_ALLOWANCE, []
        for business in businesses:
            share = min(left, business.receipts_pounds)
            left -= share
            results.append(_result(business, share, business.receipts_pounds - share))
        return results, "partial relief"
    return [_result(b, 0, profit(b.receipts_pounds, b.expenses_pounds)) for b in businesses], "expenses"


def _result(business: BusinessIncome, allowance: int, profit_pounds: int) -> BusinessResult:
    return BusinessResult(business.name, business.kind, business.receipts_pounds, business.expenses_pounds,
                          allowance, profit_pounds)


def declare(businesses: Sequence[BusinessIncome], *, savings_interest: int = 0, dividends: int = 0,
            scottish: bool = False, trading_allowance: bool | None = None, property_allowance: bool | None = None,
            sideways_relief: bool = False) -> Declaration:
    """The whole calculation shown before a final declaration, from each business's receipts and expenses."""
    if any(b.kind not in (SELF_EMPLOYMENT, *PROPERTY_KINDS) for b in businesses):
        raise ValueError("Unknown kind of business")
    allowances: list[AllowanceUse] = []
    results: dict[int, BusinessResult] = {}  # by the business's place in the list
    for kind, kinds, choice in (("trading", (SELF_EMPLOYMENT,), trading_allowance),
                                ("property", PROPERTY_KINDS, property_allowance)):
        indexes = [i for i, b in enumerate(businesses) if b.kind in kinds]
        if indexes:
            group = [businesses[i] for i in indexes]
            group_results, used = allowance_profits(group, choice)
            results.update(zip(indexes, group_results, strict=True))
            allowances.append(AllowanceUse(kind, sum(b.receipts_pounds for b in group), choice, used))
    ordered = tuple(results[i] for i in range(len(businesses)))
    trade_profits = [r.profit_pounds for r in ordered if r.kind == SELF_EMPLOYMENT]
    property_profit = {kind: sum(r.profit_pounds for r in ordered if r.kind == kind) for kind in PROPERTY_KINDS}
    calculation = calculate(self_employment_profits=trade_profits, property_profits=[property_profit[UK_PROPERTY]],
                            foreign_property_profits=[property_profit[FOREIGN_PROPERTY]],
                            savings_interest=savings_interest, dividends=dividends, scottish=scottish,
                            sideways_relief=sideways_relief)

    sources: list[IncomeSource] = []
    relief_left = calculation.loss_relief_pounds
    for result in ordered:
        if result.kind == SELF_EMPLOYMENT:
            loss = max(0, -result.profit_pounds)
            sideways = min(loss, relief_left)  # the relief is shared out over the losses in order
            relief_left -= sideways
            sources.append(IncomeSource(result.name, result.kind, result.profit_pounds, sideways, loss - sideways,
                                        max(0, result.profit_pounds)))
    for kind, name in ((UK_PROPERTY, N_("UK property")), (FOREIGN_PROPERTY, N_("Foreign property"))):
        if any(r.kind == kind for r in ordered):
            amount = property_profit[kind]
            sources.append(IncomeSource(name, kind, amount, 0, max(0, -amount), max(0, amount)))
    for name, kind, amount in ((N_("Savings interest"), "savings", savings_interest),
                               (N_("Dividends"), "dividends", dividends)):
        if amount:
            sources.append(IncomeSource(name, kind, amount, 0, 0, amount))
    trading = sum(max(0, p) for p in trade_profits)
    return Declaration(
        businesses=ordered,
        sources=tuple(sources),
        allowances=tuple(allowances),
        trading_loss_pounds=sum(max(0, -p) for p in trade_profits),
        sideways_relief_claimed=sideways_relief,
        class4_profits_pounds=trading - min(calculation.loss_relief_pounds, trading),
        calculation=calculation,
    )


def all_bands(calculation: TaxCalculation) -> tuple[BandCharge, ...]:
    return calculation.income_tax_bands + calculation.savings_bands + calculation.dividend_bands


def _check_pounds(*values: int) -> None:
    # bool is an int and a float would break the integer arithmetic; both are caller bugs.
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Amounts must be whole pounds (int), not {value!r}")
