"""Due times in SLA notices read as strftime would write them, in the calendar's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.services.sla_texts import when


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["UTC", "Europe/Zagreb", "America/New_York", "Asia/Kolkata"]),
)
def test_when_matches_strftime(value: datetime, tz: str) -> None:
    value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZoneInfo(tz))
    assert when(value, tz) == f"{local:%a} {local.day} {local:%b %H:%M} {tz}"


def test_when_across_a_dst_change() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # Europe/Zagreb springs forward at 01:00
    assert when(start, "Europe/Zagreb") == "Sun 29 Mar 01:30 Europe/Zagreb"
    assert when(start + timedelta(hours=1), "Europe/Zagreb") == "Sun 29 Mar 03:30 Europe/Zagreb"
