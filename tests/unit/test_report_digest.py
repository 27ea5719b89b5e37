"""The weekly digest: its schedule in the lead's time zone, posted once per slot (fake clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest

from bot.reports.config import ReportConfig, parse_digest, report_config_from
from bot.reports.digest import DigestJob, last_slot
from bot.services.ports import FakeClock

MONDAY_9_ZAGREB = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 09:00 in Zagreb (UTC+1)


class FakeReports:
    """Empty aggregates; remembers when a digest was last written."""

    def __init__(self, store: dict[str, Any]) -> None:
        self.store = store

    async def last_digest_at(self) -> datetime | None:
        return self.store.get("last")

    async def created(self, *a: Any, **k: Any) -> dict[Any, Any]:
        return {}

    async def window_counts(self, column: str, windows: list[Any], *a: Any) -> list[int]:
        return [0] * len(windows)

    async def resolved_closed(self, *a: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
        return {}, {}

    async def day_counts(self, *a: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
        return {}, {}

    async def has_ratings(self) -> bool:
        return False

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        yield

    def __getattr__(self, name: str) -> Any:  # messages, response_times, backlog, replies …
        async def empty(*a: Any, **k: Any) -> dict[Any, Any]:
            return {}

        return empty


class FakeUow:
    def __init__(self, store: dict[str, Any]) -> None:
        self.store = store
        self.reports = FakeReports(store)
        self.outbox = SimpleNamespace(add=self._add)
        self._pending: list[dict[str, Any]] = []

    def _add(self, **row: Any) -> None:
        self._pending.append(row)

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._pending.clear()

    async def commit(self) -> None:
        for row in self._pending:
            self.store.setdefault("rows", []).append(row)
            self.store["last"] = row["created_at"]


def job(clock: FakeClock, store: dict[str, Any], channel: str = "slack:CLEADS") -> DigestJob:
    schedule = parse_digest("Monday", "09:00", channel, "Europe/Zagreb")
    assert schedule is not None
    core = SimpleNamespace(
        clock=clock,
        policy=SimpleNamespace(sla=SimpleNamespace(policies=[], fallback=None),
                               agent_platforms=("discord", "slack")),
    )  # fmt: skip
    return DigestJob(lambda: FakeUow(store), core, schedule)


def test_last_slot_is_in_the_lead_time_zone() -> None:
    schedule = parse_digest("mon", "09:00", "leads", "Europe/Zagreb")
    assert schedule is not None
    assert last_slot(schedule, MONDAY_9_ZAGREB) == MONDAY_9_ZAGREB
    before = datetime(2026, 3, 9, 7, 59, tzinfo=UTC)
    assert last_slot(schedule, before) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 4, 6, 7, 30, tzinfo=UTC)  # 09:30 in Zagreb (UTC+2)
    assert last_slot(schedule, summer) == datetime(2026, 4, 6, 7, 0, tzinfo=UTC)


async def test_posts_once_per_week_at_the_set_time() -> None:
    clock = FakeClock(datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    store: dict[str, Any] = {}
    digest = job(clock, store)
    store["last"] = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # last week's was posted
    assert await digest.run() is False
    clock.set(MONDAY_9_ZAGREB)
    assert await digest.run() is True
    row = store["rows"][0]
    assert row["kind"] == "report" and row["audience"] == "agents"
    assert (row["platform"], row["conversation_key"]) == ("slack", "slack:CLEADS:")
    assert row["payload"]["period"] == "last-week"
    assert row["text"].startswith("Weekly digest\n\nHelp desk report · last-week (2026-03-02 –")
    assert "Satisfaction: no ratings yet" in row["text"]
    clock.set(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))
    assert await digest.run() is False  # this week's is done
    clock.set(datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    assert await digest.run() is True
    assert len(store["rows"]) == 2


async def test_a_slot_missed_by_more_than_a_day_is_skipped() -> None:
    clock = FakeClock(datetime(2026, 3, 11, 9, 0, tzinfo=UTC))  # Wednesday: deskbot was down
    store: dict[str, Any] = {}
    assert await job(clock, store).run() is False
    assert "rows" not in store


async def test_a_channel_without_platform_uses_the_first_agent_platform() -> None:
    store: dict[str, Any] = {}
    assert await job(FakeClock(MONDAY_9_ZAGREB), store, channel="leads").run()
    assert store["rows"][0]["conversation_key"] == "discord:leads:"


def test_digest_settings() -> None:
    assert parse_digest("mon", "09:00", "", "UTC") is None  # no channel: no digest
    s = parse_digest("fri", "17:30", "discord:123", "UTC", "7d")
    assert s is not None
    assert (s.weekday, s.at, s.platform, s.channel, s.period) == (4, time(17, 30), "discord",
                                                                 "123", "7d")  # fmt: skip
    for bad in (("someday", "09:00"), ("mon", "25:00"), ("mon", "9am")):
        with pytest.raises(ValueError):
            parse_digest(*bad, "x", "UTC")
    with pytest.raises(ValueError, match="period"):
        parse_digest("mon", "09:00", "x", "UTC", "fortnight")


def test_config_from_settings_with_a_time_zone_per_person(tmp_path: Any) -> None:
    from bot.config import Settings

    toml = tmp_path / "deskbot.toml"
    toml.write_text('[[people]]\nname = "lee"\nrole = "lead"\ntz = "America/New_York"\n')
    settings = Settings(_env_file=None, config=toml, timezone="Europe/Zagreb",  # type: ignore[call-arg]
                        report_digest_channel="console:leads")  # fmt: skip
    cfg = report_config_from(settings)
    assert cfg.tz_for("lee") == "America/New_York"
    assert cfg.tz_for("bob") == "Europe/Zagreb"
    assert cfg.digest is not None and cfg.digest.tz == "Europe/Zagreb"
    assert ReportConfig().digest is None
    bad = Settings(_env_file=None, report_timezone="Nowhere/City")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="time zone"):
        report_config_from(bad)
