"""The message bus: one command, one unit of work, its events handled before the one commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.commands import Command
from bot.domain.errors import ConcurrencyConflict, DomainError
from bot.services.context import Core
from bot.services.pipeline import handle_events
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork, Core], Awaitable[Any]]
Prefetcher = Callable[[list[Any], UnitOfWork, Core], Awaitable[None]]

MAX_CONFLICT_RETRIES = 5


class MessageBus:
    """Runs command handlers. Events they record are handled in the same transaction.

    A `ConcurrencyConflict` (another worker changed the ticket first) retries the whole
    command on fresh state, so of two agents claiming at once the second sees the first's claim.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        core: Core,
        handlers: dict[type[Command], Handler],
        on_commit: Callable[[], None] | None = None,
        prefetchers: dict[type[Command], Prefetcher] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.core = core
        # this bus's own maps: changing one app's handler must not change every app's
        self.handlers = dict(handlers)
        self.prefetchers = dict(prefetchers or {})
        self.on_commit = on_commit or (lambda: None)

    async def handle(self, command: Command) -> Any:
        handler = self.handlers[type(command)]
        for attempt in range(MAX_CONFLICT_RETRIES + 1):
            try:
                async with self.uow_factory() as uow:
                    result = await handler(command, uow, self.core)
                    await self.drain_events(uow)
                    await uow.commit()
                self.on_commit()
                return result
            except ConcurrencyConflict:
                if attempt == MAX_CONFLICT_RETRIES:
                    raise
                log.debug("conflict on %s, retrying", type(command).__name__)
                await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def handle_group(self, commands: list[Command]) -> list[Any]:
        """Group commit: several commands in one transaction.

        If any of them fails, the group is rolled back and each command runs alone, so one
        bad message fails by itself and the others still land.
        """
        if len(commands) == 1:
            return [await self._safe(commands[0])]
        try:
            async with self.uow_factory() as uow:
                by_type: dict[type[Command], list[Command]] = {}
                for command in commands:
                    by_type.setdefault(type(command), []).append(command)
                for kind, group in by_type.items():
                    if kind in self.prefetchers:
                        await self.prefetchers[kind](group, uow, self.core)
                results = []
                for command in commands:
                    results.append(await self.handlers[type(command)](command, uow, self.core))
                    await self.drain_events(uow)
                await uow.commit()
            self.on_commit()
            return results
        except Exception:
            log.debug("group of %d failed; running one by one", len(commands), exc_info=True)
            return [await self._safe(c) for c in commands]

    async def _safe(self, command: Command) -> Any:
        try:
            return await self.handle(command)
        except DomainError as exc:  # a rule said no (e.g. an agent writing outside a ticket)
            log.info("command %s refused: %s", type(command).__name__, exc)
            return exc
        except Exception as exc:
            log.exception("command %s failed", type(command).__name__)
            return exc

    async def drain_events(self, uow: UnitOfWork) -> None:
        while events := uow.collect_new_events():
            await handle_events(events, uow, self.core)

    async def query(self, fn: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
        """Read-only work in its own transaction (nothing is committed)."""
        async with self.uow_factory() as uow:
            return await fn(uow)
