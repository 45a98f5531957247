"""The GOV.UK address questions, checked once for every form that asks them (client details, registration)."""

from __future__ import annotations

from portal.web.forms import Form, check_length, check_uk_address, too_long


def _address(**values: str) -> Form:
    return Form(values={"address_line1": "1 Market Street", "address_line2": "", "town": "Leeds",
                        "postcode": "ls1 4dy", **values})


def test_a_good_address_passes_with_its_postcode_normalised() -> None:
    form = _address()
    check_uk_address(form)
    assert form.ok and form.values["postcode"] == "LS1 4DY"


def test_a_bfpo_number_that_is_valid_still_fits_the_postcode_column() -> None:
    form = _address(postcode="bfpo 1234")  # 9 characters with its space; the column holds 8
    check_uk_address(form)
    assert form.ok and form.values["postcode"] == "BFPO1234"


def test_each_missing_or_overlong_answer_has_its_own_message() -> None:
    form = _address(address_line1="", town="x" * 61, postcode="not a postcode")
    check_uk_address(form)
    assert form.errors == {"address_line1": "Enter address line 1, typically the building and street",
                           "town": "Town or city must be 60 characters or fewer",
                           "postcode": "Enter a real postcode"}


def test_one_wording_for_text_over_its_limit() -> None:
    form = Form(values={"name": "x" * 11, "town": "Leeds"})
    check_length(form, "name", "Full name", 10)
    check_length(form, "town", "Town or city", 10)
    assert form.errors == {"name": "Full name must be 10 characters or fewer"} == {"name": too_long("Full name", 10)}
