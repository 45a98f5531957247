"""Making Tax Digital for Income Tax: the end-of-year calculation for 2025-26 (England, Wales and Northern Ireland).

Pure and standard-library only: whole pounds in, pence (int) out, integer arithmetic throughout.

The rules, as issue 4 states them:

- Personal allowance £12,570, reduced by £1 for every £2 of adjusted net income over £100,000 (a spare £1 does
  not reduce it), so it is nil from £125,140. Adjusted net income here is the total income: there are no pension
  contributions or Gift Aid to deduct in this service.
- The income tax bands apply to TAXABLE income (total income minus the allowance), not to total income:
  20% on the first £37,700, 40% from £37,700 to £125,140, 45% above £125,140. "Basic rate to £50,270" in the issue
  is £12,570 + £37,700, which holds only with the full allowance; someone whose allowance is tapered still has a
  £37,700 basic rate band of taxable income. At £125,140 and above the allowance is nil, so the £125,140 additional
  rate threshold is the same figure of income and of taxable income.
- Class 4 National Insurance: 6% on profits between £12,570 and £50,270, 2% above £50,270. It applies to
  self-employment profits only (never to property income) and is not affected by the allowance taper.

Simplifications, deliberately kept:

- Losses: a business's loss reduces that year's total of the same kind (self-employment or property) to no less
  than zero. It is not set against the other kind of income and is not carried forward or back.
- Rounding: HMRC computes tax on whole pounds of income. A whole number of pounds times a whole-number percentage
  is a whole number of pence (pounds × rate% × 100 pence / 100 = pounds × rate pence), so every band's charge is
  exact and nothing is ever rounded. Were a fractional rate ever added, the rule would be to round each band's
  charge down to the penny (floor division), which is what `_charge` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TAX_YEAR = "2025-26"

PERSONAL_ALLOWANCE = 12_570
TAPER_THRESHOLD = 100_000  # adjusted net income above which the allowance is reduced, £1 for every £2

BASIC_RATE_BAND = 37_700  # of taxable income
ADDITIONAL_RATE_THRESHOLD = 125_140  # of taxable income
Band = tuple[str, int, int, int | None]  # name, rate %, lower limit, upper limit (None: no limit), in pounds

INCOME_TAX_BANDS: tuple[Band, ...] = (  # limits of taxable income
    ("Basic rate", 20, 0, BASIC_RATE_BAND),
    ("Higher rate", 40, BASIC_RATE_BAND, ADDITIONAL_RATE_THRESHOLD),
    ("Additional rate", 45, ADDITIONAL_RATE_THRESHOLD, None),
)

CLASS4_LOWER_PROFITS_LIMIT = 12_570
CLASS4_UPPER_PROFITS_LIMIT = 50_270
CLASS4_BANDS: tuple[Band, ...] = (  # limits of self-employment profits
    ("Main rate", 6, CLASS4_LOWER_PROFITS_LIMIT, CLASS4_UPPER_PROFITS_LIMIT),
    ("Additional rate", 2, CLASS4_UPPER_PROFITS_LIMIT, None),
)


@dataclass(frozen=True)
class BandCharge:
    name: str
    rate_percent: int
    amount_pounds: int  # the slice of income (or profits) charged at this rate
    tax_pence: int


@dataclass(frozen=True)
class TaxCalculation:
    total_income_pounds: int  # self-employment plus property, each kind's losses taking it no lower than 0
    personal_allowance_pounds: int
    taxable_income_pounds: int
    income_tax_bands: tuple[BandCharge, ...]  # only bands with amount > 0
    income_tax_pence: int
    class4_bands: tuple[BandCharge, ...]  # only bands with amount > 0; empty without self-employment profits
    class4_pence: int
    total_pence: int


def profit(income_pounds: int, expenses_pounds: int) -> int:
    """A business's profit for the year; negative is a loss."""
    _check_pounds(income_pounds, expenses_pounds)
    if income_pounds < 0 or expenses_pounds < 0:
        raise ValueError("Income and expenses cannot be negative")
    return income_pounds - expenses_pounds


def personal_allowance(adjusted_net_income_pounds: int) -> int:
    reduction = max(0, adjusted_net_income_pounds - TAPER_THRESHOLD) // 2
    return max(0, PERSONAL_ALLOWANCE - reduction)


def calculate(*, self_employment_profits: Sequence[int], property_profits: Sequence[int] = ()) -> TaxCalculation:
    """The year's income tax and Class 4 National Insurance; one profit (negative: a loss) per business."""
    _check_pounds(*self_employment_profits, *property_profits)
    self_employment = max(0, sum(self_employment_profits))
    total_income = self_employment + max(0, sum(property_profits))
    allowance = personal_allowance(total_income)
    taxable = max(0, total_income - allowance)

    income_tax_bands = _charges(taxable, INCOME_TAX_BANDS)
    class4_bands = _charges(self_employment, CLASS4_BANDS)
    income_tax = sum(band.tax_pence for band in income_tax_bands)
    class4 = sum(band.tax_pence for band in class4_bands)
    return TaxCalculation(
        total_income_pounds=total_income,
        personal_allowance_pounds=allowance,
        taxable_income_pounds=taxable,
        income_tax_bands=income_tax_bands,
        income_tax_pence=income_tax,
        class4_bands=class4_bands,
        class4_pence=class4,
        total_pence=income_tax + class4,
    )


def _charges(amount: int, bands: Sequence[Band]) -> tuple[BandCharge, ...]:
    charges = []
    for name, rate, lower, upper in bands:
        in_band = max(0, (amount if upper is None else min(amount, upper)) - lower)
        if in_band > 0:
            charges.append(BandCharge(name, rate, in_band, _charge(in_band, rate)))
    return tuple(charges)


def _charge(pounds: int, rate_percent: int) -> int:
    # pounds × rate% in pence = pounds × 100 × rate / 100; floor division: round down to the penny (see module doc).
    return pounds * 100 * rate_percent // 100


def _check_pounds(*values: int) -> None:
    # bool is an int and a float would break the integer arithmetic; both are caller bugs.
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Amounts must be whole pounds (int), not {value!r}")
