"""The 2025-26 Income Tax and Class 4 calculation against worked examples derived by hand (amounts in pence).

Reminders for reading the arithmetic: tax bands apply to TAXABLE income (basic 20% on the first 37,700, higher 40%
to 125,140, additional 45% above); Class 4 applies to self-employment PROFITS (6% from 12,570 to 50,270, 2% above).
A full basic rate band costs 37,700 × 20% = 7,540.00; a full higher rate band 87,440 × 40% = 34,976.00;
a full Class 4 main rate band 37,700 × 6% = 2,262.00.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.tax_calculation import BandCharge, TaxCalculation, calculate, personal_allowance, profit


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


def test_a_loss_reduces_other_businesses_of_the_same_kind() -> None:
    # self-employment 40,000 − 10,000 = 30,000 (as the 30,000 example); the property loss counts as nil
    calculation = calculate(self_employment_profits=[40_000, -10_000], property_profits=[-3_000])
    assert calculation.total_income_pounds == 30_000
    assert calculation.total_pence == 453_180


def test_a_self_employment_loss_is_not_set_against_property_income() -> None:
    # self-employment nil (not −5,000); property 20,000 → taxable 7,430 × 20% = 1,486.00; no Class 4
    calculation = calculate(self_employment_profits=[-5_000], property_profits=[20_000])
    assert calculation.total_income_pounds == 20_000
    assert calculation.income_tax_pence == 148_600
    assert calculation.class4_pence == 0


def test_losses_bigger_than_profits_take_the_total_to_nil_not_below() -> None:
    calculation = calculate(self_employment_profits=[10_000, -25_000], property_profits=[5_000, -6_000])
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
