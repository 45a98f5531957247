"""The 2025-26 Income Tax and Class 4 calculation against worked examples derived by hand (amounts in pence).

Reminders for reading the arithmetic: tax bands apply to TAXABLE income (basic 20% on the first 37,700, higher 40%
to 125,140, additional 45% above); Class 4 applies to self-employment PROFITS (6% from 12,570 to 50,270, 2% above).
A full basic rate band costs 37,700 × 20% = 7,540.00; a full higher rate band 87,440 × 40% = 34,976.00;
a full Class 4 main rate band 37,700 × 6% = 2,262.00.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.tax_calculation import (
    BandCharge,
    BusinessIncome,
    TaxCalculation,
    all_bands,
    calculate,
    declare,
    personal_allowance,
    profit,
)


def self_employed(pounds: int) -> TaxCalculation:
    return calculate(self_employment_profits=[pounds])


def bands(calculation: tuple[BandCharge, ...]) -> list[tuple[str, int, int, int]]:
    return [(b.name, b.rate_percent, b.amount_pounds, b.tax_pence) for b in calculation]


# --- worked examples ---------------------------------------------------------------------------------------------


def test_30000_self_employment_profit() -> None:
    # allowance 12,570; taxable 30,000 − 12,570 = 17,430; income tax 17,430 × 20% = 3,486.00
    # Class 4 (30,000 − 12,570) × 6% = 17,430 × 6% = 1,045.80; total 4,531.80
    assert self_employed(30_000) == TaxCalculation(
        total_income_pounds=30_000,
        personal_allowance_pounds=12_570,
        taxable_income_pounds=17_430,
        income_tax_bands=(BandCharge("Basic rate", 20, 17_430, 348_600),),
        income_tax_pence=348_600,
        class4_bands=(BandCharge("Main rate", 6, 17_430, 104_580),),
        class4_pence=104_580,
        total_pence=453_180,
    )


def test_zero_profit_owes_nothing() -> None:
    calculation = self_employed(0)
    assert (calculation.total_income_pounds, calculation.personal_allowance_pounds) == (0, 12_570)
    assert calculation.taxable_income_pounds == 0
    assert calculation.income_tax_bands == calculation.class4_bands == ()
    assert calculation.total_pence == 0


def test_a_loss_counts_as_nil_income_and_owes_nothing() -> None:
    calculation = self_employed(-5_000)
    assert calculation.total_income_pounds == 0
    assert calculation.taxable_income_pounds == 0
    assert calculation.total_pence == 0


def test_profit_exactly_the_allowance_owes_nothing() -> None:
    # taxable 12,570 − 12,570 = 0; Class 4 starts ABOVE 12,570, so nothing either
    calculation = self_employed(12_570)
    assert calculation.taxable_income_pounds == 0
    assert calculation.income_tax_bands == calculation.class4_bands == ()
    assert calculation.total_pence == 0


def test_one_pound_over_the_allowance() -> None:
    # taxable 1 → 1 × 20% = 0.20; Class 4 1 × 6% = 0.06; total 0.26
    calculation = self_employed(12_571)
    assert bands(calculation.income_tax_bands) == [("Basic rate", 20, 1, 20)]
    assert bands(calculation.class4_bands) == [("Main rate", 6, 1, 6)]
    assert calculation.total_pence == 26


def test_top_of_the_basic_rate_band() -> None:
    # taxable 50,270 − 12,570 = 37,700, all basic: 7,540.00; Class 4 37,700 × 6% = 2,262.00; total 9,802.00
    calculation = self_employed(50_270)
    assert calculation.taxable_income_pounds == 37_700
    assert bands(calculation.income_tax_bands) == [("Basic rate", 20, 37_700, 754_000)]
    assert bands(calculation.class4_bands) == [("Main rate", 6, 37_700, 226_200)]
    assert calculation.total_pence == 980_200


def test_one_pound_into_the_higher_rate_band() -> None:
    # taxable 37,701: 7,540.00 + 1 × 40% = 0.40 → 7,540.40
    # Class 4: 2,262.00 + 1 × 2% = 0.02 → 2,262.02; total 9,802.42
    calculation = self_employed(50_271)
    assert bands(calculation.income_tax_bands) == [("Basic rate", 20, 37_700, 754_000), ("Higher rate", 40, 1, 40)]
    assert bands(calculation.class4_bands) == [("Main rate", 6, 37_700, 226_200), ("Additional rate", 2, 1, 2)]
    assert calculation.income_tax_pence == 754_040
    assert calculation.class4_pence == 226_202
    assert calculation.total_pence == 980_242


def test_100000_keeps_the_full_allowance() -> None:
    # allowance 12,570 (not over 100,000); taxable 87,430
    # income tax 7,540.00 + (87,430 − 37,700 = 49,730) × 40% = 19,892.00 → 27,432.00
    # Class 4 2,262.00 + (100,000 − 50,270 = 49,730) × 2% = 994.60 → 3,256.60; total 30,688.60
    calculation = self_employed(100_000)
    assert calculation.personal_allowance_pounds == 12_570
    assert calculation.taxable_income_pounds == 87_430
    assert bands(calculation.income_tax_bands) == [
        ("Basic rate", 20, 37_700, 754_000),
        ("Higher rate", 40, 49_730, 1_989_200),
    ]
    assert calculation.income_tax_pence == 2_743_200
    assert bands(calculation.class4_bands) == [
        ("Main rate", 6, 37_700, 226_200),
        ("Additional rate", 2, 49_730, 99_460),
    ]
    assert calculation.class4_pence == 325_660
    assert calculation.total_pence == 3_068_860


def test_a_spare_pound_over_100000_does_not_reduce_the_allowance() -> None:
    # 1 over 100,000 is not yet a whole £2: allowance 12,570, taxable 87,431 → 27,432.00 + 0.40 = 27,432.40
    calculation = self_employed(100_001)
    assert calculation.personal_allowance_pounds == 12_570
    assert calculation.income_tax_pence == 2_743_240


def test_every_2_pounds_over_100000_takes_1_pound_of_allowance() -> None:
    # allowance 12,570 − 1 = 12,569; taxable 100,002 − 12,569 = 87,433
    # income tax 7,540.00 + (87,433 − 37,700 = 49,733) × 40% = 19,893.20 → 27,433.20
    # Class 4 2,262.00 + (100,002 − 50,270 = 49,732) × 2% = 994.64 → 3,256.64; total 30,689.84
    calculation = self_employed(100_002)
    assert calculation.personal_allowance_pounds == 12_569
    assert calculation.taxable_income_pounds == 87_433
    assert calculation.income_tax_pence == 2_743_320
    assert calculation.class4_pence == 325_664
    assert calculation.total_pence == 3_068_984


def test_one_pound_of_allowance_left_just_below_125140() -> None:
    # 125,139 − 100,000 = 25,139 → reduced by 12,569 → allowance 1
    assert self_employed(125_139).personal_allowance_pounds == 1


def test_allowance_is_nil_at_125140() -> None:
    # allowance 12,570 − 25,140 / 2 = 0; taxable 125,140: all of the higher rate band, none of the additional
    # income tax 7,540.00 + (125,140 − 37,700 = 87,440) × 40% = 34,976.00 → 42,516.00
    # Class 4 2,262.00 + (125,140 − 50,270 = 74,870) × 2% = 1,497.40 → 3,759.40; total 46,275.40
    calculation = self_employed(125_140)
    assert calculation.personal_allowance_pounds == 0
    assert calculation.taxable_income_pounds == 125_140
    assert bands(calculation.income_tax_bands) == [
        ("Basic rate", 20, 37_700, 754_000),
        ("Higher rate", 40, 87_440, 3_497_600),
    ]
    assert calculation.income_tax_pence == 4_251_600
    assert calculation.class4_pence == 375_940
    assert calculation.total_pence == 4_627_540


def test_one_pound_into_the_additional_rate_band() -> None:
    # taxable 125,141: 42,516.00 + 1 × 45% = 0.45 → 42,516.45
    # Class 4 2,262.00 + 74,871 × 2% = 1,497.42 → 3,759.42; total 46,275.87
    calculation = self_employed(125_141)
    assert calculation.personal_allowance_pounds == 0
    assert bands(calculation.income_tax_bands)[-1] == ("Additional rate", 45, 1, 45)
    assert calculation.income_tax_pence == 4_251_645
    assert calculation.class4_pence == 375_942
    assert calculation.total_pence == 4_627_587


def test_150000_uses_all_three_bands() -> None:
    # allowance 0; taxable 150,000
    # 37,700 × 20% = 7,540.00; 87,440 × 40% = 34,976.00; (150,000 − 125,140 = 24,860) × 45% = 11,187.00
    # income tax 53,703.00; Class 4 2,262.00 + (150,000 − 50,270 = 99,730) × 2% = 1,994.60 → 4,256.60
    # total 57,959.60
    calculation = self_employed(150_000)
    assert bands(calculation.income_tax_bands) == [
        ("Basic rate", 20, 37_700, 754_000),
        ("Higher rate", 40, 87_440, 3_497_600),
        ("Additional rate", 45, 24_860, 1_118_700),
    ]
    assert calculation.income_tax_pence == 5_370_300
    assert bands(calculation.class4_bands) == [
        ("Main rate", 6, 37_700, 226_200),
        ("Additional rate", 2, 99_730, 199_460),
    ]
    assert calculation.class4_pence == 425_660
    assert calculation.total_pence == 5_795_960


def test_property_income_pays_income_tax_but_no_class4() -> None:
    # taxable 17,430 → 3,486.00; no self-employment, so no Class 4
    calculation = calculate(self_employment_profits=[], property_profits=[30_000])
    assert calculation.income_tax_pence == 348_600
    assert calculation.class4_bands == ()
    assert calculation.class4_pence == 0
    assert calculation.total_pence == 348_600


def test_mixed_income_class4_only_on_self_employment() -> None:
    # total income 20,000 + 15,000 = 35,000; taxable 22,430 → 4,486.00
    # Class 4 on the 20,000 of self-employment only: 7,430 × 6% = 445.80; total 4,931.80
    calculation = calculate(self_employment_profits=[20_000], property_profits=[15_000])
    assert calculation.total_income_pounds == 35_000
    assert calculation.taxable_income_pounds == 22_430
    assert calculation.income_tax_pence == 448_600
    assert calculation.class4_pence == 44_580
    assert calculation.total_pence == 493_180


def test_a_trading_loss_reduces_another_trade_only_with_a_sideways_claim() -> None:
    # Corrected in issue 15: each trade stands alone, so without a claim the 10,000 loss is carried forward and
    # the 40,000 trade is taxed in full: taxable 27,430 × 20% = 5,486.00; Class 4 27,430 × 6% = 1,645.80
    unclaimed = calculate(self_employment_profits=[40_000, -10_000], property_profits=[-3_000])
    assert unclaimed.total_income_pounds == 40_000
    assert unclaimed.total_pence == 548_600 + 164_580
    # With the claim (ITA 2007 s.64, cap 50,000): 40,000 − 10,000 = 30,000 (as the 30,000 example); the property
    # loss counts as nil and is carried forward against the property business
    calculation = calculate(self_employment_profits=[40_000, -10_000], property_profits=[-3_000],
                            sideways_relief=True)
    assert calculation.total_income_pounds == 30_000
    assert calculation.total_pence == 453_180


def test_a_self_employment_loss_is_not_set_against_property_income() -> None:
    # self-employment nil (not −5,000); property 20,000 → taxable 7,430 × 20% = 1,486.00; no Class 4
    calculation = calculate(self_employment_profits=[-5_000], property_profits=[20_000])
    assert calculation.total_income_pounds == 20_000
    assert calculation.income_tax_pence == 148_600
    assert calculation.class4_pence == 0


def test_losses_bigger_than_profits_take_the_total_to_nil_not_below() -> None:
    # Corrected in issue 15: the trades are netted only with a sideways claim (without one the 10,000 trade is
    # taxed on its own: total income 10,000, still under the allowance). The two UK property parts are one
    # business: 5,000 − 6,000 = −1,000, nil.
    calculation = calculate(self_employment_profits=[10_000, -25_000], property_profits=[5_000, -6_000],
                            sideways_relief=True)
    assert calculation.total_income_pounds == 0
    assert calculation.total_pence == 0


def test_profit_is_income_less_expenses() -> None:
    assert profit(45_000, 15_000) == 30_000
    assert profit(1_000, 3_000) == -2_000


def test_profit_refuses_negative_income_or_expenses() -> None:
    with pytest.raises(ValueError):
        profit(-1, 0)
    with pytest.raises(ValueError):
        profit(0, -1)


@pytest.mark.parametrize("amount", [1.5, 30_000.0, True, "30000"])
def test_amounts_must_be_whole_pounds(amount: object) -> None:
    with pytest.raises(TypeError):
        calculate(self_employment_profits=[amount])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        profit(amount, 0)  # type: ignore[arg-type]


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        calculate([30_000])  # type: ignore[misc]


# --- properties --------------------------------------------------------------------------------------------------

PROFITS = st.integers(min_value=-50_000, max_value=1_000_000)


@given(PROFITS, st.integers(min_value=1, max_value=50_000))
def test_more_profit_never_means_less_tax(pounds: int, more: int) -> None:
    assert self_employed(pounds + more).total_pence >= self_employed(pounds).total_pence
    assert (
        calculate(self_employment_profits=[], property_profits=[pounds + more]).total_pence
        >= calculate(self_employment_profits=[], property_profits=[pounds]).total_pence
    )


@given(st.integers(min_value=100_000, max_value=125_138))
def test_marginal_rate_in_the_taper_is_60_percent_plus_2_percent_class4(pounds: int) -> None:
    # £2 more: 2 × 40% = 0.80 on the income, plus £1 of lost allowance × 40% = 0.40 → 1.20 (60%); Class 4 2 × 2% = 0.04
    before, after = self_employed(pounds), self_employed(pounds + 2)
    assert after.personal_allowance_pounds == before.personal_allowance_pounds - 1
    assert after.income_tax_pence - before.income_tax_pence == 120
    assert after.class4_pence - before.class4_pence == 4
    assert after.total_pence - before.total_pence == 124


@given(st.integers(min_value=-10_000_000, max_value=10_000_000))
def test_allowance_is_never_negative_nor_above_12570(pounds: int) -> None:
    assert 0 <= personal_allowance(pounds) <= 12_570
    assert 0 <= self_employed(pounds).personal_allowance_pounds <= 12_570


@given(st.lists(PROFITS, max_size=4), st.lists(PROFITS, max_size=4))
def test_the_parts_add_up(self_employment: list[int], property_: list[int]) -> None:
    calculation = calculate(self_employment_profits=self_employment, property_profits=property_)
    assert calculation.taxable_income_pounds == calculation.total_income_pounds - min(
        calculation.total_income_pounds, calculation.personal_allowance_pounds
    )
    assert sum(b.amount_pounds for b in calculation.income_tax_bands) == calculation.taxable_income_pounds
    assert calculation.income_tax_pence == sum(b.tax_pence for b in calculation.income_tax_bands)
    assert calculation.class4_pence == sum(b.tax_pence for b in calculation.class4_bands)
    assert calculation.total_pence == calculation.income_tax_pence + calculation.class4_pence
    assert all(b.amount_pounds > 0 for b in calculation.income_tax_bands + calculation.class4_bands)
    assert all(b.tax_pence == b.amount_pounds * b.rate_percent for b in calculation.income_tax_bands)


# --- issue 15: every band edge, rUK and Scottish (property income: no Class 4 to add) ------------------------------


def on_property(pounds: int, *, scottish: bool = False, savings: int = 0, dividends: int = 0) -> TaxCalculation:
    return calculate(self_employment_profits=[], property_profits=[pounds], savings_interest=savings,
                     dividends=dividends, scottish=scottish)


@pytest.mark.parametrize(("income", "tax_pence"), [
    (12_570, 0),  # taxable 0
    (12_571, 20),  # 1 × 20% = 0.20
    (50_270, 754_000),  # 37,700 × 20% = 7,540.00
    (50_271, 754_040),  # + 1 × 40% = 0.40
    (100_000, 2_743_200),  # 7,540.00 + 49,730 × 40% = 19,892.00
    (125_140, 4_251_600),  # allowance nil: 7,540.00 + 87,440 × 40% = 34,976.00
    (125_141, 4_251_645),  # + 1 × 45% = 0.45
])
def test_rest_of_uk_band_edges(income: int, tax_pence: int) -> None:
    assert on_property(income).income_tax_pence == tax_pence


# Scottish band limits of taxable income: 2,827 | 14,921 | 31,092 | 62,430 | 125,140 (domain.md §9.2).
# Full bands: starter 2,827 × 19% = 537.13; basic 12,094 × 20% = 2,418.80; intermediate 16,171 × 21% = 3,395.91;
# higher 31,338 × 42% = 13,161.96; advanced 62,710 × 45% = 28,219.50.
@pytest.mark.parametrize(("income", "tax_pence", "top_band"), [
    (12_570, 0, None),
    (12_571, 19, ("Starter rate", 19, 1, 19)),  # 1 × 19% = 0.19
    (15_397, 53_713, ("Starter rate", 19, 2_827, 53_713)),  # taxable 2,827 × 19% = 537.13
    (15_398, 53_733, ("Basic rate", 20, 1, 20)),  # 537.13 + 0.20
    (27_491, 295_593, ("Basic rate", 20, 12_094, 241_880)),  # 537.13 + 2,418.80 = 2,955.93
    (27_492, 295_614, ("Intermediate rate", 21, 1, 21)),  # + 0.21
    (43_662, 635_184, ("Intermediate rate", 21, 16_171, 339_591)),  # 2,955.93 + 3,395.91 = 6,351.84
    (43_663, 635_226, ("Higher rate", 42, 1, 42)),  # + 0.42
    (75_000, 1_951_380, ("Higher rate", 42, 31_338, 1_316_196)),  # 6,351.84 + 13,161.96 = 19,513.80
    (75_001, 1_951_425, ("Advanced rate", 45, 1, 45)),  # + 0.45
    # taper: allowance 12,570 − 5,000 = 7,570; taxable 102,430; advanced 40,000 × 45% = 18,000.00 → 37,513.80
    (110_000, 3_751_380, ("Advanced rate", 45, 40_000, 1_800_000)),
    (125_140, 4_773_330, ("Advanced rate", 45, 62_710, 2_821_950)),  # allowance nil: 19,513.80 + 28,219.50
    (125_141, 4_773_378, ("Top rate", 48, 1, 48)),  # + 0.48
])
def test_scottish_band_edges(income: int, tax_pence: int, top_band: tuple[str, int, int, int] | None) -> None:
    calculation = on_property(income, scottish=True)
    assert calculation.scottish is True
    assert calculation.income_tax_pence == tax_pence
    assert (bands(calculation.income_tax_bands) or [None])[-1] == top_band


def test_a_scottish_taxpayer_pays_the_same_class_4_as_anyone() -> None:
    # Class 4 is UK-wide: 30,000 of profits → 17,430 × 6% = 1,045.80 either way
    assert calculate(self_employment_profits=[30_000], scottish=True).class4_pence == 104_580
    # Income Tax differs: Scottish 537.13 + 2,418.80 + (17,430 − 14,921 = 2,509) × 21% = 526.89 → 3,482.82
    assert calculate(self_employment_profits=[30_000], scottish=True).income_tax_pence == 348_282


# --- issue 15: savings interest ------------------------------------------------------------------------------------


def test_savings_inside_the_starting_rate_pay_nothing() -> None:
    # property 15,000 → taxable non-savings 2,430 (486.00); starting rate 5,000 − 2,430 = 2,570 at 0%;
    # the other 430 of the 3,000 interest in the Personal Savings Allowance (basic rate taxpayer: 1,000)
    calculation = on_property(15_000, savings=3_000)
    assert bands(calculation.savings_bands) == [("Starting rate for savings", 0, 2_570, 0),
                                                ("Personal Savings Allowance", 0, 430, 0)]
    assert calculation.income_tax_pence == 48_600
    assert calculation.taxable_income_pounds == 2_430 + 3_000


def test_savings_beyond_the_starting_rate_and_allowance_pay_20_percent() -> None:
    # property 20,000 → taxable 7,430, past 5,000: no starting rate. Allowance 1,000 at 0%, 2,000 × 20% = 400.00
    # non-savings 7,430 × 20% = 1,486.00; total 1,886.00
    calculation = on_property(20_000, savings=3_000)
    assert bands(calculation.savings_bands) == [("Personal Savings Allowance", 0, 1_000, 0),
                                                ("Basic rate", 20, 2_000, 40_000)]
    assert calculation.income_tax_pence == 188_600


def test_savings_alone_use_the_personal_allowance_then_the_starting_rate() -> None:
    # 20,000 interest − 12,570 allowance = 7,430 taxable: 5,000 starting rate, 1,000 allowance, 1,430 × 20% = 286.00
    calculation = calculate(self_employment_profits=[], savings_interest=20_000)
    assert bands(calculation.savings_bands) == [("Starting rate for savings", 0, 5_000, 0),
                                                ("Personal Savings Allowance", 0, 1_000, 0),
                                                ("Basic rate", 20, 1_430, 28_600)]
    assert calculation.income_tax_pence == 28_600


def test_savings_straddling_the_basic_rate_limit_with_the_higher_rate_allowance() -> None:
    # property 45,000 → taxable 32,430 (6,486.00); total taxable 42,430 > 37,700: allowance 500 (32,430 to 32,930)
    # basic (37,700 − 32,930 = 4,770) × 20% = 954.00; higher (10,000 − 500 − 4,770 = 4,730) × 40% = 1,892.00
    calculation = on_property(45_000, savings=10_000)
    assert bands(calculation.savings_bands) == [("Personal Savings Allowance", 0, 500, 0),
                                                ("Basic rate", 20, 4_770, 95_400), ("Higher rate", 40, 4_730, 189_200)]
    assert calculation.income_tax_pence == 648_600 + 95_400 + 189_200


def test_an_additional_rate_taxpayer_has_no_savings_allowance() -> None:
    # property 150,000 + 1,000 interest: allowance nil; the interest sits above 125,140: 1,000 × 45% = 450.00
    calculation = on_property(150_000, savings=1_000)
    assert bands(calculation.savings_bands) == [("Additional rate", 45, 1_000, 45_000)]
    assert calculation.income_tax_pence == 5_370_300 + 45_000  # 53,703.00 as the 150,000 example, + 450.00


# --- issue 15: dividends -------------------------------------------------------------------------------------------


def test_dividends_across_the_basic_and_higher_rate_bands() -> None:
    # property 40,000 → taxable 27,430 (5,486.00). Dividends 20,000 from 27,430: allowance 500 (to 27,930);
    # basic (37,700 − 27,930 = 9,770) × 8.75% = 854.875 → 854.87; higher 9,730 × 33.75% = 3,283.875 → 3,283.87
    calculation = on_property(40_000, dividends=20_000)
    assert bands(calculation.dividend_bands) == [("Dividend Allowance", 0, 500, 0),
                                                 ("Dividend basic rate", Decimal("8.75"), 9_770, 85_487),
                                                 ("Dividend higher rate", Decimal("33.75"), 9_730, 328_387)]
    assert calculation.income_tax_pence == 548_600 + 85_487 + 328_387  # 9,624.74


def test_dividends_alone_reach_the_additional_rate() -> None:
    # 150,000 of dividends: allowance nil (over 125,140). Dividend Allowance 500; basic 37,200 × 8.75% = 3,255.00;
    # higher 87,440 × 33.75% = 29,511.00; additional (150,000 − 125,140 = 24,860) × 39.35% = 9,782.41
    calculation = calculate(self_employment_profits=[], dividends=150_000)
    assert calculation.personal_allowance_pounds == 0
    assert bands(calculation.dividend_bands) == [("Dividend Allowance", 0, 500, 0),
                                                 ("Dividend basic rate", Decimal("8.75"), 37_200, 325_500),
                                                 ("Dividend higher rate", Decimal("33.75"), 87_440, 2_951_100),
                                                 ("Dividend additional rate", Decimal("39.35"), 24_860, 978_241)]
    assert calculation.income_tax_pence == 4_254_841


def test_dividends_count_towards_the_100000_taper() -> None:
    # property 95,000 + dividends 10,000: adjusted net income 105,000 → allowance 12,570 − 2,500 = 10,070
    # non-savings taxable 84,930: 7,540.00 + 47,230 × 40% = 18,892.00 → 26,432.00
    # dividends from 84,930: 500 at 0%, 9,500 × 33.75% = 3,206.25; total 29,638.25
    calculation = on_property(95_000, dividends=10_000)
    assert calculation.personal_allowance_pounds == 10_070
    assert calculation.income_tax_pence == 2_963_825


def test_a_scottish_taxpayer_with_dividends_pays_uk_dividend_rates_by_uk_bands() -> None:
    # property 40,000 → taxable 27,430 at Scottish rates: 537.13 + 2,418.80 + (27,430 − 14,921 = 12,509) × 21%
    # = 2,626.89 → 5,582.82. Dividends 20,000 placed on the UK bands from 27,430, exactly as for anyone:
    # 500 at 0%, 9,770 × 8.75% = 854.87, 9,730 × 33.75% = 3,283.87; total 9,721.56
    calculation = on_property(40_000, dividends=20_000, scottish=True)
    assert bands(calculation.income_tax_bands)[-1] == ("Intermediate rate", 21, 12_509, 262_689)
    assert bands(calculation.dividend_bands) == bands(on_property(40_000, dividends=20_000).dividend_bands)
    assert calculation.income_tax_pence == 558_282 + 85_487 + 328_387


def test_savings_and_dividends_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        calculate(self_employment_profits=[], savings_interest=-1)
    with pytest.raises(ValueError):
        calculate(self_employment_profits=[], dividends=-1)


# --- issue 15: the declaration, from each business's receipts and expenses ----------------------------------------


def trade(receipts: int, expenses: int, name: str = "Joinery") -> BusinessIncome:
    return BusinessIncome(name, "self-employment", receipts, expenses)


def uk_property(receipts: int, expenses: int) -> BusinessIncome:
    return BusinessIncome("Flat", "uk-property", receipts, expenses)


def foreign_property(receipts: int, expenses: int) -> BusinessIncome:
    return BusinessIncome("Villa", "foreign-property", receipts, expenses)


def test_uk_property_profit_beside_a_foreign_property_loss() -> None:
    # UK 40,000 − 10,000 = 30,000; foreign 5,000 − 15,000 = −10,000, carried forward against foreign property only.
    # Taxed on 30,000: taxable 17,430 × 20% = 3,486.00 (netted, as before issue 15, it was 20,000 → 1,486.00)
    declaration = declare([uk_property(40_000, 10_000), foreign_property(5_000, 15_000)])
    assert declaration.calculation.total_income_pounds == 30_000
    assert declaration.calculation.total_pence == 348_600
    uk, foreign = declaration.sources
    assert (uk.name, uk.profit_pounds, uk.income_pounds, uk.loss_carried_forward_pounds) == ("UK property", 30_000,
                                                                                             30_000, 0)
    assert (foreign.name, foreign.profit_pounds, foreign.income_pounds, foreign.loss_carried_forward_pounds) == (
        "Foreign property", -10_000, 0, 10_000)


def test_foreign_property_profit_beside_a_uk_property_loss() -> None:
    # the reverse: UK −10,000 carried forward; foreign 30,000 taxed in full → 3,486.00
    declaration = declare([uk_property(5_000, 15_000), foreign_property(40_000, 10_000)])
    assert declaration.calculation.total_pence == 348_600
    assert [s.loss_carried_forward_pounds for s in declaration.sources] == [10_000, 0]


def test_two_uk_lettings_are_one_uk_property_business() -> None:
    # 20,000 profit and 5,000 loss on two UK lets: one business, 15,000 → taxable 2,430 × 20% = 486.00
    declaration = declare([uk_property(25_000, 5_000), BusinessIncome("Shop", "uk-property", 1_000, 6_000)])
    assert [(s.name, s.profit_pounds) for s in declaration.sources] == [("UK property", 15_000)]
    assert declaration.calculation.total_pence == 48_600


@pytest.mark.parametrize(("receipts", "profit_pounds", "allowance_pounds", "used"), [
    (999, 0, 999, "full relief"),  # 1,000 or less: nil profit without a claim
    (1_000, 0, 1_000, "full relief"),
    (1_001, 801, 0, "expenses"),  # above 1,000: expenses unless the person chooses the allowance
])
def test_the_trading_allowance_at_999_1000_and_1001_of_receipts(receipts: int, profit_pounds: int,
                                                                allowance_pounds: int, used: str) -> None:
    # 200 of expenses; beside a 30,000 UK property profit (3,486.00 alone). Class 4 never arises on so little.
    declaration = declare([trade(receipts, 200), uk_property(30_000, 0)])
    [business, _] = declaration.businesses
    assert (business.profit_pounds, business.allowance_pounds) == (profit_pounds, allowance_pounds)
    assert declaration.allowances[0].used == used
    # 30,000 + 801 = 30,801 → taxable 18,231 × 20% = 3,646.20
    assert declaration.calculation.income_tax_pence == (348_600 if profit_pounds == 0 else 364_620)


def test_choosing_the_trading_allowance_above_1000_of_receipts() -> None:
    # 1,001 − 1,000 = 1 instead of 1,001 − 200 = 801: total 30,001 → taxable 17,431 × 20% = 3,486.20
    declaration = declare([trade(1_001, 200), uk_property(30_000, 0)], trading_allowance=True)
    assert (declaration.businesses[0].profit_pounds, declaration.businesses[0].allowance_pounds) == (1, 1_000)
    assert declaration.allowances[0].used == "partial relief"
    assert declaration.calculation.income_tax_pence == 348_620


def test_choosing_expenses_at_999_of_receipts_keeps_the_loss() -> None:
    # 999 − 1,500 = −501: without the choice the profit would be nil and there would be no loss to claim
    declaration = declare([trade(999, 1_500)], trading_allowance=False)
    assert declaration.businesses[0].profit_pounds == -501
    assert declaration.allowances[0].used == "expenses"
    assert declaration.trading_loss_pounds == 501
    assert declaration.sources[0].loss_carried_forward_pounds == 501


def test_one_property_allowance_covers_uk_and_foreign_property_together() -> None:
    # 600 + 300 = 900 of receipts: both nil. 800 + 300 = 1,100: the allowance, chosen, is split in order:
    # UK 800 (nil), foreign 200 (300 − 200 = 100)
    both_small = declare([uk_property(600, 0), foreign_property(300, 0)])
    assert [b.profit_pounds for b in both_small.businesses] == [0, 0]
    chosen = declare([uk_property(800, 0), foreign_property(300, 0)], property_allowance=True)
    assert [(b.allowance_pounds, b.profit_pounds) for b in chosen.businesses] == [(800, 0), (200, 100)]
    assert chosen.calculation.total_income_pounds == 100


def test_one_trading_allowance_across_all_trades() -> None:
    # two trades of 600 receipts each: 1,200 in all, above 1,000, so no full relief: 600 − 100 = 500 each
    declaration = declare([trade(600, 100, "A"), trade(600, 100, "B")])
    assert [b.profit_pounds for b in declaration.businesses] == [500, 500]


def test_a_trading_loss_without_a_claim_is_carried_forward() -> None:
    # trade 10,000 − 30,000 = −20,000; UK property 40,000 taxed in full: taxable 27,430 × 20% = 5,486.00
    declaration = declare([trade(10_000, 30_000), uk_property(40_000, 0)])
    assert declaration.calculation.income_tax_pence == 548_600
    assert declaration.sources[0].loss_carried_forward_pounds == 20_000
    assert declaration.sources[0].loss_set_sideways_pounds == 0


def test_a_sideways_claim_sets_the_trading_loss_against_other_income() -> None:
    # cap: greater of 50,000 and 25% of 40,000 → 50,000. 40,000 − 20,000 = 20,000 → taxable 7,430 × 20% = 1,486.00
    declaration = declare([trade(10_000, 30_000), uk_property(40_000, 0)], sideways_relief=True)
    calculation = declaration.calculation
    assert (calculation.loss_relief_pounds, calculation.loss_relief_cap_pounds) == (20_000, 50_000)
    assert calculation.total_income_pounds == 20_000
    assert calculation.income_tax_pence == 148_600
    assert (declaration.sources[0].loss_set_sideways_pounds, declaration.sources[0].loss_carried_forward_pounds) == (
        20_000, 0)


def test_a_sideways_claim_is_capped_at_50000() -> None:
    # loss 80,000, property 100,000: cap greater of 50,000 and 25,000 → 50,000; 30,000 carried forward.
    # total 50,000 → taxable 37,430 × 20% = 7,486.00
    declaration = declare([trade(20_000, 100_000), uk_property(100_000, 0)], sideways_relief=True)
    assert declaration.calculation.loss_relief_pounds == 50_000
    assert declaration.sources[0].loss_carried_forward_pounds == 30_000
    assert declaration.calculation.income_tax_pence == 748_600


def test_a_sideways_claim_is_capped_at_a_quarter_of_a_large_income() -> None:
    # loss 300,000, property 400,000: cap 25% of 400,000 = 100,000 (more than 50,000); 200,000 carried forward.
    # total 300,000, allowance nil: 7,540.00 + 34,976.00 + (300,000 − 125,140 = 174,860) × 45% = 78,687.00
    declaration = declare([trade(5_000, 305_000), uk_property(400_000, 0)], sideways_relief=True)
    assert declaration.calculation.loss_relief_pounds == 100_000
    assert declaration.sources[0].loss_carried_forward_pounds == 200_000
    assert declaration.calculation.income_tax_pence == 12_120_300


def test_a_sideways_claim_can_use_up_income_the_allowance_would_have_covered() -> None:
    # loss 20,000 against 15,000 of property income: all 15,000 is used (the claim cannot be for less), 5,000 is
    # carried forward, and the tax saved is only on the 2,430 above the allowance: 486.00
    declaration = declare([trade(5_000, 25_000), uk_property(15_000, 0)], sideways_relief=True)
    assert declaration.calculation.loss_relief_pounds == 15_000
    assert declaration.sources[0].loss_carried_forward_pounds == 5_000
    assert declaration.calculation.total_pence == 0
    assert declare([trade(5_000, 25_000), uk_property(15_000, 0)]).calculation.total_pence == 48_600


def test_sideways_relief_against_another_trade_also_reduces_class_4() -> None:
    # trade A 40,000, trade B −10,000, claimed: Class 4 on 30,000 → 1,045.80 (6% × 17,430)
    declaration = declare([trade(40_000, 0, "A"), trade(5_000, 15_000, "B")], sideways_relief=True)
    assert declaration.class4_profits_pounds == 30_000
    assert declaration.calculation.class4_pence == 104_580


# --- issue 15: properties ------------------------------------------------------------------------------------------

POUNDS = st.integers(min_value=0, max_value=400_000)
MORE = st.integers(min_value=1, max_value=60_000)
SOURCES = ("trade", "uk", "foreign", "savings", "dividends")


def _of(incomes: dict[str, int], scottish: bool, claim: bool = False) -> TaxCalculation:
    return calculate(self_employment_profits=[incomes["trade"]], property_profits=[incomes["uk"]],
                     foreign_property_profits=[incomes["foreign"]], savings_interest=incomes["savings"],
                     dividends=incomes["dividends"], scottish=scottish, sideways_relief=claim)


@given(st.fixed_dictionaries({name: POUNDS for name in SOURCES}), st.sampled_from(SOURCES), MORE, st.booleans())
def test_tax_never_decreases_as_any_income_rises(incomes: dict[str, int], source: str, more: int,
                                                 scottish: bool) -> None:
    # The taper only makes tax rise faster (60% and more); nothing makes it fall.
    before = _of(incomes, scottish)
    after = _of(incomes | {source: incomes[source] + more}, scottish)
    assert after.income_tax_pence >= before.income_tax_pence
    assert after.total_pence >= before.total_pence


@given(st.integers(-200_000, 200_000), st.integers(-200_000, 200_000), st.integers(0, 200_000))
def test_each_property_business_is_floored_on_its_own(uk: int, foreign: int, other_loss: int) -> None:
    alone = calculate(self_employment_profits=[], property_profits=[uk], foreign_property_profits=[foreign])
    assert alone.total_income_pounds == max(0, uk) + max(0, foreign)
    # any loss of the other business changes nothing
    worse = calculate(self_employment_profits=[], property_profits=[uk], foreign_property_profits=[-other_loss])
    assert worse == calculate(self_employment_profits=[], property_profits=[uk], foreign_property_profits=[0])
    declaration = declare([uk_property(max(uk, 0) + 5_000, max(-uk, 0) + 5_000),
                           foreign_property(max(foreign, 0) + 5_000, max(-foreign, 0) + 5_000)])
    assert [s.loss_carried_forward_pounds for s in declaration.sources] == [max(0, -uk), max(0, -foreign)]
    assert declaration.calculation.total_income_pounds == max(0, uk) + max(0, foreign)


@given(st.lists(st.integers(-100_000, 300_000), max_size=3), st.integers(-50_000, 300_000),
       st.integers(-50_000, 300_000), POUNDS, POUNDS, st.booleans(), st.booleans())
def test_the_breakdown_adds_up_to_the_total(trades: list[int], uk: int, foreign: int, savings: int, dividends: int,
                                            scottish: bool, claim: bool) -> None:
    calculation = calculate(self_employment_profits=trades, property_profits=[uk], foreign_property_profits=[foreign],
                            savings_interest=savings, dividends=dividends, scottish=scottish, sideways_relief=claim)
    every_band = all_bands(calculation)
    income = sum(max(0, p) for p in trades) + max(0, uk) + max(0, foreign) + savings + dividends
    assert calculation.total_income_pounds == income - calculation.loss_relief_pounds
    assert calculation.loss_relief_pounds <= max(50_000, income // 4)
    assert calculation.taxable_income_pounds == calculation.total_income_pounds - min(
        calculation.total_income_pounds, calculation.personal_allowance_pounds)
    assert sum(b.amount_pounds for b in every_band) == calculation.taxable_income_pounds
    assert calculation.income_tax_pence == sum(b.tax_pence for b in every_band)
    assert calculation.class4_pence == sum(b.tax_pence for b in calculation.class4_bands)
    assert calculation.total_pence == calculation.income_tax_pence + calculation.class4_pence
    assert all(b.tax_pence == b.amount_pounds * b.rate_percent // 1 for b in every_band)  # rounded down to a penny
