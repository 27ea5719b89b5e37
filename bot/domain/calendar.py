"""Business calendars: opening hours, holidays and business-time arithmetic (pure, no clock)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as pyholidays

Interval = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]

DAY = timedelta(days=1)
#: Searches forward (next_open, add_business_seconds) give up after this much wall time.
SEARCH_HORIZON = timedelta(days=3 * 366)
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_CACHE_LIMIT = 8192


class NoBusinessTimeError(ValueError):
    """The requested business time is not reached within the search horizon (or never)."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening hours in one time zone, minus holidays.

    ``hours`` maps weekday (0=Mon..6=Sun) to local ``(start, end)`` intervals; an end of
    ``time(0)`` means 24:00. Missing weekdays are closed. All results are aware UTC datetimes.
    """

    name: str
    tz: str = "UTC"
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict, hash=False)
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    # Derived in __post_init__; excluded from eq/hash/repr.
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, default=ZoneInfo("UTC"))
    _spans: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    _public: Any = field(init=False, repr=False, compare=False, default=None)
    _cache: dict[date, tuple[datetime, tuple[Interval, ...]]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "_zone", ZoneInfo(self.tz))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"calendar {self.name!r}: unknown time zone {self.tz!r} "
                "(use an IANA name such as 'Europe/Zagreb')"
            ) from None
        spans: list[tuple[tuple[int, int], ...]] = [() for _ in range(7)]
        for day, intervals in self.hours.items():
            if day not in range(7):
                raise ValueError(f"calendar {self.name!r}: weekday must be 0..6, got {day!r}")
            spans[day] = _check_day(self.name, _DAY_NAMES[day], intervals)
        set_(self, "_spans", tuple(spans))
        norm = {d: tuple(ivs) for d, ivs in sorted(self.hours.items()) if ivs}
        set_(self, "hours", MappingProxyType(norm))
        set_(self, "holidays", frozenset(self.holidays))
        if self.country:
            try:
                public = pyholidays.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"calendar {self.name!r}: {exc}") from None
            set_(self, "_public", public)
        elif self.subdivision:
            raise ValueError(f"calendar {self.name!r}: subdivision given without country")

    @classmethod
    def always(cls, name: str = "always") -> BusinessCalendar:
        """A 24/7 calendar without holidays: business time equals elapsed wall time."""
        full = ((time(0), time(0)),)
        return cls(name=name, tz="UTC", hours={d: full for d in range(7)})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str | None = None) -> BusinessCalendar:
        """Build from settings, e.g. ``{"tz": "Europe/Zagreb", "hours": {"mon-fri":
        ["09:00-12:00", "13:00-17:00"]}, "holidays": ["2026-12-24"], "country": "HR"}``."""
        return _from_dict(cls, data, name)

    # ---- queries -------------------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """Whether ``t`` falls inside business hours (intervals are half-open [start, end))."""
        t = _utc(t)
        d = t.astimezone(self._zone).date()
        # Neighbouring days too: around DST shifts at midnight a local date can straddle.
        return any(a <= t < b for dd in (d - DAY, d, d + DAY) for a, b in self._day(dd)[1])

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself if open, else the start of the next business interval."""
        t = _utc(t)
        for a, _ in self._merged(t, t + SEARCH_HORIZON):
            return a
        raise NoBusinessTimeError(f"calendar {self.name!r} has no business hours after {t}")

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Business-time intervals (UTC, merged where they touch) inside [start, end)."""
        return self._merged(_utc(start), _utc(end))

    def business_time(
        self, start: datetime, end: datetime, paused: Iterable[Pause] = ()
    ) -> timedelta:
        """Business time in [start, end), not counting ``paused`` intervals (b=None: open)."""
        start, end = _utc(start), _utc(end)
        total = timedelta(0)
        for a, b in _subtract(self._merged(start, end), _normalise(paused)):
            total += b - a
        return total

    def business_seconds(
        self, start: datetime, end: datetime, paused: Iterable[Pause] = ()
    ) -> float:
        """:meth:`business_time` in seconds."""
        return self.business_time(start, end, paused).total_seconds()

    def add_business_seconds(
        self, start: datetime, seconds: float | timedelta, paused: Iterable[Pause] = ()
    ) -> datetime:
        """Earliest instant by which ``seconds`` of unpaused business time have elapsed.

        Counting starts at ``start`` or, outside hours, at the next opening; zero seconds
        returns ``start``. Raises :class:`NoBusinessTimeError` when the target is not reached
        within :data:`SEARCH_HORIZON` (or an open-ended pause stops the clock first).
        """
        start = _utc(start)
        need = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if need < timedelta(0):
            raise ValueError(f"business time to add must not be negative, got {need}")
        if not need:
            return start
        for a, b in _subtract(self._merged(start, start + SEARCH_HORIZON), _normalise(paused)):
            if b - a >= need:
                return a + need
            need -= b - a
        raise NoBusinessTimeError(
            f"calendar {self.name!r}: {need} of business time still missing "
            f"{SEARCH_HORIZON.days} days after {start} (no hours, or paused indefinitely)"
        )

    # ---- internals -----------------------------------------------------------------------

    @property
    def _always_open(self) -> bool:
        return (
            all(s == ((0, 86400),) for s in self._spans)
            and not self.holidays
            and self._public is None
        )

    def _merged(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Clipped business intervals in [start, end), adjacent ones merged."""
        if self._always_open:
            if start < end:
                yield start, end
            return
        pending: Interval | None = None
        d = start.astimezone(self._zone).date() - DAY
        while True:
            day_start, intervals = self._day(d)
            if day_start >= end:
                break
            for a, b in intervals:
                a, b = max(a, start), min(b, end)
                if a >= b:
                    continue
                if pending and pending[1] >= a:
                    pending = (pending[0], max(b, pending[1]))
                else:
                    if pending:
                        yield pending
                    pending = (a, b)
            d += DAY
        if pending:
            yield pending

    def _day(self, d: date) -> tuple[datetime, tuple[Interval, ...]]:
        """(UTC start of local day ``d``, its business intervals in UTC); cached."""
        hit = self._cache.get(d)
        if hit is not None:
            return hit
        closed = d in self.holidays or (self._public is not None and d in self._public)
        spans = () if closed else self._spans[d.weekday()]
        ivs = tuple(
            (a, b)
            for a, b in ((self._to_utc(d, s), self._to_utc(d, e)) for s, e in spans)
            if a < b  # an interval inside a DST gap has no length
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[d] = result = (self._to_utc(d, 0), ivs)
        return result

    def _to_utc(self, d: date, second: int) -> datetime:
        """Local wall time -> UTC. Repeated times take the first occurrence (fold=0); times in
        a DST gap map to the transition instant, so the mapping is monotonic and never
        overlaps or double counts."""
        wall = datetime.combine(d, time()) + timedelta(seconds=second)
        utc = wall.replace(tzinfo=self._zone).astimezone(UTC)
        if utc.astimezone(self._zone).replace(tzinfo=None) == wall:
            return utc
        # In a gap: binary-search (whole seconds) the first instant showing a later wall time.
        lo = wall.replace(tzinfo=self._zone, fold=1).astimezone(UTC)  # before the gap
        hi = utc
        while hi - lo > timedelta(seconds=1):
            mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
            if mid.astimezone(self._zone).replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid
        return hi


def _check_day(
    cal: str, day: str, intervals: Iterable[tuple[time, time]]
) -> tuple[tuple[int, int], ...]:
    """Validate one weekday's intervals; return sorted (start_s, end_s) pairs."""
    out: list[tuple[int, int]] = []
    for start, end in intervals:
        s = start.hour * 3600 + start.minute * 60 + start.second
        e = end.hour * 3600 + end.minute * 60 + end.second or 86400  # 00:00 end = 24:00
        if start.tzinfo or end.tzinfo or start.microsecond or end.microsecond:
            raise ValueError(f"calendar {cal!r}: {day} hours must be naive whole-second times")
        if e <= s:
            raise ValueError(
                f"calendar {cal!r}: {day} interval {start}-{end} ends before it starts "
                "(split overnight hours across two days, e.g. 22:00-24:00 and 00:00-06:00)"
            )
        out.append((s, e))
    out.sort()
    for (_, e1), (s2, _) in pairwise(out):
        if s2 < e1:
            raise ValueError(f"calendar {cal!r}: {day} intervals overlap")
    return tuple(out)


def _utc(t: datetime) -> datetime:
    # Same-tzinfo arithmetic in Python ignores DST offsets, so everything is done in UTC.
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {t!r}")
    return t.astimezone(UTC)


def _normalise(paused: Iterable[Pause]) -> list[Pause]:
    """Sort and merge pauses; ``None`` end means open-ended (kept last)."""
    items = sorted(
        ((_utc(a), None if b is None else _utc(b)) for a, b in paused), key=lambda p: p[0]
    )
    out: list[Pause] = []
    for a, b in items:
        if b is not None and b < a:
            raise ValueError(f"pause ends before it starts: {a} .. {b}")
        if out and (out[-1][1] is None or out[-1][1] >= a):
            prev_a, prev_b = out[-1]
            out[-1] = (prev_a, None if prev_b is None or b is None else max(prev_b, b))
        else:
            out.append((a, b))
    return out


def _subtract(intervals: Iterable[Interval], pauses: list[Pause]) -> Iterator[Interval]:
    """The parts of sorted ``intervals`` not covered by merged ``pauses``."""
    i = 0
    for a, b in intervals:
        while i < len(pauses) and (end := pauses[i][1]) is not None and end <= a:
            i += 1
        cur, j = a, i
        while cur < b:
            if j >= len(pauses) or pauses[j][0] >= b:
                yield cur, b
                break
            pa, pb = pauses[j]
            if pa > cur:
                yield cur, pa
            if pb is None:
                return  # paused from here on
            cur = max(cur, pb)
            j += 1


# ---- settings parsing ----------------------------------------------------------------------

_DAY_ALIASES = {n: i for i, n in enumerate(_DAY_NAMES)} | {
    full: i
    for i, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_KEYS = {"name", "tz", "hours", "holidays", "country", "subdivision"}


def _from_dict(
    cls: type[BusinessCalendar], data: Mapping[str, Any], name: str | None
) -> BusinessCalendar:
    if not isinstance(data, Mapping):
        raise ValueError(f"calendar {name!r}: expected a table, got {type(data).__name__}")
    cal = str(data.get("name") or name or "default")
    if unknown := set(data) - _KEYS:
        raise ValueError(
            f"calendar {cal!r}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}"
        )
    if "hours" not in data:
        raise ValueError(
            f'calendar {cal!r}: "hours" is required, e.g. {{"mon-fri": ["09:00-17:00"]}}'
        )
    raw_hol = data.get("holidays", [])
    if not isinstance(raw_hol, list | tuple):
        raise ValueError(f'calendar {cal!r}: "holidays" must be a list of dates (YYYY-MM-DD)')
    country, subdiv = data.get("country"), data.get("subdivision")
    for key, val in (("tz", data.get("tz", "UTC")), ("country", country), ("subdivision", subdiv)):
        if val is not None and not isinstance(val, str):
            raise ValueError(f"calendar {cal!r}: {key!r} must be a string, got {val!r}")
    return cls(
        name=cal,
        tz=data.get("tz", "UTC"),
        hours=_parse_hours(cal, data["hours"]),
        holidays=frozenset(_parse_date(cal, h) for h in raw_hol),
        country=country.upper() if country else None,
        subdivision=subdiv or None,
    )


def _parse_hours(cal: str, raw: Any) -> dict[int, tuple[tuple[time, time], ...]]:
    if not isinstance(raw, Mapping):
        raise ValueError(
            f'calendar {cal!r}: "hours" must be a table like {{"mon-fri": ["09:00-17:00"]}}'
        )
    out: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, spec in raw.items():
        specs = [spec] if isinstance(spec, str) else spec
        if not isinstance(specs, list | tuple):
            raise ValueError(f'calendar {cal!r}: hours for {key!r} must be a list of "HH:MM-HH:MM"')
        intervals = tuple(_parse_interval(cal, key, s) for s in specs)
        for day in _parse_days(cal, str(key)):
            if day in out:
                raise ValueError(f"calendar {cal!r}: {_DAY_NAMES[day]} is given twice in hours")
            out[day] = intervals
    return out


def _parse_days(cal: str, key: str) -> list[int]:
    days: list[int] = []
    for part in key.lower().replace(" ", "").split(","):
        if part in ("daily", "all", "everyday"):
            days.extend(range(7))
            continue
        ends = part.split("-")
        if len(ends) > 2 or any(e not in _DAY_ALIASES for e in ends):
            raise ValueError(
                f"calendar {cal!r}: bad day {key!r}; use mon..sun, ranges like 'mon-fri', "
                "lists like 'mon,wed' or 'daily'"
            )
        first, last = _DAY_ALIASES[ends[0]], _DAY_ALIASES[ends[-1]]
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))  # wraps: fri-mon
    return days


def _parse_interval(cal: str, key: Any, spec: Any) -> tuple[time, time]:
    parts = spec.split("-") if isinstance(spec, str) else []
    if len(parts) != 2:
        raise ValueError(
            f'calendar {cal!r}: hours for {key!r}: expected "HH:MM-HH:MM", got {spec!r}'
        )
    return _parse_time(cal, parts[0], end=False), _parse_time(cal, parts[1], end=True)


def _parse_time(cal: str, text: str, *, end: bool) -> time:
    m = _TIME_RE.match(text.strip())
    h, mi, s = (int(g or 0) for g in m.groups()) if m else (-1, 0, 0)
    if end and (h, mi, s) == (24, 0, 0):
        return time(0)  # 24:00 end of day
    if not (0 <= h < 24 and mi < 60 and s < 60):
        raise ValueError(f"calendar {cal!r}: bad time {text!r} (HH:MM, 00:00..24:00)")
    return time(h, mi, s)


def _parse_date(cal: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"calendar {cal!r}: bad holiday {value!r} (use YYYY-MM-DD)") from None
