"""The unit-of-work port: what handlers may touch. storage/uow.py is the SQL implementation."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.events import Event


class UnitOfWork(Protocol):
    """One transaction. Repositories hang off it; nothing else reaches storage."""

    tickets: Any
    alarms: Any
    customers: Any
    agents: Any
    messages: Any
    history: Any
    outbox: Any
    refs_store: Any
    queues: Any
    canned: Any
    sla_policies: Any
    rules: Any
    assignment: Any
    ratings: Any
    kb: Any
    reports: Any

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def collect_new_events(self) -> list[Event]: ...

    async def flush(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
