"""Close, reopen and lock; gateway RESUME; start-up intents; failures; several servers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter, DiscordStartupError
from bot.bootstrap import build_app, platform_adapters
from storage import tables as t
from tests.adapters.discord.conftest import (
    TEST_CLIENT,
    DiscordEnv,
    eventually,
    running,
    server,
    settings_for,
)
from tests.adapters.discord.test_staff import thread_ticket
from tests.fakes.discord_api import MESSAGE_CONTENT
from tests.fakes.discord_threads import FakeDiscordThreads, ThreadLocked


async def test_close_posts_transcript_archives_reopens_then_locks(env: DiscordEnv) -> None:
    dc, main = env.dc, env.main
    thread, staff = await thread_ticket(env, "Printer on fire")
    await dc.user_message(staff.id, env.bob, "fuse blown, replacing")  # internal note
    await dc.user_message(thread.id, env.bob, "Fixed, the fuse was blown")
    [card] = env.cards()
    close = await dc.interaction_button("deskbot:close:T-1", env.bob, message_id=card.id)
    assert (await close.followup()).content == "T-1 is now closed."
    await env.quiet()
    fake = dc.channels[thread.id]
    assert fake.archived and not fake.locked  # the reopen window runs
    status = env.posts(thread.id)[2]
    assert "🔒 Closed" in status.content and "within 7 days" in status.content
    assert "🔒" in status.reactions and status.components == []
    [log] = env.posts(main.log.id)
    assert log.content == "Transcript of **T-1** · Printer on fire"
    [attachment] = log.attachments
    assert attachment["filename"] == "T-1-transcript.txt"
    transcript = dc._cdn[int(attachment["id"])].decode()
    assert "Alice: Printer on fire" in transcript
    assert "bob [internal note]: fuse blown, replacing" in transcript
    assert "bob: Fixed, the fuse was blown" in transcript
    assert fake.names == [fake.name]  # never renamed

    await dc.user_message(thread.id, env.alice, "it is smoking again")  # unarchives it
    await env.quiet()
    [ticket] = await env.rows(t.tickets)
    assert ticket.status == "open" and not fake.archived
    assert "💬 Open" in env.posts(thread.id)[2].content

    await env.command("close", {}, channel=thread)
    await env.quiet()
    assert fake.archived and len(env.posts(main.log.id)) == 2
    assert await env.adapter.sweep_locks() == 0  # still inside the reopen window
    env.clock.advance(timedelta(days=8))
    assert await env.adapter.sweep_locks() == 1
    assert fake.locked and fake.archived
    with pytest.raises(ThreadLocked):
        await dc.user_message(thread.id, env.alice, "hello again?")
    await dc.user_message(main.support.id, env.alice, "new problem: scanner jams")
    await env.quiet()
    tickets = await env.rows(t.tickets)
    assert [x.status for x in tickets] == ["closed", "new"]
    assert len(env.threads(main.support)) == 2


async def test_reconnect_with_resume_loses_no_message(env: DiscordEnv) -> None:
    dc, main = env.dc, env.main
    async with dc.gateway_outage():
        await dc.user_message(main.support.id, env.alice, "sent while the gateway was down")
        await dc.user_dm(env.alice, "and a DM meanwhile")
        await asyncio.sleep(0.2)
        assert await env.rows(t.tickets) == []
    await eventually(lambda: len(dc.resumes) >= 1)
    await dc.wait_until(lambda: len(env.threads(main.support)) == 1)
    await env.quiet()
    tickets = await env.rows(t.tickets)
    assert sorted(x.subject for x in tickets) == [
        "and a DM meanwhile",
        "sent while the gateway was down",
    ]
    assert len(dc.identifies) == 1  # resumed, not a new session
    assert len(await env.rows(t.messages)) == 2


async def test_missing_intent_consent_is_a_clear_start_error(tmp_path: Path) -> None:
    async with FakeDiscordThreads() as dc:
        dc.require_message_content_consent = False
        main = server(dc, dc.guild.name, [dc.alice])
        settings = settings_for(dc, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", [main])
        adapter = DiscordAdapter(settings, **TEST_CLIENT)
        app = await build_app(settings, adapters=[adapter])
        with pytest.raises(DiscordStartupError) as err:
            await app.start()
        await app.stop()
        assert "Message Content Intent" in str(err.value)
        assert "DESKBOT_DISCORD_MESSAGE_CONTENT=false" in str(err.value)


async def test_dm_only_mode_runs_without_the_privileged_intent(tmp_path: Path) -> None:
    async with FakeDiscordThreads() as dc:
        dc.require_message_content_consent = False
        main = server(dc, dc.guild.name, [dc.alice])
        settings = settings_for(
            dc,
            f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
            [main],
            discord_support_channels="",
            discord_panel_channels="",
            discord_message_content=False,
        )
        assert [type(a) for a in platform_adapters(settings)] == [DiscordAdapter]  # `deskbot run`
        adapter = DiscordAdapter(settings, **TEST_CLIENT)
        app = await build_app(settings, adapters=[adapter])
        await app.start()
        try:
            assert not dc.identifies[0]["intents"] & MESSAGE_CONTENT
            await dc.user_dm(dc.alice, "can you hear me?")
            await dc.wait_until(lambda: len(dc.bot_messages(dc.add_dm(dc.alice).id)) == 1)
        finally:
            await app.stop()
    no_content = settings_for(dc, "sqlite+aiosqlite://", [main], discord_message_content=False)
    with pytest.raises(ValueError, match="DESKBOT_DISCORD_MESSAGE_CONTENT=true"):
        DiscordAdapter(no_content)  # support channels cannot be read without the intent


async def test_permanent_failure_shows_on_ticket_and_429_is_honoured(env: DiscordEnv) -> None:
    dc = env.dc
    await dc.user_dm(env.alice, "refund please")
    await env.quiet()
    staff = env.staff_thread(env.cards()[0])
    dc.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.3)
    await env.command("reply", {"text": "looking into it"}, channel=staff)
    await env.quiet()
    dm = dc.add_dm(env.alice)
    assert env.bot_texts(dm.id)[-1] == "**bob:** looking into it"
    assert 429 in [r.status for r in dc.calls("POST", "/channels/*/messages")]
    env.alice.dms_open = False  # she closed her DMs: 403, code 50007
    await env.command("reply", {"text": "refund issued"}, channel=staff)
    await env.quiet()
    [failed] = await env.rows(t.outbox, t.outbox.c.status == "failed")
    assert failed.attempts <= 1 and "50007" in (failed.last_error or "")
    assert any("Delivery failed on T-1" in s for s in env.bot_texts(staff.id))
    shown = await env.command("show", {}, channel=staff)
    assert "delivery reply to discord failed" in shown


async def test_several_servers_each_with_their_own_channels(tmp_path: Path) -> None:
    async with running(tmp_path, extra_servers=1, discord_command_scope="guilds") as env:
        dc = env.dc
        other = env.servers[1]  # type: ignore[attr-defined]
        await dc.user_message(other.support.id, env.alice, "help from the second server")
        await dc.user_message(env.main.support.id, env.alice, "help from the first server")
        await env.quiet()
        [card2] = env.cards(other.staff)
        [card1] = env.cards(env.main.staff)
        assert "second server" in card2.embeds[0]["title"]
        assert "first server" in card1.embeds[0]["title"]
        assert len(env.threads(other.support)) == 1 and len(env.threads(env.main.support)) == 1
        assert {s.guild_id for s in dc.command_syncs} == {env.main.guild_id, other.guild_id}
