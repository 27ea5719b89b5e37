"""Timed work: a sweep asks the database what is due and issues commands; APScheduler wakes it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.commands import Command, FireDueTimers, FireTimers
from bot.messages import Identity
from bot.services.messagebus import MessageBus
from bot.services.ports import Clock
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SYSTEM = Identity("system", "deskbot", "deskbot")
GROUP = 50  # due tickets per transaction when a batch failed and is retried in parts


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
        returns how many fired. Each batch of due tickets is one command in one transaction:
        claimed and loaded in one statement, written set-wise (see
        bot/services/timers.py:fire_due_timers); each ticket is claimed by one worker only."""
        now = now or self.clock.now()
        async with self.uow_factory() as uow:  # one read transaction when nothing is due
            self._apply_policies(await uow.sla_policies.list())
            due, more = await uow.tickets.due_for_timers(now)
        for job in self.jobs:
            try:
                await job(now)
            except Exception:  # one failing job must not stop the timers
                log.exception("scheduled job %r failed", job)
        fired = 0
        seen: set[int] = set()
        while due:
            seen.update(due)
            fired += await self._fire(due, now)
            if not more:
                break  # that batch held every timer due; what firing sets due is the next sweep's
            async with self.uow_factory() as uow:
                found, more = await uow.tickets.due_for_timers(now)
            due = [tid for tid in found if tid not in seen]
        return fired

    async def _fire(self, due: list[int], now: datetime) -> int:
        try:
            return int(await self.bus.handle(FireDueTimers(SYSTEM, tuple(due), now)))
        except Exception:
            # One bad ticket must not hold up the rest: the old way, a transaction per group
            # and, if a group fails, per ticket, so only the bad one fails (and is logged).
            log.exception("firing %d due tickets together failed; trying them apart", len(due))
        fired = 0
        for i in range(0, len(due), GROUP):
            commands: list[Command] = [FireTimers(SYSTEM, tid, now) for tid in due[i : i + GROUP]]
            for result in await self.bus.handle_group(commands):
                if isinstance(result, int):
                    fired += result
        return fired

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
            self._apply_policies(await uow.sla_policies.list())

    def _apply_policies(self, rows: list[Any]) -> None:
        if rows != self._policy_rows:
            self._policy_rows = rows
            self.bus.core.policy.sla.apply_overrides(rows)

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
