"""App Home: assigned to me, unassigned in my queues, and tickets breaching their SLA soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from bot.domain import sla_clock as clock
from bot.domain.status import Status
from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, SlackEnv, running


def home_sections(env: SlackEnv, user: str) -> dict[str, str]:
    """Home tab text by header: what the agent reads under each title."""
    out: dict[str, str] = {}
    title = ""
    for block in env.slack.home_views[user].payload["blocks"]:
        if block["type"] == "header":
            title = block["text"]["text"]
            out[title] = ""
        elif block["type"] == "section":
            out[title] += block["text"]["text"]
    return out


async def set_due(env: SlackEnv, ticket_id: int, **values: Any) -> None:
    """Give a ticket these due times (the others cleared), status or queue, the way the SLA
    clock keeps them: `sla_due_at`, which "breaching soon" reads, follows (sla_clock.refresh)."""
    cleared = {"first_response_due": None, "next_response_due": None, "resolution_due": None}
    async with env.app.uow() as uow:
        ticket = await uow.tickets.get(ticket_id)
        assert ticket is not None
        for name, value in {**cleared, **values}.items():
            setattr(ticket, name, Status(value) if name == "status" else value)
        clock.refresh(ticket)
        await uow.commit()


async def test_breaching_soon_lists_my_queues_soonest_first(db_url: str) -> None:
    async with running(db_url) as env:
        env.slack.set_rate_limit("chat.postMessage", None)
        for text in ("Mail down", "VPN slow", "New laptop", "Pending one", "Billing", "Later"):
            await env.say(ALICE, text)
        await env.quiet()
        await env.command(BOB, "claim T-2")  # bob is recorded as an agent
        now = datetime.now(UTC)
        await set_due(env, 1, first_response_due=now + timedelta(minutes=30))
        await set_due(env, 2, resolution_due=now - timedelta(minutes=10))  # already breached
        await set_due(
            env,
            3,
            first_response_due=now + timedelta(hours=5),
            next_response_due=now + timedelta(minutes=50),  # the earliest target counts
        )
        # a clock that is not running (pending) and another queue are not bob's concern
        await set_due(env, 4, status="pending", first_response_due=now + timedelta(minutes=5))
        await set_due(env, 5, queue="billing", first_response_due=now + timedelta(minutes=5))
        await set_due(env, 6, first_response_due=now + timedelta(hours=3))  # not within the hour
        async with env.app.engine.begin() as conn:
            await conn.execute(update(t.agents).values(queues=["general"]))
        await env.driver.event({"type": "app_home_opened", "user": BOB, "tab": "home"})
        await env.quiet()
        sections = home_sections(env, BOB)
        soon = sections["Breaching soon (next 1h)"].splitlines()
        assert [line.split(" · ")[0] for line in soon] == ["T-2", "T-1", "T-3"]
        assert "resolution breached 10 minutes ago" in soon[0]
        assert "first response due in 29 minutes" in soon[1] or "due in 30 minutes" in soon[1]
        assert "next response due in" in soon[2]
        assert "T-5" not in sections["Unassigned in my queues"]  # billing is not bob's queue
        assert "T-1" in sections["Unassigned in my queues"]
        assert "T-2" in sections["Assigned to me"]
        # an agent without queues works them all: billing's ticket shows up too
        async with env.app.engine.begin() as conn:
            await conn.execute(update(t.agents).values(queues=[]))
        await env.driver.event({"type": "app_home_opened", "user": BOB, "tab": "home"})
        await env.quiet()
        soon = home_sections(env, BOB)["Breaching soon (next 1h)"].splitlines()
        assert [line.split(" · ")[0] for line in soon] == ["T-2", "T-5", "T-1", "T-3"]


async def test_breaching_soon_is_a_list_filter_for_every_platform(env: SlackEnv) -> None:
    await env.say(ALICE, "Nothing due")
    await env.quiet()
    await set_due(env, 1)
    await env.command(BOB, "list due:1h")
    await env.command(BOB, "list due:soon")
    await env.quiet()
    nothing, bad = env.responses()
    assert nothing == "Nothing is due within 1 hour."
    assert bad.startswith("due: takes a duration")
