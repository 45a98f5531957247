"""The 2025-26 Income Tax rates and bands, and how a slice of income is charged at them (domain.md §9).

Pure, and standard-library only but for portal.i18n.N_ (band names are translated where they are shown). Kept
apart from portal.tax_calculation, which decides WHICH income lands in which band; this module only knows the
figures and the arithmetic of one band.

Rates are held in basis points (hundredths of a percent) because the dividend rates are 8.75%, 33.75% and 39.35%:
integers keep every charge exact. A whole number of pounds at a rate in basis points is
pounds × 100 pence × bp / 10,000 = pounds × bp / 100 pence, rounded DOWN to the penny (HMRC never charges a part
of a penny; for whole-percent rates nothing is ever rounded).

Sources (gov.uk, 2025 to 2026): "Income Tax rates and Personal Allowances"; "Scottish Income Tax 2025 to 2026";
"Tax on savings interest"; "Tax on dividends"; "Self-employed National Insurance rates and thresholds".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from portal.i18n import N_

# Band names are marked with N_ and translated where they are shown: a declaration stores them in English.
# name, rate in basis points, lower and upper limit in pounds (upper None: no limit). Limits are of TAXABLE income
# (income after the Personal Allowance) for Income Tax, and of profits for Class 4.
Band = tuple[str, int, int, int | None]

PERSONAL_ALLOWANCE = 12_570
TAPER_THRESHOLD = 100_000  # adjusted net income above which the allowance falls £1 for every £2

BASIC_RATE_BAND = 37_700  # the UK basic rate band, of taxable income
ADDITIONAL_RATE_THRESHOLD = 125_140  # of taxable income (the allowance is nil there, so also of income)

# England, Wales and Northern Ireland: non-savings income (Welsh rates equal England's for 2025-26).
RUK_BANDS: tuple[Band, ...] = (
    (N_("Basic rate"), 2000, 0, BASIC_RATE_BAND),
    (N_("Higher rate"), 4000, BASIC_RATE_BAND, ADDITIONAL_RATE_THRESHOLD),
    (N_("Additional rate"), 4500, ADDITIONAL_RATE_THRESHOLD, None),
)

# Scottish taxpayers: non-savings income only. The gov.uk limits are stated as income with the standard
# allowance (£12,571 to £15,397 starter ...); less £12,570 they are these limits of taxable income.
SCOTTISH_BANDS: tuple[Band, ...] = (
    (N_("Starter rate"), 1900, 0, 2_827),
    (N_("Basic rate"), 2000, 2_827, 14_921),
    (N_("Intermediate rate"), 2100, 14_921, 31_092),
    (N_("Higher rate"), 4200, 31_092, 62_430),
    (N_("Advanced rate"), 4500, 62_430, ADDITIONAL_RATE_THRESHOLD),
    (N_("Top rate"), 4800, ADDITIONAL_RATE_THRESHOLD, None),
)

# Savings and dividends: UK rates and UK bands for everyone, Scottish taxpayers included.
SAVINGS_BANDS: tuple[Band, ...] = (
    (N_("Basic rate"), 2000, 0, BASIC_RATE_BAND),
    (N_("Higher rate"), 4000, BASIC_RATE_BAND, ADDITIONAL_RATE_THRESHOLD),
    (N_("Additional rate"), 4500, ADDITIONAL_RATE_THRESHOLD, None),
)
DIVIDEND_BANDS: tuple[Band, ...] = (
    (N_("Dividend basic rate"), 875, 0, BASIC_RATE_BAND),
    (N_("Dividend higher rate"), 3375, BASIC_RATE_BAND, ADDITIONAL_RATE_THRESHOLD),
    (N_("Dividend additional rate"), 3935, ADDITIONAL_RATE_THRESHOLD, None),
)
STARTING_RATE_FOR_SAVINGS = 5_000  # 0%, less £1 for every £1 of taxable non-savings income
STARTING_RATE_NAME = N_("Starting rate for savings")
PERSONAL_SAVINGS_ALLOWANCE_NAME = N_("Personal Savings Allowance")
DIVIDEND_ALLOWANCE = 500
DIVIDEND_ALLOWANCE_NAME = N_("Dividend Allowance")

CLASS4_LOWER_PROFITS_LIMIT = 12_570
CLASS4_UPPER_PROFITS_LIMIT = 50_270
CLASS4_BANDS: tuple[Band, ...] = (  # limits of self-employment profits
    (N_("Main rate"), 600, CLASS4_LOWER_PROFITS_LIMIT, CLASS4_UPPER_PROFITS_LIMIT),
    (N_("Additional rate"), 200, CLASS4_UPPER_PROFITS_LIMIT, None),
)


@dataclass(frozen=True)
class BandCharge:
    name: str
    rate_percent: Decimal  # for showing: Decimal("20"), Decimal("8.75"); equal to the int 20 where whole
    amount_pounds: int  # the slice of income (or profits) charged at this rate
    tax_pence: int


def personal_savings_allowance(total_taxable_pounds: int) -> int:
    """£1,000 for a basic rate taxpayer, £500 higher rate, nil additional rate: which one is decided by where the
    person's total taxable income ends in the UK bands (for Scottish taxpayers too, domain.md §9.3)."""
    if total_taxable_pounds <= BASIC_RATE_BAND:
        return 1_000
    return 500 if total_taxable_pounds <= ADDITIONAL_RATE_THRESHOLD else 0


def nil_rate(name: str, pounds: int) -> tuple[BandCharge, ...]:
    """A 0% slice (an allowance that still uses up band space), or nothing if it is empty."""
    return (BandCharge(name, Decimal(0), pounds, 0),) if pounds > 0 else ()


def charges(start: int, amount: int, bands: Sequence[Band]) -> tuple[BandCharge, ...]:
    """The charge on the slice [start, start + amount) of taxable income: the bands are filled from the bottom by
    whatever income was taxed before this slice (HMRC's order: non-savings, savings, then dividends)."""
    result = []
    end = start + amount
    for name, rate, lower, upper in bands:
        top = end if upper is None else min(end, upper)
        in_band = max(0, top - max(start, lower))
        if in_band > 0:
            result.append(BandCharge(name, Decimal(rate) / 100, in_band, charge(in_band, rate)))
    return tuple(result)


def charge(pounds: int, rate_basis_points: int) -> int:
    # pounds × bp / 10,000 in pounds = pounds × bp / 100 in pence; floor division rounds down to the penny.
    return pounds * rate_basis_points // 100
