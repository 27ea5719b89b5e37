"""Survey buttons and the "This solved it" button; failed deliveries shown on the card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.discord import render
from storage import tables as t
from tests.adapters.discord.conftest import DiscordEnv, running
from tests.adapters.discord.test_staff import thread_ticket
from tests.fakes.discord_api import FakeMessage


def button_ids(message: FakeMessage) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row["components"]]


async def click(env: DiscordEnv, custom_id: str, channel_id: int) -> str:
    """Alice clicks a button: deferred within 3 s, then the core's answer only she sees."""
    handle = await env.dc.interaction_button(custom_id, env.alice, channel_id=channel_id)
    reply = await handle.response()
    assert reply.deferred and reply.elapsed < 3.0
    answer = await handle.followup()
    assert answer.ephemeral
    return answer.content


async def test_survey_buttons_rate_the_ticket(tmp_path: Path) -> None:
    async with running(tmp_path, csat_enabled=True) as env:
        thread, staff = await thread_ticket(env)
        assert await env.command("resolve", {}, channel=staff) == "T-1 is now resolved."
        await env.quiet()
        survey = env.posts(thread.id)[-1]
        assert survey.content.startswith("How did we do on T-1?")
        assert button_ids(survey) == [f"deskbot:run:rate T-1 {n}" for n in range(1, 6)]
        labels = [c["label"] for row in survey.components for c in row["components"]]
        assert labels == ["1", "2", "3", "4", "5"]
        assert await click(env, "deskbot:run:rate T-1 4", thread.id) == (
            "Thanks for rating T-1: 4/5."
        )
        await env.quiet()
        [rating] = await env.rows(t.ratings)
        assert rating.score == 4
        [ticket] = await env.rows(t.tickets)
        assert ticket.status == "resolved"  # a rating never reopens the ticket
        # someone else in the thread cannot rate her ticket
        other = await env.dc.interaction_button(
            "deskbot:run:rate T-1 1", env.bob, channel_id=thread.id
        )
        assert "not one of your tickets" in (await other.followup()).content
        assert [r.score for r in await env.rows(t.ratings)] == [4]


async def test_dm_survey_and_solved_button(tmp_path: Path) -> None:
    async with running(tmp_path, csat_enabled=True) as env:
        dc = env.dc
        article = "How to reset your password | Open login, click Forgot password. | login"
        await env.command("kb", {"add": {"article": article}}, user=env.lee)
        await dc.user_dm(env.alice, "I forgot my password and cannot log in")
        await env.quiet()
        dm = dc.add_dm(env.alice)
        [ack] = env.posts(dm.id)
        assert "How to reset your password" in ack.content
        assert button_ids(ack) == ["deskbot:run:solved T-1"]
        said = await click(env, "deskbot:run:solved T-1", dm.id)
        assert said.startswith("Glad that helped! T-1 is now resolved")
        await env.quiet()
        [ticket] = await env.rows(t.tickets)
        assert ticket.status == "resolved"
        assert not [m for m in env.posts(dm.id) if m.content.startswith("How did we do")]

        await dc.user_dm(env.alice, "Another thing: my invoice is wrong")  # reopens T-1
        await env.quiet()
        staff = env.staff_thread(env.cards()[0])
        await env.command("close", {}, channel=staff)
        await env.quiet()
        survey = env.posts(dm.id)[-1]
        assert button_ids(survey) == [f"deskbot:run:rate T-1 {n}" for n in range(1, 6)]
        assert await click(env, "deskbot:run:rate T-1 2", dm.id) == "Thanks for rating T-1: 2/5."
        await env.quiet()
        assert [r.score for r in await env.rows(t.ratings)] == [2]


def footer(env: DiscordEnv, card: FakeMessage) -> Any:
    return (env.dc.message(card.id).embeds[0].get("footer") or {}).get("text")


async def test_a_permanent_failure_is_counted_on_the_card(env: DiscordEnv) -> None:
    dc = env.dc
    env.alice.dms_open = False  # the ack of her very first message cannot be delivered
    await dc.user_dm(env.alice, "refund please")
    await env.quiet()
    [card] = env.cards()
    assert footer(env, card) == "⚠ 1 failed deliveries"
    staff = env.staff_thread(card)
    await env.command("reply", {"text": "refund issued"}, channel=staff)
    await env.quiet()
    assert footer(env, card) == "⚠ 2 failed deliveries"
    failed = await env.rows(t.outbox, t.outbox.c.status == "failed")
    assert sorted(r.kind for r in failed) == ["ack", "reply"]


async def test_a_card_that_cannot_be_drawn_is_not_redrawn_forever(env: DiscordEnv) -> None:
    dc = env.dc
    thread, _ = await thread_ticket(env)
    dc.deny(env.main.staff.id, "view_channel")  # the staff channel is gone for the bot
    await dc.user_message(thread.id, env.alice, "any news?")
    await env.command("claim", {}, channel=thread)
    await env.quiet()
    rows = len(await env.rows(t.outbox))
    failed = await env.rows(t.outbox, t.outbox.c.status == "failed")
    assert "card" in [r.kind for r in failed]
    await env.quiet()
    assert len(await env.rows(t.outbox)) == rows  # settled: no card after card after card


def test_buttons_never_run_a_cut_or_doubled_command() -> None:
    long = "rate T-1 5 " + "x" * 100
    specs = [{"label": "5", "command": "rate T-1 5"}, {"label": "again", "command": "rate T-1 5"}]
    view = render.buttons([*specs, {"label": "long", "command": long}])
    assert view is not None
    assert [getattr(b, "custom_id", None) for b in view.children] == ["deskbot:run:rate T-1 5"]
    assert render.buttons([{"label": "long", "command": long}]) is None
