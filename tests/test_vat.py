from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain import vat
from portal.domain.vat import MAX_NET_PENCE, MAX_PENCE, MAX_POUNDS, VatReturn, validate

ZEROES = {box: "0" for box in vat.TYPED_BOXES}


def _return(**typed: str) -> VatReturn:
    vat_return, errors = validate(ZEROES | typed)
    assert errors == {}
    assert vat_return is not None
    return vat_return


def _errors(**typed: str) -> dict[str, str]:
    vat_return, errors = validate(ZEROES | typed)
    assert vat_return is None
    return errors


def test_box_3_is_box_1_plus_box_2() -> None:
    assert _return(box1="1000.50", box2="200.25").box3 == 120075


def test_box_5_is_what_is_left_to_pay_when_box_3_is_more_than_box_4() -> None:
    vat_return = _return(box1="1000", box2="50", box4="400.10")
    assert vat_return.box5 == 64990
    assert vat_return.box5_direction == "to pay"


def test_box_5_is_never_negative_and_says_when_the_money_is_to_reclaim() -> None:
    vat_return = _return(box1="100", box4="350.75")
    assert vat_return.box5 == 25075
    assert vat_return.box5_direction == "to reclaim"


def test_box_5_is_nil_when_boxes_3_and_4_are_equal() -> None:
    vat_return = _return(box1="99.99", box4="99.99")
    assert (vat_return.box5, vat_return.box5_direction) == (0, "nil")


def test_negative_amounts_are_allowed_in_every_typed_box() -> None:
    vat_return = _return(box1="-100.10", box2="-£5", box4="£-20", box6="-2000", box7="-1", box8="-0", box9="−3")
    assert (vat_return.box1, vat_return.box2, vat_return.box4) == (-10010, -500, -2000)
    assert (vat_return.box6, vat_return.box7, vat_return.box8, vat_return.box9) == (-2000, -1, 0, -3)
    assert vat_return.box3 == -10510
    assert vat_return.box5 == 8510 and vat_return.box5_direction == "to reclaim"


@pytest.mark.parametrize(("typed", "pence"), [
    ("1250.50", 125050), ("£1,250.50", 125050), (" 1 250.5 ", 125050), ("1250", 125000), ("0.01", 1),
    (".5", 50), ("12.", 1200), ("£ 0", 0), ("1,000,000", 100000000), ("\u00a31\u00a0000", 100000),
])
def test_amounts_in_pounds_and_pence_are_read_the_way_people_write_them(typed: str, pence: int) -> None:
    assert _return(box1=typed).box1 == pence


@pytest.mark.parametrize("typed", ["12.345", "1.001", "abc", "12a", "1e5", "£", "-", ".", "1.2.3", "--5", "-£-5",
                                   "0x10", "5%", "1/2"])
def test_anything_that_is_not_pounds_and_pence_is_refused(typed: str) -> None:
    assert _errors(box2=typed) == {"box2": "Box 2 must be an amount in pounds and pence, like 1250.50"}


@pytest.mark.parametrize("box", ["box1", "box2", "box4", "box6", "box7", "box8", "box9"])
def test_an_empty_box_asks_for_an_amount_or_zero(box: str) -> None:
    number = box[3:]
    assert _errors(**{box: "  "}) == {box: f"Enter the amount for box {number}. Enter 0 if there is none"}


def test_every_wrong_box_has_its_own_error_in_page_order() -> None:
    vat_return, errors = validate({"box9": "x", "box1": ""})
    assert vat_return is None
    assert list(errors) == ["box1", "box2", "box4", "box6", "box7", "box8", "box9"]


# The box that keeps box 5 (box 1 + box 2 − box 4) inside its far smaller limit while one box is at its own.
BALANCE = {"box1": "box4", "box2": "box4", "box4": "box1"}


@pytest.mark.parametrize("box", ["box1", "box2", "box4"])
def test_pence_boxes_accept_their_limits_and_refuse_a_penny_more(box: str) -> None:
    other = BALANCE[box]
    assert getattr(_return(**{box: "9,999,999,999,999.99", other: "9999999999999.99"}), box) == MAX_PENCE
    assert getattr(_return(**{box: "-9999999999999.99", other: "-9999999999999.99"}), box) == -MAX_PENCE
    # just inside: a penny under the limit
    assert getattr(_return(**{box: "9999999999999.98", other: "9999999999999.98"}), box) == MAX_PENCE - 1
    number = box[3:]
    assert _errors(**{box: "10000000000000"}) == {box: f"Box {number} must be £9,999,999,999,999.99 or less"}
    assert _errors(**{box: "-10000000000000.00"}) == {box: f"Box {number} must be -£9,999,999,999,999.99 or more"}


@pytest.mark.parametrize("box", ["box6", "box7", "box8", "box9"])
def test_whole_pound_boxes_accept_their_limits_and_refuse_a_pound_more(box: str) -> None:
    assert getattr(_return(**{box: "9999999999999"}), box) == MAX_POUNDS
    assert getattr(_return(**{box: "-9,999,999,999,999"}), box) == -MAX_POUNDS
    assert getattr(_return(**{box: "9999999999998"}), box) == MAX_POUNDS - 1  # just inside
    number = box[3:]
    assert _errors(**{box: "10000000000000"}) == {box: f"Box {number} must be £9,999,999,999,999 or less"}
    assert _errors(**{box: "-10000000000000"}) == {box: f"Box {number} must be -£9,999,999,999,999 or more"}


def test_a_huge_number_is_refused_as_too_large_not_a_crash() -> None:
    assert _errors(box1="9" * 5000) == {"box1": "Box 1 must be £9,999,999,999,999.99 or less"}
    assert _errors(box7="-" + "9" * 5000) == {"box7": "Box 7 must be -£9,999,999,999,999 or more"}


@pytest.mark.parametrize("typed", ["20000.50", "1.5", "0.01", "abc", "20k"])
def test_boxes_6_to_9_are_whole_pounds(typed: str) -> None:
    assert _errors(box6=typed) == {"box6": "Box 6 must be a whole number of pounds, like 20000"}


@pytest.mark.parametrize(("typed", "whole"), [("20000", 20000), ("£20,000", 20000), ("20000.00", 20000), ("0", 0)])
def test_boxes_6_to_9_read_whole_pounds_written_in_the_usual_ways(typed: str, whole: int) -> None:
    assert _return(box8=typed).box8 == whole


def test_box_3_over_the_limit_is_refused_even_when_boxes_1_and_2_are_each_within_it() -> None:
    errors = _errors(box1="9999999999999.99", box2="0.01", box4="9999999999999.99")
    assert list(errors) == ["box1"]
    assert "box 3" in errors["box1"]
    assert _errors(box1="-9999999999999.99", box2="-0.01", box4="-9999999999999.99").keys() == {"box1"}
    assert _return(box1="9999999999999.99", box2="-0.01", box4="9999999999999.98").box3 == MAX_PENCE - 1


BOX_5_TOO_BIG = {"box4": "Net VAT (box 5, the difference between box 3 and box 4) must be £99,999,999,999.99 or "
                         "less. Check boxes 1, 2 and 4"}


def test_box_5_at_hmrcs_limit_is_accepted_to_pay_and_to_reclaim() -> None:
    # Before issue 15 this test asserted that box 5 could reach 2 × £9,999,999,999,999.99: that was wrong, HMRC's
    # VAT API caps netVatDue at £99,999,999,999.99 (api.md §8).
    assert MAX_NET_PENCE == 9_999_999_999_999
    to_pay = _return(box1="99,999,999,999.99")
    assert (to_pay.box5, to_pay.box5_direction) == (MAX_NET_PENCE, "to pay")
    to_reclaim = _return(box4="99999999999.99")
    assert (to_reclaim.box5, to_reclaim.box5_direction) == (MAX_NET_PENCE, "to reclaim")


def test_box_5_just_inside_hmrcs_limit_is_accepted() -> None:
    # box 3 £100,000,000,000.00 − box 4 £0.02 = £99,999,999,999.98
    assert _return(box1="100000000000", box4="0.02").box5 == MAX_NET_PENCE - 1
    # box 3 = −£99,999,999,999.98, box 4 0: to reclaim £99,999,999,999.98
    assert _return(box1="-99999999999.98").box5 == MAX_NET_PENCE - 1


def test_box_5_a_penny_over_hmrcs_limit_is_refused_with_the_limit_in_words() -> None:
    # box 3 £100,000,000,000.00 − box 4 £0.00 = a penny over; each typed box is well inside its own limit
    assert _errors(box1="100,000,000,000.00") == BOX_5_TOO_BIG
    assert _errors(box1="50000000000", box2="50000000000") == BOX_5_TOO_BIG
    assert _errors(box4="100000000000") == BOX_5_TOO_BIG
    assert _errors(box1="9999999999999.99", box4="-9999999999999.99") == BOX_5_TOO_BIG  # once accepted


def test_figures_keep_all_nine_boxes_and_read_back_the_same_return() -> None:
    vat_return = _return(box1="10.01", box2="2", box4="3.50", box6="100", box7="50", box8="1", box9="2")
    figures = vat_return.as_figures()
    assert figures == {"box1": 1001, "box2": 200, "box3": 1201, "box4": 350, "box5": 851, "box6": 100, "box7": 50,
                       "box8": 1, "box9": 2, "box5_direction": "to pay"}
    assert VatReturn.from_figures(figures) == vat_return


def _written(pence: int, style: int) -> str:
    """An amount in pence as a person might type it."""
    sign, whole, part = "-" if pence < 0 else "", *divmod(abs(pence), 100)
    return [f"{sign}{whole}.{part:02d}", f"{sign}£{whole:,}.{part:02d}", f" {sign}{whole:,}.{part:02d} "][style]


pence_amounts = st.integers(min_value=-MAX_PENCE, max_value=MAX_PENCE)
# Most real returns are far below the limits; this draws around box 5's limit as often as anywhere.
small_pence = st.integers(min_value=-2 * MAX_NET_PENCE, max_value=2 * MAX_NET_PENCE)


@given(pence_amounts | small_pence, pence_amounts | small_pence, pence_amounts | small_pence,
       st.integers(-MAX_POUNDS, MAX_POUNDS), st.integers(0, 2))
def test_for_any_valid_figures_box_3_is_the_sum_and_box_5_the_difference(box1: int, box2: int, box4: int,
                                                                         box6: int, style: int) -> None:
    vat_return, errors = validate(ZEROES | {"box1": _written(box1, style), "box2": _written(box2, style),
                                            "box4": _written(box4, style), "box6": f"{box6:,}"})
    if abs(box1 + box2) > MAX_PENCE:
        assert vat_return is None and list(errors) == ["box1"]
        return
    if abs(box1 + box2 - box4) > MAX_NET_PENCE:  # HMRC's box 5 limit
        assert vat_return is None and errors == BOX_5_TOO_BIG
        return
    assert errors == {} and vat_return is not None
    assert (vat_return.box1, vat_return.box2, vat_return.box4, vat_return.box6) == (box1, box2, box4, box6)
    assert vat_return.box3 == box1 + box2
    assert vat_return.box5 == abs(vat_return.box3 - vat_return.box4) >= 0
    expected = "to pay" if vat_return.box3 > box4 else "to reclaim" if vat_return.box3 < box4 else "nil"
    assert vat_return.box5_direction == expected
