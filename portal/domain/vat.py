"""The nine boxes of a VAT return and their rules, as HMRC's VAT (MTD) API checks them.

Pure functions on what the person typed: no database, no web. Money is held in integer pence for boxes 1 to 5
and in whole pounds for boxes 6 to 9, so no float ever rounds a tax figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal.i18n import N_, gettext

# What HMRC calls each box (the paper VAT100 wording, shortened where the form gives a hint).
BOX_LABELS: dict[str, str] = {  # marked here, translated where they are shown
    "box1": N_("VAT due on sales and other outputs"),
    "box2": N_("VAT due on acquisitions of goods made in Northern Ireland from EU member states"),
    "box3": N_("Total VAT due"),
    "box4": N_("VAT reclaimed on purchases and other inputs"),
    "box5": N_("Net VAT"),
    "box6": N_("Total value of sales and all other outputs, excluding VAT"),
    "box7": N_("Total value of purchases and all other inputs, excluding VAT"),
    "box8": N_("Total value of supplies of goods and related costs, excluding VAT, from Northern Ireland to EU "
               "member states"),
    "box9": N_("Total value of acquisitions of goods and related costs, excluding VAT, made in Northern Ireland "
               "from EU member states"),
}
PENCE_BOXES = ("box1", "box2", "box4")  # typed, in pounds and pence
POUND_BOXES = ("box6", "box7", "box8", "box9")  # typed, in whole pounds
TYPED_BOXES = PENCE_BOXES + POUND_BOXES
ALL_BOXES = tuple(f"box{n}" for n in range(1, 10))

# HMRC's limits (VAT API 1.0, VatReturnDeclaration.json; api.md §8): boxes 1 to 4 from -£9,999,999,999,999.99
# to £9,999,999,999,999.99 in pence; box 5 from 0 to £99,999,999,999.99, a limit 100 times smaller, so boxes 3 and
# 4 can each be in range while their difference is not; boxes 6 to 9 in whole pounds, ±£9,999,999,999,999.
MAX_PENCE = 999_999_999_999_999  # £9,999,999,999,999.99 (boxes 1 to 4)
MAX_NET_PENCE = 9_999_999_999_999  # £99,999,999,999.99 (box 5)
MAX_POUNDS = 9_999_999_999_999  # £9,999,999,999,999 (boxes 6 to 9)

_AMOUNT = re.compile(r"(?P<sign>-?)£?(?P<sign2>-?)(?P<pounds>[0-9]*)(?:\.(?P<pence>[0-9]*))?")
_MAX_DIGITS = 20  # longer than any allowed amount: refused as too large without building a huge int


class BoxError(ValueError):
    """What is wrong with one box, as the GOV.UK error message to show."""


def _number(box: str) -> str:
    return box.removeprefix("box")


def _clean(text: str) -> str:
    # Tolerate how people write money: "£1,250.50", "1 250.50", "−£20" with a typographic minus.
    return re.sub(r"[\s,\u00a0]", "", text).replace("\u2212", "-").replace("\u2013", "-")


def _split(text: str, box: str, wrong: str) -> tuple[int, str, str]:
    """(sign, pounds digits, pence digits) of a typed amount, or BoxError."""
    cleaned = _clean(text)
    if not cleaned:
        raise BoxError(gettext("Enter the amount for box %(number)s. Enter 0 if there is none")
                       % {"number": _number(box)})
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or (match["sign"] and match["sign2"]) or not (match["pounds"] or match["pence"]):
        raise BoxError(wrong)
    sign = -1 if (match["sign"] or match["sign2"]) else 1
    return sign, match["pounds"] or "0", match["pence"] or ""


def _in_range(value: int, limit: int, box: str, shown: str) -> int:
    if value > limit:
        raise BoxError(gettext("Box %(number)s must be %(amount)s or less") % {"number": _number(box), "amount": shown})
    if value < -limit:
        raise BoxError(gettext("Box %(number)s must be %(amount)s or more")
                       % {"number": _number(box), "amount": f"-{shown}"})
    return value


def parse_pence(text: str, box: str) -> int:
    """An amount in pounds and pence (boxes 1, 2 and 4) as integer pence."""
    wrong = gettext("Box %(number)s must be an amount in pounds and pence, like 1250.50") % {"number": _number(box)}
    sign, pounds, pence = _split(text, box, wrong)
    if len(pence) > 2:
        raise BoxError(wrong)
    if len(pounds.lstrip("0")) > _MAX_DIGITS:
        return _in_range(sign * (MAX_PENCE + 1), MAX_PENCE, box, "£9,999,999,999,999.99")
    value = sign * (int(pounds) * 100 + int(pence.ljust(2, "0")))
    return _in_range(value, MAX_PENCE, box, "£9,999,999,999,999.99")


def parse_pounds(text: str, box: str) -> int:
    """A whole number of pounds (boxes 6 to 9). "20000.00" is whole; "20000.50" is not."""
    wrong = gettext("Box %(number)s must be a whole number of pounds, like 20000") % {"number": _number(box)}
    sign, pounds, pence = _split(text, box, wrong)
    if pence.strip("0"):
        raise BoxError(wrong)
    if len(pounds.lstrip("0")) > _MAX_DIGITS:
        return _in_range(sign * (MAX_POUNDS + 1), MAX_POUNDS, box, "£9,999,999,999,999")
    return _in_range(sign * int(pounds), MAX_POUNDS, box, "£9,999,999,999,999")


@dataclass(frozen=True)
class VatReturn:
    """A valid return. Boxes 1 to 5 in pence, boxes 6 to 9 in whole pounds; boxes 3 and 5 are worked out."""

    box1: int
    box2: int
    box4: int
    box6: int
    box7: int
    box8: int
    box9: int

    @property
    def box3(self) -> int:
        return self.box1 + self.box2

    @property
    def box5(self) -> int:
        return abs(self.box3 - self.box4)

    @property
    def box5_direction(self) -> str:
        if self.box3 > self.box4:
            return "to pay"
        return "to reclaim" if self.box3 < self.box4 else "nil"

    def as_figures(self) -> dict[str, Any]:
        """What a Submission stores: all nine boxes as numbers, and which way box 5 goes."""
        return {box: getattr(self, box) for box in ALL_BOXES} | {"box5_direction": self.box5_direction}

    @classmethod
    def from_figures(cls, figures: Mapping[str, Any]) -> VatReturn:
        return cls(**{box: int(figures[box]) for box in TYPED_BOXES})


def validate(values: Mapping[str, str]) -> tuple[VatReturn | None, dict[str, str]]:
    """The return the typed values make, or None and the errors keyed by field id ("box1" ... "box9")."""
    parsed: dict[str, int] = {}
    errors: dict[str, str] = {}
    for box in TYPED_BOXES:
        parse = parse_pence if box in PENCE_BOXES else parse_pounds
        try:
            parsed[box] = parse(values.get(box) or "", box)
        except BoxError as error:
            errors[box] = str(error)
    if errors:
        return None, errors
    vat_return = VatReturn(**parsed)
    # Boxes 1 and 2 can each be in range while their total, box 3, is not.
    if not -MAX_PENCE <= vat_return.box3 <= MAX_PENCE:
        return None, {"box1": gettext("Box 1 plus box 2 must be between %(lowest)s and %(highest)s, because their "
                                      "total goes in box 3") % {"lowest": "-£9,999,999,999,999.99",
                                                                "highest": "£9,999,999,999,999.99"}}
    if vat_return.box5 > MAX_NET_PENCE:
        # Box 5 is worked out, not typed, so the message goes by box 4 and says which figures make it.
        return None, {"box4": gettext("Net VAT (box 5, the difference between box 3 and box 4) must be %(amount)s "
                                      "or less. Check boxes 1, 2 and 4") % {"amount": "£99,999,999,999.99"}}
    return vat_return, {}
