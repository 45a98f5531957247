"""Whole numbers typed into forms or sent in URLs: ASCII digits 0-9 only."""

from __future__ import annotations

MAX_ID = 2**31 - 1  # the largest key an INTEGER column holds (portal.web.convertors maps larger path ids to 0)
# A database id typed or sent as text: up to this many digits always fits (more may be a database error, a 500,
# rather than "not found").
ID_DIGITS = len(str(MAX_ID)) - 1


def is_whole_number(text: str) -> bool:
    """True for ASCII digits only: str.isdigit() also passes Unicode digits ("³", "①", "٣"), which int() refuses
    (a 500) or reads as digits of another script."""
    return text.isascii() and text.isdigit()


def whole_number(text: str | None, *, max_digits: int | None = None) -> int | None:
    """The non-negative whole number written in ASCII digits, or None (also when longer than max_digits)."""
    if text is None or not is_whole_number(text) or (max_digits is not None and len(text) > max_digits):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() reads (sys.get_int_max_str_digits)
        return None
