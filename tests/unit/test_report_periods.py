"""Report periods: local midnights in the lead's time zone, previous periods, chart buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.reports.periods import PeriodError, is_period, parse_period

ZAGREB = "Europe/Zagreb"  # UTC+1 in winter, UTC+2 from 2026-03-29 02:00
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday, 13:00 in Zagreb


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_today_starts_at_local_midnight_and_compares_with_yesterday_so_far() -> None:
    p = parse_period("today", NOW, ZAGREB)
    assert p.current.start == utc("2026-03-10T23:00")
    assert p.current.end == NOW + timedelta(microseconds=1)  # not over: up to now, inclusive
    assert not p.complete
    assert p.previous.start == utc("2026-03-09T23:00")
    assert p.previous.end == p.previous.start + (p.current.end - p.current.start)  # same time
    assert [b.label for b in p.buckets] == ["2026-03-11"]


def test_yesterday_is_complete_and_compared_with_the_whole_day_before() -> None:
    p = parse_period("yesterday", NOW, ZAGREB)
    assert (p.current.start, p.current.end) == (utc("2026-03-09T23:00"), utc("2026-03-10T23:00"))
    assert (p.previous.start, p.previous.end) == (utc("2026-03-08T23:00"), p.current.start)
    assert p.complete


def test_days_count_today_as_one_of_them() -> None:
    p = parse_period("7d", NOW, ZAGREB)
    assert p.current.start == utc("2026-03-04T23:00")  # 2026-03-05 00:00 local
    assert p.previous.start == utc("2026-02-25T23:00")
    assert p.previous.end == p.previous.start + (p.current.end - p.current.start)
    assert len(p.buckets) == 7
    assert p.buckets[-1].window.end == p.current.end
    assert parse_period("30d", NOW, "UTC").current.start == utc("2026-02-10T00:00")


def test_weeks_start_on_monday() -> None:
    this = parse_period("this-week", NOW, ZAGREB)
    assert this.current.start == utc("2026-03-08T23:00")  # Monday 2026-03-09 local
    assert this.previous.start == utc("2026-03-01T23:00")
    last = parse_period("last-week", NOW, ZAGREB)
    assert (last.current.start, last.current.end) == (this.previous.start, this.current.start)
    assert last.complete and len(last.buckets) == 7


def test_months_follow_the_calendar() -> None:
    last = parse_period("last-month", NOW, ZAGREB)
    assert last.current.start == utc("2026-01-31T23:00")  # 2026-02-01 local
    assert last.current.end == utc("2026-02-28T23:00")
    assert last.previous.start == utc("2025-12-31T23:00")  # all of January
    assert last.previous.end == last.current.start
    january = parse_period("last-month", utc("2026-02-10T10:00"), "UTC")
    assert january.current.start == utc("2026-01-01T00:00")
    assert january.previous.start == utc("2025-12-01T00:00")
    this = parse_period("this-month", NOW, "UTC")
    assert this.previous.end - this.previous.start == this.current.end - this.current.start


def test_a_range_is_inclusive_and_compared_with_as_many_days_before() -> None:
    p = parse_period("2026-03-02..2026-03-08", NOW, ZAGREB)
    assert (p.current.start, p.current.end) == (utc("2026-03-01T23:00"), utc("2026-03-08T23:00"))
    assert (p.previous.start, p.previous.end) == (utc("2026-02-22T23:00"), p.current.start)
    assert [b.label for b in p.buckets][:2] == ["2026-03-02", "2026-03-03"]


def test_a_day_across_the_dst_change_has_23_hours() -> None:
    p = parse_period("2026-03-29..2026-03-29", utc("2026-04-02T12:00"), ZAGREB)
    assert p.current.end - p.current.start == timedelta(hours=23)
    assert p.current.start == utc("2026-03-28T23:00")


def test_long_periods_are_charted_by_week() -> None:
    p = parse_period("2025-01-01..2025-12-31", NOW, "UTC")
    assert len(p.buckets) == 53
    assert p.buckets[1].window.start - p.buckets[0].window.start == timedelta(days=7)
    assert p.buckets[-1].window.end == p.current.end


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fortnight", "Unknown period"),
        ("0d", "between 1d"),
        ("2026-03-08..2026-03-01", "before the start"),
        ("2026-02-30..2026-03-01", "2026-02-30"),
        ("2027-01-01..2027-01-02", "has not started"),
    ],
)
def test_bad_periods_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, NOW, "UTC")


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(PeriodError, match="time zone"):
        parse_period("today", NOW, "Mars/Olympus")


def test_is_period() -> None:
    assert all(is_period(t) for t in ("today", "30d", "LAST-MONTH", "2026-01-01..2026-01-31"))
    assert not any(is_period(t) for t in ("me", "by", "queue:x", "30"))
