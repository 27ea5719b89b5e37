"""Two workers auto-assigning at once: round-robin stays fair, least-loaded never over capacity.

Two complete deskbot apps (two engines and pools) share one database. On PostgreSQL their
units of work run in parallel and meet at the assignment lock; on SQLite BEGIN IMMEDIATE
serialises them. Each worker takes half of the incoming messages, concurrently, in groups.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.model import Role
from bot.messages import ConversationRef, Identity, InboundMessage
from bot.services.ports import FakeClock
from storage import tables as t

AGENTS = ("a1", "a2", "a3", "a4", "a5")


def settings_for(url: str, tmp_path: Path, strategy: str) -> Settings:
    config = tmp_path / "deskbot.toml"
    config.write_text(
        f'[[queues]]\nname = "general"\nsettings = {{ assign = "{strategy}" }}\n',
        encoding="utf-8",
    )
    return Settings(database_url=url, config=config, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def workers(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[
    tuple[App, App]
]:  # fmt: skip
    strategy, capacity = request.param
    clock = FakeClock()
    first = await build_app(settings_for(db_url, tmp_path, strategy), clock=clock)
    for name in AGENTS:
        await first.seed_agent(name, Role.AGENT, [f"console:{name}"])
    async with first.uow() as uow:
        for agent in await uow.agents.list():
            await uow.agents.update(agent.id, capacity=capacity)
        await uow.commit()
    second = await build_app(settings_for(db_url, tmp_path, strategy), clock=clock)
    yield first, second
    await first.stop()
    await second.stop()


async def flood(apps: tuple[App, App], count: int) -> None:
    """`count` new tickets, alternating between the workers, all in flight at once."""

    async def one(i: int) -> None:
        who = Identity("console", f"c{i}", f"customer {i}")
        message = InboundMessage(
            "console", f"m{i}", who, ConversationRef("console", f"c{i}"), f"help {i}"
        )
        await apps[i % 2].gateway.receive(message)

    await asyncio.gather(*(one(i) for i in range(count)))


async def assignments(app: App) -> Counter[str | None]:
    async with app.uow() as uow:
        rows = await uow.tickets.search(limit=10_000)
        names = {a.id: a.name for a in await uow.agents.list()}
    return Counter(names.get(r.assignee_id) if r.assignee_id else None for r in rows)


@pytest.mark.parametrize("workers", [("round_robin", 10_000)], indirect=True)
async def test_two_workers_round_robin_is_fair(workers: tuple[App, App]) -> None:
    await flood(workers, 400)
    counts = await assignments(workers[0])
    per_agent = [counts[name] for name in AGENTS]
    assert sum(per_agent) == 400 and counts[None] == 0
    assert max(per_agent) - min(per_agent) <= 1, counts
    async with workers[0].uow() as uow:
        cursor = await uow.assignment.cursor("general")
        history = await uow.history.for_tickets(list(range(1, 401)))
    assert cursor is not None
    assigned = [h for h in history if h.kind == "assigned"]
    assert len(assigned) == 400  # each ticket assigned exactly once


@pytest.mark.parametrize("workers", [("least_loaded", 3)], indirect=True)
async def test_two_workers_least_loaded_respect_capacity(workers: tuple[App, App]) -> None:
    await flood(workers, 40)
    counts = await assignments(workers[0])
    assert all(counts[name] == 3 for name in AGENTS), counts  # filled up, never over
    assert counts[None] == 40 - 3 * len(AGENTS)  # the rest wait in the queue
    async with workers[0].engine.connect() as conn:
        rows = (await conn.execute(select(t.tickets.c.assignee_id))).all()
    assert len(rows) == 40
