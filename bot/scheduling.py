"""Timed work: a sweep asks the database what is due and issues commands; APScheduler wakes it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.commands import Command, FireTimers
from bot.messages import Identity
from bot.services.messagebus import MessageBus
from bot.services.ports import Clock
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SYSTEM = Identity("system", "deskbot", "deskbot")
GROUP = 50  # due tickets handled per transaction


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
        self._policy_rows: list[Any] = []
        # Periodic work that is not a ticket timer (the weekly report digest): called with
        # `now` on every sweep; each job decides from the database whether it is due.
        self.jobs: list[Callable[[datetime], Awaitable[Any]]] = []

    async def sweep(self, now: datetime | None = None) -> int:
        """Fire every timer due at ``now`` (claims, SLA alarms, reminders, auto-close, snoozes);
        returns how many fired. Due tickets go through the bus in groups (one transaction per
        group); each ticket is claimed by one worker only (see bot/services/timers.py)."""
        now = now or self.clock.now()
        await self.reload_policies()
        for job in self.jobs:
            try:
                await job(now)
            except Exception:  # one failing job must not stop the timers
                log.exception("scheduled job %r failed", job)
        fired = 0
        seen: set[int] = set()
        while True:
            async with self.uow_factory() as uow:
                due = [tid for tid in await uow.tickets.due_for_timers(now) if tid not in seen]
            if not due:
                return fired
            seen.update(due)
            for i in range(0, len(due), GROUP):
                commands: list[Command] = [
                    FireTimers(SYSTEM, tid, now) for tid in due[i : i + GROUP]
                ]
                for result in await self.bus.handle_group(commands):
                    if isinstance(result, int):
                        fired += result

    async def next_due(self) -> datetime | None:
        """The earliest timer of any kind, past or future (console scripts step the clock)."""
        async with self.uow_factory() as uow:
            return await uow.tickets.next_due_time()

    async def catch_up(self) -> int:
        """Fire what fell due while deskbot was down; says how many in the log."""
        fired = await self.sweep()
        log.info("scheduler caught up on %d due timers", fired)
        return fired

    async def start(self) -> int:
        """Catch up on what fell due while we were down, then sweep on an interval."""
        caught_up = await self.catch_up()
        self._aps = AsyncIOScheduler()
        self._aps.add_job(
            self.sweep, "interval", seconds=self.interval_seconds, max_instances=1, coalesce=True
        )
        self._aps.start()
        return caught_up

    async def reload_policies(self) -> None:
        """Policies changed with `/sla set` on another worker apply here too."""
        async with self.uow_factory() as uow:
            rows = await uow.sla_policies.list()
        if rows != self._policy_rows:
            self._policy_rows = rows
            self.bus.core.policy.sla.apply_overrides(rows)

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
