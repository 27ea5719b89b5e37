"""One end-to-end Slack scenario on SQLite and on PostgreSQL (the db_url fixture)."""

from __future__ import annotations

import asyncio

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, HELP, TRIAGE, running


async def test_intake_card_note_reply_on_both_databases(db_url: str) -> None:
    async with running(db_url) as env:
        root = await env.say(ALICE, "Printer jammed", event_id="EvDB1")
        await env.driver.event(
            {
                "type": "message",
                "channel": HELP,
                "user": ALICE,
                "text": "Printer jammed",
                "ts": root.ts,
                "channel_type": "channel",
            },
            event_id="EvDB2",  # the same message again under another event id
        )
        await env.quiet()
        [card] = env.cards()
        await env.command(BOB, "claim T-1")
        await env.say(BOB, "Toner is the culprit", TRIAGE, thread_ts=card.ts)
        await env.quiet()
        await env.say(BOB, "Fixed, please try again", thread_ts=root.ts)
        await env.quiet()
        assert [(m.author_kind, m.visibility) for m in await env.rows(t.messages)] == [
            ("customer", "public"),
            ("agent", "internal"),
            ("agent", "public"),
        ]
        thread = env.thread(HELP, root.ts)
        assert len(thread) == 2 and "Toner" not in " ".join(thread)
        assert card.updates >= 1 and env.cards() == [card]
        assert root.reactions == {"eyes": [env.slack.bot_user_id]}


async def test_concurrent_first_commands_of_a_new_agent(db_url: str) -> None:
    """Five commands at once from an agent deskbot has never seen: each is answered."""
    async with running(db_url) as env:
        for n in range(5):
            await env.say(ALICE, f"issue {n}")
            await env.quiet()
        sent = [
            env.driver.slash_command("/ticket", f"claim T-{n}", BOB, TRIAGE) for n in range(1, 6)
        ]
        assert [r.status for r in await asyncio.gather(*sent)] == [200] * 5
        await env.quiet()
        assert sorted(env.responses()) == [f"You claimed T-{n}: issue {n - 1}" for n in range(1, 6)]
        assert [a.name for a in await env.rows(t.agents)] == ["bob"]
