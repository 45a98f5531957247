"""Time as the portal stores it (UTC) and as people read it (UK time, GMT or BST, whatever the server's zone)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def aware(moment: datetime) -> datetime:
    """A stored time with its UTC offset: SQLite, and Core reads that bypass SQLModel's UTC type, hand back the
    stored UTC time without one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def uk_time(moment: datetime) -> datetime:
    """A stored time as the clock in the UK showed it."""
    return aware(moment).astimezone(UK)
