"""Attempt counting held in the database, so a limit holds across workers, hosts and restarts."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from portal.domain.models import RateLimitEvent


def limit_key(scope: str, subject: str) -> str:
    """A fixed-length key whatever the subject (an email, say): any input fits the column."""
    return f"{scope}:{hashlib.sha256(subject.encode()).hexdigest()}"


def attempts_in_window(db: Session, *, key: str, window: timedelta, now: datetime) -> int:
    query = select(func.count()).select_from(RateLimitEvent).where(
        col(RateLimitEvent.key) == key, col(RateLimitEvent.at) > now - window
    )
    return cast(int, db.execute(query).scalar_one())  # sqlmodel types Session.execute as Result[Any]


def is_limited(db: Session, *, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    return attempts_in_window(db, key=key, window=window, now=now) >= limit


def record_attempt(db: Session, *, key: str, window: timedelta, now: datetime) -> None:
    # Old events for the key no longer count, so they go as new ones come: the table stays small.
    db.execute(delete(RateLimitEvent).where(col(RateLimitEvent.key) == key, col(RateLimitEvent.at) <= now - window))
    db.add(RateLimitEvent(key=key, at=now))


def clear_attempts(db: Session, *, key: str) -> None:
    db.execute(delete(RateLimitEvent).where(col(RateLimitEvent.key) == key))
