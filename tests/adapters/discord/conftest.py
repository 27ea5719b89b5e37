"""A real deskbot app with the Discord adapter (unmodified discord.py) against FakeDiscord."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.console.session import ShiftedClock
from adapters.discord import DiscordAdapter
from bot.bootstrap import App, build_app
from bot.config import Settings
from storage import tables as t
from tests.fakes.discord_api import FakeChannel, FakeMessage, FakeRole, FakeUser
from tests.fakes.discord_threads import FakeDiscordThreads

TEST_CLIENT = {"guild_ready_timeout": 0.05, "max_ratelimit_timeout": 30.0}


@dataclass
class Server:
    """One guild: support, panel, staff and log channels, a staff role, agents bob and carol."""

    guild_id: int
    support: FakeChannel
    panel: FakeChannel
    staff: FakeChannel
    log: FakeChannel
    staff_role: FakeRole


def server(
    dc: FakeDiscordThreads,
    name: str,
    people: list[FakeUser],
    shard: tuple[int, int] | None = None,
) -> Server:
    guild = dc.add_guild(name, shard=shard) if name != dc.guild.name else dc.guild
    support = dc.channel if guild is dc.guild else dc.add_text_channel(guild.id, "support")
    role = dc.add_role(guild.id, f"{name} staff")
    for user in people:
        if user.id not in guild.members:
            dc.add_member(guild.id, user)
    return Server(
        guild.id,
        support,
        dc.add_text_channel(guild.id, "open-a-ticket"),
        dc.add_text_channel(guild.id, "staff-tickets"),
        dc.add_text_channel(guild.id, "ticket-log"),
        role,
    )


@dataclass
class DiscordEnv:
    dc: FakeDiscordThreads
    adapter: DiscordAdapter
    app: App
    clock: ShiftedClock
    main: Server
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser
    lee: FakeUser

    async def quiet(self, within: float = 10.0) -> None:
        """Handler work done, every outbox row settled, every dispatch delivered."""
        deadline = time.monotonic() + within
        while True:
            await self.dc.flush()
            await self.adapter.settle()
            async with self.app.engine.connect() as conn:
                busy = (
                    await conn.execute(
                        select(func.count())
                        .select_from(t.outbox)
                        .where(t.outbox.c.status.in_(("queued", "sending")))
                    )
                ).scalar()
            if not busy:
                await self.dc.flush()
                await self.adapter.settle()
                return
            assert time.monotonic() < deadline, f"{busy} outbox rows still pending"
            await asyncio.sleep(0.02)

    async def rows(self, table: Any, *where: Any) -> list[Any]:
        async with self.app.engine.connect() as conn:
            return list((await conn.execute(select(table).where(*where))).all())

    def posts(self, channel_id: int) -> list[FakeMessage]:
        """The bot's messages everyone in the channel sees (ephemeral answers left out)."""
        return [m for m in self.dc.bot_messages(channel_id) if not m.ephemeral]

    def bot_texts(self, channel_id: int) -> list[str]:
        return [m.content for m in self.posts(channel_id)]

    def threads(self, parent: FakeChannel) -> list[FakeChannel]:
        return self.dc.threads(parent.id)

    def cards(self, staff: FakeChannel | None = None) -> list[FakeMessage]:
        return [m for m in self.posts((staff or self.main.staff).id) if m.embeds]

    def staff_thread(self, card: FakeMessage) -> FakeChannel:
        return self.dc.channels[card.id]  # a thread started from a message has its id

    async def command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
    ) -> str:
        """Run an app command; the answer the user sees (follow-ups joined)."""
        handle = await self.dc.interaction_command(
            name, options, user=user or self.bob, channel_id=(channel or self.main.staff).id
        )
        reply = await handle.response()
        assert reply.deferred and reply.elapsed < 3.0
        first = await handle.followup()
        return first.content


async def eventually(check: Callable[[], Any], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def settings_for(
    dc: FakeDiscordThreads, db_url: str, servers: list[Server], **extra: Any
) -> Settings:
    def ids(attr: str) -> str:
        return ",".join(str(getattr(s, attr).id) for s in servers)

    values: dict[str, Any] = {
        "database_url": db_url,
        "discord_token": dc.token,
        "discord_api_base": dc.api_url,
        "discord_gateway_url": dc.gateway_url,
        "discord_support_channels": ids("support"),
        "discord_panel_channels": ids("panel"),
        "discord_staff_channels": ids("staff"),
        "discord_log_channels": ids("log"),
        "discord_lock_sweep_seconds": 0,
        "discord_ready_timeout": 5,
        "agents": " ".join(f"discord:{s.staff_role.id}" for s in servers),
        "outbox_poll_seconds": 0.05,
        "scheduler_interval_seconds": 3600,
        "csat_enabled": False,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running(
    tmp_path: Path,
    *,
    extra_servers: int = 0,
    shards: int = 0,
    main_shard_only: bool = False,
    **extra: Any,
) -> AsyncIterator[DiscordEnv]:
    """A started app against a fresh fake; with `shards`, Discord recommends that many and
    each extra server lands on the shard after the previous one's (`main_shard_only`: this
    process runs only the first server's shard, as when shards are split over processes)."""
    async with FakeDiscordThreads() as dc:
        # Discord allows 5 posts per 5 s per channel; discord.py waits that out (proven in
        # tests/adapters/discord_fake). A busier bucket keeps these scenarios quick.
        dc.route_limits["POST /channels/{channel_id}/messages"] = (20, 5.0)
        bob, carol, lee = dc.add_user("bob"), dc.add_user("carol"), dc.add_user("lee")
        people = [dc.alice, bob, carol, lee]
        main = server(dc, dc.guild.name, people)
        first = (dc.guild.id >> 22) % shards if shards else 0
        servers = [main] + [
            server(dc, f"Guild {n}", people, ((first + n + 1) % shards, shards) if shards else None)
            for n in range(extra_servers)
        ]
        if shards:
            dc.recommended_shards = dc.max_concurrency = shards
        if main_shard_only:
            extra.update(discord_shards=str(shards), discord_shard_ids=str(first))
        for s in servers:
            for agent in (bob, carol):
                dc.guilds[s.guild_id].members[agent.id].roles.append(s.staff_role.id)
        extra.setdefault("leads", f"discord:{lee.id}")
        settings = settings_for(
            dc, f"sqlite+aiosqlite:///{tmp_path / 'deskbot.db'}", servers, **extra
        )
        adapter = DiscordAdapter(settings, **TEST_CLIENT)
        clock = ShiftedClock()
        app = await build_app(settings, clock=clock, adapters=[adapter])
        await app.start()
        env = DiscordEnv(dc, adapter, app, clock, main, dc.alice, bob, carol, lee)
        env.servers = servers  # type: ignore[attr-defined]
        try:
            yield env
        finally:
            await app.stop()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[DiscordEnv]:
    async with running(tmp_path) as e:
        yield e
