"""UK time, in the one place it is worked out (portal.domain.times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from portal.domain.times import UK, aware, uk_time


def test_a_naive_stored_time_is_utc() -> None:
    assert aware(datetime(2026, 1, 5, 14, 5)) == datetime(2026, 1, 5, 14, 5, tzinfo=UTC)


def test_an_aware_time_keeps_its_offset() -> None:
    moment = datetime(2026, 1, 5, 14, 5, tzinfo=timezone(timedelta(hours=2)))
    assert aware(moment) is moment


def test_uk_time_is_gmt_in_winter_and_bst_in_summer() -> None:
    winter, summer = uk_time(datetime(2026, 1, 5, 14, 5)), uk_time(datetime(2026, 7, 5, 14, 5, tzinfo=UTC))
    assert (winter.hour, winter.tzinfo) == (14, UK)
    assert (summer.hour, summer.utcoffset()) == (15, timedelta(hours=1))
