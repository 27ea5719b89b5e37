"""Report periods in the lead's time zone: `today`, `7d`, `last-month`, `2026-03-01..2026-03-07`.

A period is half-open [start, end) in UTC, computed from local midnights so days follow the
lead's calendar (DST included). The figures cover the part that has already happened; the
previous period, to compare with, covers the same elapsed time (all of it once the period is
over), so "this week so far" is compared with "last week by the same time".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_DAYS = 366 * 2
JUST_AFTER = timedelta(microseconds=1)
WEEKLY_AFTER_DAYS = 92  # longer periods are charted week by week
NAMED = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month")
_DAYS = re.compile(r"^(\d{1,3})d$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """The period text is not one we know; the message says what is."""


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Bucket:
    """One bar of the day-by-day chart: a local day (or week) and its UTC window."""

    label: str
    window: Window


@dataclass(frozen=True)
class Period:
    """What a report covers: `current` (up to now) and `previous` (to compare with)."""

    label: str
    tz: str
    current: Window
    previous: Window
    full_end: datetime
    buckets: tuple[Bucket, ...]

    @property
    def complete(self) -> bool:
        return self.current.end >= self.full_end

    def describe(self) -> str:
        """ "30d (2026-02-10 – 2026-03-11, until 13:00, Europe/Zagreb)"."""
        zone = ZoneInfo(self.tz)
        first = self.current.start.astimezone(zone)
        last = (self.current.end - timedelta(microseconds=1)).astimezone(zone)
        span = f"{first:%Y-%m-%d}"
        if first.date() != last.date():
            span += f" – {last:%Y-%m-%d}"
        until = "" if self.complete else f", until {self.current.end.astimezone(zone):%H:%M}"
        return f"{self.label} ({span}{until}, {self.tz})"


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(f"Unknown time zone {tz!r}.") from exc


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def local_range(text: str, today: date) -> tuple[date, date, date]:
    """(first day, day after the last, first day of the previous period) for a period text."""
    word = text.strip().lower()
    if word == "today":
        return today, today + timedelta(days=1), today - timedelta(days=1)
    if word == "yesterday":
        y = today - timedelta(days=1)
        return y, today, y - timedelta(days=1)
    if word in ("this-week", "last-week"):
        monday = today - timedelta(days=today.weekday())
        if word == "last-week":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=7), monday - timedelta(days=7)
    if word in ("this-month", "last-month"):
        back = 0 if word == "this-month" else 1
        first = _month_start(today, back)
        return first, _month_start(today, back - 1), _month_start(today, back + 1)
    if m := _DAYS.match(word):
        n = int(m.group(1))
        if not 1 <= n <= MAX_DAYS:
            raise PeriodError(f"Use between 1d and {MAX_DAYS}d.")
        first = today - timedelta(days=n - 1)
        return first, today + timedelta(days=1), first - timedelta(days=n)
    if m := _RANGE.match(word):
        try:
            a, b = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise PeriodError(f"{text!r}: {exc}.") from exc
        if b < a:
            raise PeriodError(f"{text!r}: the end is before the start.")
        n = (b - a).days + 1
        if n > MAX_DAYS:
            raise PeriodError(f"{text!r}: at most {MAX_DAYS} days.")
        return a, b + timedelta(days=1), a - timedelta(days=n)
    raise PeriodError(
        f"Unknown period {text!r}. Use {', '.join(NAMED)}, 7d, 30d (any Nd) or FROM..TO "
        "(2026-03-01..2026-03-31)."
    )


def is_period(text: str) -> bool:
    try:
        local_range(text, date(2000, 1, 1))
    except PeriodError:
        return False
    return True


def parse_period(text: str, now: datetime, tz: str) -> Period:
    """The period named by `text` as seen at `now` by someone in time zone `tz`."""
    zone = zone_of(tz)
    today = now.astimezone(zone).date()
    first, after, prev_first = local_range(text, today)
    start, full_end, prev_start = (
        midnight(first, zone),
        midnight(after, zone),
        midnight(prev_first, zone),
    )
    if start >= now:
        raise PeriodError(f"{text} has not started yet.")
    # "So far" includes what happened at `now` itself (a frozen test clock, a fresh ticket).
    current = Window(start, min(full_end, now + JUST_AFTER))
    if current.end >= full_end:
        previous = Window(prev_start, start)
    else:
        previous = Window(prev_start, min(start, prev_start + (current.end - start)))
    return Period(
        text.strip().lower(), tz, current, previous, full_end, _buckets(first, after, current, zone)
    )


def _buckets(first: date, after: date, current: Window, zone: ZoneInfo) -> tuple[Bucket, ...]:
    step = 7 if (after - first).days > WEEKLY_AFTER_DAYS else 1
    out: list[Bucket] = []
    day = first
    while day < after:
        start = midnight(day, zone)
        if start >= current.end:
            break
        nxt = min(day + timedelta(days=step), after)
        out.append(Bucket(day.isoformat(), Window(start, min(midnight(nxt, zone), current.end))))
        day = nxt
    return tuple(out)
