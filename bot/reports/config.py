"""Report settings: the lead's time zone, export limits and the weekly digest's schedule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from bot.reports.periods import PeriodError, is_period, zone_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DigestSchedule:
    """When and where the digest is posted: a weekday and local time, a channel, a period."""

    weekday: int
    at: time
    tz: str
    platform: str | None
    channel: str
    period: str = "last-week"


@dataclass
class ReportConfig:
    """Values from settings. A person's time zone comes from `[[people]] tz = "…"`."""

    timezone: str = "UTC"
    people_tz: dict[str, str] = field(default_factory=dict)
    default_period: str = "7d"
    csv_max_rows: int = 100_000
    digest: DigestSchedule | None = None

    def tz_for(self, name: str | None) -> str:
        return self.people_tz.get(name or "", self.timezone)


def parse_digest(
    day: str, at: str, channel: str, tz: str, period: str = "last-week"
) -> DigestSchedule | None:
    """The digest schedule, or None when no channel is set. Raises ValueError on bad values."""
    if not channel.strip():
        return None
    weekday = day.strip().lower()[:3]
    if weekday not in WEEKDAYS:
        raise ValueError(f"report digest day {day!r}: use one of {', '.join(WEEKDAYS)}")
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", at.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"report digest time {at!r}: use HH:MM")
    if not is_period(period):
        raise ValueError(f"report digest period {period!r} is not a period")
    platform, _, name = channel.strip().rpartition(":")
    return DigestSchedule(
        WEEKDAYS.index(weekday),
        time(int(m.group(1)), int(m.group(2))),
        tz,
        platform or None,
        name,
        period,
    )


def report_config_from(settings: Any) -> ReportConfig:
    """Build from Settings (DESKBOT_REPORT_*) and the settings file's `[[people]]`."""
    tz = settings.report_timezone or settings.timezone
    people: dict[str, str] = {}
    for person in settings.structured().get("people", []) or []:
        if person.get("tz"):
            people[str(person["name"])] = str(person["tz"])
    for value in (tz, *people.values()):
        try:
            zone_of(value)
        except PeriodError as exc:
            raise ValueError(str(exc)) from None
    return ReportConfig(
        timezone=tz,
        people_tz=people,
        default_period=settings.report_default_period,
        csv_max_rows=settings.report_csv_max_rows,
        digest=parse_digest(
            settings.report_digest_day,
            settings.report_digest_time,
            settings.report_digest_channel,
            tz,
            settings.report_digest_period,
        ),
    )
