"""Template filters: dates and money written the GOV.UK way, in the language of the page."""

from __future__ import annotations

from datetime import date, datetime

from portal import i18n
from portal.domain.times import UK


def govuk_date(value: date | datetime | None) -> str:
    """'5 January 2026', or '5 Ionawr 2026' in Welsh: the month's name comes from the locale (Babel)."""
    if value is None:
        return ""
    return i18n.format_date(value)


def govuk_datetime(value: datetime | None) -> str:
    """'5 January 2026 at 2:05pm', in UK time (GMT or BST) whatever the server's zone: stored times are UTC."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UK)
    hour = value.hour % 12 or 12
    # Translators: the GOV.UK style for a time of day, before noon ("9:05am"); Welsh writes "9:05yb".
    morning = i18n.pgettext("time of day", "%(hour)d:%(minute)02dam")
    # Translators: after noon ("2:05pm"); Welsh writes "2:05yh".
    afternoon = i18n.pgettext("time of day", "%(hour)d:%(minute)02dpm")
    time = (morning if value.hour < 12 else afternoon) % {"hour": hour, "minute": value.minute}
    # Translators: a date and a time of day: "5 January 2026 at 2:05pm".
    return i18n.gettext("%(date)s at %(time)s") % {"date": govuk_date(value), "time": time}


def pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    return i18n.format_pounds(pence)


# No plural filter: counts go through ngettext or {% trans count=… %}…{% pluralize %}, since Welsh has six forms.
FILTERS = {"govuk_date": govuk_date, "govuk_datetime": govuk_datetime, "pounds": pounds}
