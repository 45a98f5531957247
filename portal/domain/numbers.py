"""Whole numbers typed into forms or sent in URLs: ASCII digits 0-9 only."""

from __future__ import annotations

ID_DIGITS = 9  # a database id: more digits may not fit an INTEGER column (a database error, not "not found")


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
