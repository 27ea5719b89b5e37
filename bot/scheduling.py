"""Timed work: a sweep asks the database what is due and issues commands; APScheduler wakes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.commands import ExpireClaim
from bot.messages import Identity
from bot.services.messagebus import MessageBus
from bot.services.ports import Clock
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SYSTEM = Identity("system", "deskbot", "deskbot")


class Scheduler:
    """The database holds every due time; this only wakes up and asks what is due."""

    def __init__(
        self,
        bus: MessageBus,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        interval_seconds: float = 15.0,
    ) -> None:
        self.bus = bus
        self.uow_factory = uow_factory
        self.clock = clock
        self.interval_seconds = interval_seconds
        self._aps: AsyncIOScheduler | None = None

    async def sweep(self, now: datetime | None = None) -> int:
        """Issue a command for everything due at `now`; returns how many fired."""
        now = now or self.clock.now()
        async with self.uow_factory() as uow:
            due_claims = await uow.tickets.due_claims(now)
        fired = 0
        for ticket_id in due_claims:
            if await self.bus.handle(ExpireClaim(SYSTEM, ticket_id, now)) is not None:
                fired += 1
        return fired

    async def next_due(self) -> datetime | None:
        """The earliest future due time (used by console scripts to step the fake clock)."""
        async with self.uow_factory() as uow:
            return await uow.tickets.next_due_time()

    async def start(self) -> int:
        """Catch up on what fell due while we were down, then sweep on an interval."""
        caught_up = await self.sweep()
        if caught_up:
            log.info("scheduler caught up on %d due timers", caught_up)
        self._aps = AsyncIOScheduler()
        self._aps.add_job(
            self.sweep, "interval", seconds=self.interval_seconds, max_instances=1, coalesce=True
        )
        self._aps.start()
        return caught_up

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
