"""Several servers over several gateway shards (AutoShardedClient) against the fake gateway."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from adapters.discord import client as client_module
from adapters.discord.client import ShardedDeskClient
from adapters.discord.config import PLATFORM, DiscordConfig
from adapters.discord.translate import thread_conversation
from bot.messages import Identity, InboundMessage
from storage import tables as t
from tests.adapters.discord.conftest import running, settings_for
from tests.fakes.discord_threads import FakeDiscordThreads


async def test_two_shards_receive_messages_from_both_servers(tmp_path: Path) -> None:
    async with running(tmp_path, extra_servers=1, shards=2, discord_shards="auto") as env:
        dc, main = env.dc, env.main
        other = env.servers[1]  # type: ignore[attr-defined]
        client = env.adapter.client
        assert isinstance(client, ShardedDeskClient) and client.shard_count == 2
        assert sorted(tuple(i["shard"]) for i in dc.identifies) == [(0, 2), (1, 2)]
        # Discord answered max_concurrency 2: both shards identified at once, not 5 s apart
        assert max(dc.identified_at) - min(dc.identified_at) < 2.0
        assert {(s.guild_id >> 22) % 2 for s in (main, other)} == {0, 1}
        assert {g.id: g.shard_id for g in client.guilds} == {
            s.guild_id: (s.guild_id >> 22) % 2 for s in (main, other)
        }
        await dc.user_message(other.support.id, env.alice, "help from the second server")
        await dc.user_message(main.support.id, env.alice, "help from the first server")
        await dc.user_dm(env.alice, "and one by DM")  # DMs arrive on shard 0
        await env.quiet()
        assert "second server" in env.cards(other.staff)[0].embeds[0]["title"]
        assert len(env.cards(main.staff)) == 2  # the first server's and the DM's
        assert len(await env.rows(t.tickets)) == 3
        [thread] = env.threads(other.support)
        await dc.user_message(thread.id, env.alice, "still broken on the second server")
        await env.quiet()
        assert len(await env.rows(t.messages)) == 4


async def test_identify_waits_only_within_a_concurrency_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "IDENTIFY_WINDOW", 0.5)  # Discord's is 5 s
    async with running(tmp_path, extra_servers=2, shards=3, discord_shards="3") as env:
        dc = env.dc
        dc.max_concurrency = 1  # read at start: the fixture set it to 3
        assert [tuple(i["shard"]) for i in dc.identifies] == [(0, 3), (1, 3), (2, 3)]
        await env.adapter.stop()
        dc.identifies.clear()
        dc.identified_at.clear()
        await env.adapter.start(env.adapter.gateway)  # a restart with max_concurrency 1
        gaps = [b - a for a, b in zip(dc.identified_at, dc.identified_at[1:], strict=False)]
        assert len(gaps) == 2 and min(gaps) >= 0.45
        third = env.servers[2]  # type: ignore[attr-defined]
        await dc.user_message(third.support.id, env.alice, "from the third server")
        await env.quiet()
        assert len(await env.rows(t.tickets)) == 1


async def test_shard_settings_are_checked(tmp_path: Path) -> None:
    async with FakeDiscordThreads() as dc:
        pass

    def cfg(**extra: str) -> DiscordConfig:
        return DiscordConfig.from_settings(settings_for(dc, "sqlite+aiosqlite://", [], **extra))

    assert cfg().shards is None
    assert cfg(discord_shards="auto").shards == 0
    four = cfg(discord_shards="4", discord_shard_ids="2,3")
    assert (four.shards, four.shard_ids) == (4, (2, 3))
    for bad in (
        {"discord_shards": "many"},
        {"discord_shard_ids": "0"},
        {"discord_shards": "2", "discord_shard_ids": "2"},
    ):
        with pytest.raises(ValueError, match="DESKBOT_DISCORD_SHARD"):
            cfg(**bad)
    assert discord.AutoShardedClient in ShardedDeskClient.__mro__


async def test_a_process_with_some_shards_still_routes_cards_by_server(tmp_path: Path) -> None:
    async with running(tmp_path, extra_servers=1, shards=2, main_shard_only=True) as env:
        dc, main = env.dc, env.main
        other = env.servers[1]  # type: ignore[attr-defined]
        assert [g.id for g in env.adapter.client.guilds] == [main.guild_id]
        assert env.adapter.channels.missing() == []  # the other server's channels were read
        # A ticket the process running the other shard took in: its card is ours to deliver.
        thread = dc.add_thread(other.support.id, "Alice · printer", owner=env.alice)
        customer = Identity(PLATFORM, str(env.alice.id), display_name="Alice")
        conv = thread_conversation(other.support.id, thread.id)
        await env.adapter.gateway.receive(
            InboundMessage(PLATFORM, "m-1", customer, conv, "printer on the second server")
        )
        await env.quiet()
        [card] = env.cards(other.staff)
        assert "second server" in card.embeds[0]["title"] and env.cards(main.staff) == []
