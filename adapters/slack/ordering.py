"""Arrival order per conversation, and redelivered Events API ids recognised.

bolt runs each event's listener as its own task; a slow profile lookup for the first message
of a thread must not let the second one reach the core first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from types import TracebackType


class Turn:
    """One message's place in its conversation's line (taken synchronously, awaited later)."""

    def __init__(self, line: Sequencer, key: str) -> None:
        self._line, self._key = line, key
        self._before = line._tails.get(key)
        self._mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line._tails[key] = self._mine

    async def __aenter__(self) -> None:
        if self._before is not None:
            await asyncio.shield(self._before)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._mine.set_result(None)
        if self._line._tails.get(self._key) is self._mine:
            del self._line._tails[self._key]


class Sequencer:
    """`turn = seq.take(key)` before the first await; `async with turn:` around the work."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def take(self, key: str) -> Turn:
        return Turn(self, key)


SEEN_EVENTS = 10_000  # event ids remembered per process (Slack retries within ~5 minutes)


class RecentIds:
    """A bounded set of recently seen ids (oldest forgotten first)."""

    def __init__(self, size: int = SEEN_EVENTS) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, value: str) -> bool:
        """Remember `value`; False when it was already there."""
        if value in self._ids:
            return False
        self._ids[value] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
