"""Ports the core depends on: the clock, the unit of work factory, and outbound senders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.messages import DeliveryResult, Outbound


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock tests and console scripts set and advance by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        self._now = value.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class Sender(Protocol):
    """What the outbox dispatcher needs from the adapter registry."""

    def handles(self, platform: str) -> bool: ...

    async def send(self, message: Outbound) -> DeliveryResult: ...


UnitOfWorkFactory = Callable[[], Any]
