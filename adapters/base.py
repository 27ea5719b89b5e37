"""The adapter surface (start, stop, send) and the registry that routes outbound by platform."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from bot.messages import DeliveryError, DeliveryResult, Outbound

if TYPE_CHECKING:
    from bot.gateway import Gateway


class ChatAdapter(Protocol):
    """What every platform adapter provides; it translates, the core decides."""

    platform: str
    agent_facing: bool

    async def start(self, gateway: Gateway) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outbound) -> DeliveryResult: ...


class AdapterRegistry:
    """Routes each outbound message to the adapter of its platform."""

    def __init__(self) -> None:
        self._adapters: dict[str, ChatAdapter] = {}

    def register(self, adapter: ChatAdapter) -> None:
        self._adapters[adapter.platform] = adapter

    def handles(self, platform: str) -> bool:
        return platform in self._adapters

    @property
    def adapters(self) -> list[ChatAdapter]:
        return list(self._adapters.values())

    @property
    def agent_platforms(self) -> tuple[str, ...]:
        return tuple(a.platform for a in self._adapters.values() if a.agent_facing)

    async def send(self, message: Outbound) -> DeliveryResult:
        adapter = self._adapters.get(message.platform)
        if adapter is None:
            raise DeliveryError(f"no {message.platform} adapter is running", retry_after=60)
        return await adapter.send(message)


class InFlightWork:
    """Counts handler work an adapter started after acknowledging a request.

    Platforms want an answer within 3 s, so adapters ack first and work afterwards; `settle`
    lets tests and shutdown wait until that work has finished.
    """

    _active: int = 0

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Mark work in progress for as long as the block runs."""
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1

    async def settle(self, within: float = 10.0) -> None:
        """Wait until work started so far has finished (quiet for three short ticks)."""
        deadline = time.monotonic() + within
        quiet = 0
        while quiet < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            quiet = quiet + 1 if self._active == 0 else 0
