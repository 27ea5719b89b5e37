"""The adapter surface (start, stop, send) and the registry that routes outbound by platform."""

from __future__ import annotations

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
