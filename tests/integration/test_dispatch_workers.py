"""Several outbox dispatchers on one database: each row once, one at a time per conversation."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bot.bootstrap import build_app
from bot.messages import DeliveryResult, Outbound
from bot.services.ports import FakeClock
from tests.integration.test_core import msg, settings


class SlowAdapter:
    """Takes a while per send and records overlap within a conversation."""

    platform = "console"
    agent_facing = True

    def __init__(self, log: list[tuple[str, int]], busy: set[str], overlaps: list[str]) -> None:
        self.log, self.busy, self.overlaps = log, busy, overlaps

    async def start(self, gateway: Any) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outbound) -> DeliveryResult:
        key = message.conversation.key if message.conversation else "?"
        if key in self.busy:
            self.overlaps.append(key)
        self.busy.add(key)
        await asyncio.sleep(0.002)
        self.busy.discard(key)
        self.log.append((key, message.id))
        return DeliveryResult(external_id=str(message.id))


async def test_two_dispatchers_send_each_row_once_in_order(db_url: str) -> None:
    log: list[tuple[str, int]] = []
    busy: set[str] = set()
    overlaps: list[str] = []
    clock = FakeClock()
    apps = [
        await build_app(settings(db_url), clock=clock, adapters=[SlowAdapter(log, busy, overlaps)])
        for _ in range(2)
    ]
    try:
        for i in range(30):
            # not visible to agents natively: each message is relayed, so each ticket's
            # agent-side conversation queues several rows that must go out in order
            message = msg(f"c{i % 5}", f"message {i}", f"m-{i}", visible_to_agents=False)
            await apps[0].gateway.receive(message)
        await asyncio.gather(*(a.dispatcher.drain() for a in apps))
        ids = [oid for _, oid in log]
        assert len(ids) == len(set(ids)), "a row was sent twice"
        assert overlaps == [], f"concurrent sends within a conversation: {overlaps}"
        per_conversation: dict[str, list[int]] = {}
        for key, oid in log:
            per_conversation.setdefault(key, []).append(oid)
        assert all(v == sorted(v) for v in per_conversation.values()), "out of order"
        assert Counter(k.split(":")[1] for k in per_conversation)["agents"] == 5
        assert max(len(v) for v in per_conversation.values()) >= 6
    finally:
        for a in apps:
            await a.stop()
