"""Benchmark: sending what one 500-breach SLA sweep wrote (SLA notices and card edits).

Uses the database `bench/sla_sweep.py` loads (run that first). Each round resets the due
tickets, sweeps, then drains the outbox through a sender that does nothing, so the time is
deskbot's own: leasing rows, drawing the triage cards (bot/services/card_render.py) and
settling each row.

    .venv/bin/python bench/sla_dispatch.py
    .venv/bin/python bench/sla_dispatch.py --url postgresql+asyncpg://postgres@127.0.0.1/sla_bench
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sla_sweep import DATA, NOW, due_ids, reset_due, vacuum
from bot.bootstrap import build_app
from bot.config import Settings
from bot.messages import DeliveryResult, Outbound
from bot.services.ports import FakeClock


class NullSender:
    """The console platform's agent side, answering every delivery at once."""

    platform = "console"
    agent_facing = True

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}

    async def start(self, gateway: Any) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outbound) -> DeliveryResult:
        self.kinds[message.kind] = self.kinds.get(message.kind, 0) + 1
        return DeliveryResult(external_id=f"bench-{message.id}")


async def run(url: str, open_count: int, due_count: int, rounds: int) -> None:
    sender = NullSender()
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    app = await build_app(settings, clock=FakeClock(NOW), adapters=[sender])
    due = due_ids(open_count, due_count)
    samples = []
    for _ in range(rounds):
        await reset_due(app, due, open_count)
        await vacuum(app, url)
        assert await app.scheduler.sweep(NOW) == due_count
        sender.kinds.clear()
        started = time.perf_counter()
        sent = await app.dispatcher.drain()
        samples.append((time.perf_counter() - started) * 1000)
    await reset_due(app, due, open_count)
    await app.stop()
    db = app.engine.dialect.name
    print(f"database: {db}  due: {due_count}  rows sent: {sent} {sender.kinds}")
    print(f"drain: median {statistics.median(samples):.0f} ms, min {min(samples):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", default=f"sqlite+aiosqlite:///{DATA / 'sla_sweep.db'}")
    ap.add_argument("--open", type=int, default=50_000)
    ap.add_argument("--due", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    asyncio.run(run(args.url, args.open, args.due, args.rounds))


if __name__ == "__main__":
    main()
