"""Dates for made-up data: months, quarter ends, and a moment on a given day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_end(date(year, month, 1)).day))


def month_end(day: date) -> date:
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def quarter_ends(today: date, stagger: int) -> list[date]:
    """Quarter ends from about a year ago to three months ahead, on the VAT stagger's months."""
    ends = []
    for offset in range(-15, 4):
        end = month_end(add_months(date(today.year, today.month, 1), offset))
        if end.month % 3 == stagger:
            ends.append(end)
    return ends
