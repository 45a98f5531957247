"""Answers to multi-page question journeys, kept in the person's server-side session."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from portal.domain.models import UserSession
from portal.web.db import db_session
from portal.web.sessions import require_viewer


def _record(request: Request) -> UserSession:
    viewer = require_viewer(request)
    record = db_session(request).get(UserSession, viewer.session_id)
    assert record is not None  # the viewer was loaded from this very row
    return record


def answers(request: Request, journey: str) -> dict[str, Any]:
    return dict(_record(request).journeys.get(journey, {}))


def save(request: Request, journey: str, **values: Any) -> dict[str, Any]:
    record = _record(request)
    merged = {**record.journeys.get(journey, {}), **values}
    # A new dict, so SQLAlchemy sees the JSON column change.
    record.journeys = {**record.journeys, journey: merged}
    return merged


def forget(request: Request, journey: str, *keys: str) -> None:
    """Forget some answers (later answers that depend on an earlier one) or, with no keys, the whole journey."""
    record = _record(request)
    if keys:
        kept = {k: v for k, v in record.journeys.get(journey, {}).items() if k not in keys}
        record.journeys = {**record.journeys, journey: kept}
    else:
        record.journeys = {k: v for k, v in record.journeys.items() if k != journey}
