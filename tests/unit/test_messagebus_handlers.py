"""Each message bus keeps its own handler map: a test (or a second app in the process) that
swaps one app's handler must not swap every other app's."""

from __future__ import annotations

from typing import Any

from bot.domain import commands as c
from bot.services.handlers import HANDLERS, PREFETCHERS
from bot.services.messagebus import MessageBus


async def _broken(cmd: Any, uow: Any, core: Any) -> int:
    raise RuntimeError("broken")


def test_changing_one_bus_handler_leaves_the_registry_and_other_buses_alone() -> None:
    first = MessageBus(lambda: None, None, HANDLERS, prefetchers=PREFETCHERS)  # type: ignore[arg-type]
    second = MessageBus(lambda: None, None, HANDLERS, prefetchers=PREFETCHERS)  # type: ignore[arg-type]
    original = HANDLERS[c.FireDueTimers]
    first.handlers[c.FireDueTimers] = _broken
    first.prefetchers.clear()
    assert HANDLERS[c.FireDueTimers] is original
    assert second.handlers[c.FireDueTimers] is original
    assert second.prefetchers == PREFETCHERS and PREFETCHERS
