"""Staff side: modmail relay, internal notes, concurrent claims, splitting, mentions, deferral."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage import tables as t
from tests.adapters.discord.conftest import DiscordEnv, running
from tests.fakes.discord_api import FakeChannel


async def thread_ticket(
    env: DiscordEnv, text: str = "My VPN is down"
) -> tuple[FakeChannel, FakeChannel]:
    """Alice opens a ticket in #support: (her private thread, the card's staff thread)."""
    await env.dc.user_message(env.main.support.id, env.alice, text)
    await env.quiet()
    [thread] = env.threads(env.main.support)
    return thread, env.staff_thread(env.cards()[-1])


async def test_dm_relay_both_ways_with_attachments(tmp_path: Path) -> None:
    async with running(tmp_path, discord_upload_limit_mb=0.01) as env:  # ~10 KB
        dc = env.dc
        dm = dc.add_dm(env.alice)
        files = [("log.txt", b"error 809\n" * 10), ("dump.bin", b"x" * 20_000)]
        await dc.user_dm(env.alice, "Where is my invoice?", attachments=files)
        await env.quiet()
        [ticket] = await env.rows(t.tickets)
        assert ticket.conversation_key == f"discord:{dm.id}:"
        [ack] = env.posts(dm.id)
        assert "T-1" in ack.content
        staff = env.staff_thread(env.cards()[0])
        [relay] = env.posts(staff.id)
        assert relay.content.startswith("Alice wrote on T-1: Where is my invoice?")
        assert [a["filename"] for a in relay.attachments] == ["log.txt"]
        assert "dump.bin (19.5 KB) is over Discord's upload limit" in relay.content
        assert "/attachments/" in relay.content  # the link to download it

        answer = await env.command("reply", {"text": "It is on its way"}, channel=staff)
        assert answer == "Reply sent on T-1 (first response)."
        await dc.user_message(staff.id, env.bob, "she paid by wire, check SEPA")  # a note
        await dc.user_dm(env.alice, "thanks!")
        await env.quiet()
        assert env.bot_texts(dm.id)[1:] == ["**bob:** It is on its way"]
        assert env.bot_texts(staff.id)[-1] == "Alice wrote on T-1: thanks!"
        notes = await env.rows(t.messages, t.messages.c.visibility == "internal")
        assert [n.text for n in notes] == ["she paid by wire, check SEPA"]


async def test_internal_notes_never_reach_the_customer(env: DiscordEnv) -> None:
    dc = env.dc
    thread, staff = await thread_ticket(env)
    await dc.user_message(staff.id, env.bob, "customer is on the legacy plan")
    said = await env.command("note", {"text": "do not promise a refund"}, channel=thread)
    assert said == "Internal note added to T-1."
    await env.command("note", {"text": "escalate to network team"}, user=env.carol, channel=staff)
    await env.quiet()
    secrets = ("legacy plan", "refund", "network team")
    customer_side = [m.content for m in dc.messages(thread.id)] + [
        m.content for m in dc.messages(dc.add_dm(env.alice).id)
    ]
    assert not [c for c in customer_side if any(s in c for s in secrets)]
    notes = await env.rows(t.messages, t.messages.c.visibility == "internal")
    assert sorted(n.text for n in notes) == sorted(
        ["customer is on the legacy plan", "do not promise a refund", "escalate to network team"]
    )
    staff_texts = env.bot_texts(staff.id)
    assert any("do not promise a refund" in s for s in staff_texts)  # /note echoed to staff


async def test_concurrent_claims_have_one_winner_and_the_card_is_edited(env: DiscordEnv) -> None:
    dc = env.dc
    thread, _ = await thread_ticket(env)
    [card] = env.cards()
    clicks = await asyncio.gather(
        dc.interaction_button("deskbot:claim:T-1", env.bob, message_id=card.id),
        dc.interaction_button("deskbot:claim:T-1", env.carol, message_id=card.id),
    )
    answers = []
    for click in clicks:
        assert (await click.response()).deferred
        answers.append((await click.followup()).content)
    won = [a for a in answers if a.startswith("You claimed T-1")]
    lost = [a for a in answers if "already claimed by" in a]
    assert len(won) == 1 and len(lost) == 1, answers
    await env.quiet()
    winner = "bob" if answers[0] in won else "carol"
    [ticket] = await env.rows(t.tickets)
    assert ticket.assignee_id is not None
    [card] = env.cards()  # still one card, edited in place
    assert dc.message(card.id).edits >= 1
    fields = {f["name"]: f["value"] for f in card.embeds[0]["fields"]}
    assert fields["Assignee"] == winner
    claim = card.components[0]["components"][0]
    assert claim["custom_id"] == "deskbot:claim:T-1" and claim["disabled"] is True
    status = env.posts(thread.id)[2]
    assert f"{winner} is on it" in status.content and "👀" in status.reactions
    assert not status.reactions.get("🆕")  # the reaction was swapped, not added
    pick = await dc.interaction_select(
        "deskbot:priority:T-1", ["urgent"], env.bob, message_id=card.id
    )
    assert (await pick.followup()).content == "T-1 priority is now urgent."
    await env.quiet()
    fields = {f["name"]: f["value"] for f in dc.message(card.id).embeds[0]["fields"]}
    assert fields["Priority"] == "urgent" and len(env.cards()) == 1


async def test_long_reply_is_split_and_mentions_never_ping(env: DiscordEnv) -> None:
    dc, role = env.dc, env.main.staff_role
    thread, staff = await thread_ticket(env, f"@everyone help! <@{env.bob.id}> <@&{role.id}> @here")
    long = " ".join(f"word{n:04d}" for n in range(278))  # 2,501 characters
    assert len(long) > 2500
    await env.command("reply", {"text": long}, channel=staff)
    await env.command("reply", {"text": f"@everyone fixed, ask <@{env.carol.id}>"}, channel=staff)
    await env.quiet()
    posts = env.posts(thread.id)
    first, second = posts[3], posts[4]
    assert len(first.content) <= 2000 and len(second.content) <= 2000
    assert first.content.startswith("**bob:** word0000")
    assert (first.content + " " + second.content).removeprefix("**bob:** ") == long
    assert "@\u200beveryone" in posts[0].content  # the copy of alice's message
    everything = [m for c in dc.channels.values() for m in dc.messages(c.id)]
    ours = [m for m in everything if m.author.id == dc.bot.id]
    assert ours and not [m for m in ours if m.pinged]
    assert all(m.allowed_mentions is not None for m in ours if m.content)


async def test_slow_handler_is_deferred_then_followed_up(env: DiscordEnv) -> None:
    dc = env.dc
    _, staff = await thread_ticket(env)
    dc.interaction_response_window = 0.5
    gateway = env.adapter.gateway
    execute = gateway.execute

    async def slow(invocation: Any) -> Any:
        await asyncio.sleep(1.0)
        return await execute(invocation)

    gateway.execute = slow  # type: ignore[method-assign]
    started = time.monotonic()
    handle = await dc.interaction_command("claim", {}, user=env.bob, channel_id=staff.id)
    reply = await handle.response()
    assert reply.deferred and reply.elapsed < 0.5 and not handle.rejected
    answer = await handle.followup(within=5)
    assert answer.content.startswith("You claimed T-1") and time.monotonic() - started >= 1.0


async def test_sla_breaches_of_several_tickets_are_one_digest_per_server(tmp_path: Path) -> None:
    """Three tickets breach in one sweep, two on the main server and one on another: each
    server's staff channel gets one digest of its own tickets; every card shows the breach."""
    async with running(tmp_path, extra_servers=1) as env:
        other = env.servers[1]  # type: ignore[attr-defined]
        for channel, text in (
            (env.main.support, "VPN down"),
            (other.support, "printer jammed"),
            (env.main.support, "mail bounces"),
        ):
            await env.dc.user_message(channel.id, env.alice, text)
            await env.quiet()
        env.clock.set(env.clock.now() + timedelta(hours=5))  # past the 4 h first response
        assert await env.app.scheduler.sweep() == 6  # each one's warning and breach
        await env.quiet()
        digest = [c for c in env.bot_texts(env.main.staff.id) if "SLA alerts" in c]
        assert len(digest) == 1
        assert digest[0].startswith("🔥 SLA alerts in queue general: 2 missed, 2 due soon\n")
        assert "T-1 missed its first response target" in digest[0]
        assert "T-3 missed" in digest[0] and "T-2" not in digest[0]
        assert not [c for c in env.bot_texts(other.staff.id) if "SLA alerts" in c]
        # one ticket there: its notices go to its card's thread, as they are
        [card] = env.cards(other.staff)
        [theirs] = [c for c in env.bot_texts(env.staff_thread(card).id) if "missed" in c]
        assert theirs.startswith("🔥 T-2 missed its first response target")
        for card in env.cards() + env.cards(other.staff):
            assert "breached" in str(card.embeds[0]).lower(), card.embeds[0]
