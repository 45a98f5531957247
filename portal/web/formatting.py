"""Template filters: dates, money and plurals written the GOV.UK way."""

from __future__ import annotations

from datetime import date, datetime

from portal.domain.times import UK

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def govuk_date(value: date | datetime | None) -> str:
    """'5 January 2026', as the GOV.UK style guide writes dates (English month names, whatever the locale)."""
    if value is None:
        return ""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def govuk_datetime(value: datetime | None) -> str:
    """'5 January 2026 at 2:05pm', in UK time (GMT or BST) whatever the server's zone: stored times are UTC."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UK)
    hour = value.hour % 12 or 12
    return f"{govuk_date(value)} at {hour}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


def pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


FILTERS = {"govuk_date": govuk_date, "govuk_datetime": govuk_datetime, "pounds": pounds, "plural": plural}
