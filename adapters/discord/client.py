"""The discord.py client: intents from the settings, events handed to the adapter's modules;
one gateway connection, or several shards in one process (AutoShardedClient)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import intake, interactions
from adapters.discord.config import DiscordConfig

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)


def intents_for(cfg: DiscordConfig) -> discord.Intents:
    """Guilds, guild and DM messages, reactions; MESSAGE_CONTENT (privileged) only when
    something reads guild message text — DM-only mode runs without it."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.message_content = cfg.wants_message_content
    return intents


class DeskClient(discord.Client):
    """An unmodified discord.py client whose events run the adapter's handlers.

    Replies never ping: AllowedMentions.none() is the client default, and every send passes
    it again. Each handler is tracked so tests and shutdown can wait for work in flight.
    """

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        options.setdefault("chunk_guilds_at_startup", False)
        super().__init__(intents=intents_for(adapter.cfg), **options)
        self.adapter = adapter

    async def on_ready(self) -> None:
        log.info("Discord: logged in as %s in %d guild(s)", self.user, len(self.guilds))

    async def on_resumed(self) -> None:
        log.info("Discord: gateway session resumed")

    async def on_message(self, message: discord.Message) -> None:
        with self.adapter.busy():
            await intake.on_message(self.adapter, message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        with self.adapter.busy():
            await interactions.on_interaction(self.adapter, interaction)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        with self.adapter.busy():
            await intake.on_edit(self.adapter, payload)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Discord: error in %s", event_method)
        self.adapter.errors += 1


IDENTIFY_WINDOW = 5.0  # seconds: Discord allows `max_concurrency` IDENTIFYs per window


class ShardedDeskClient(DeskClient, discord.AutoShardedClient):
    """The same client over several gateway shards (Discord requires sharding from 2,500
    servers; each guild's events arrive on shard `(guild_id >> 22) % shards`, DMs on 0).

    discord.py waits 5 s before every IDENTIFY after the first; Discord's rule is per bucket
    (`shard_id % max_concurrency`), so shards in different buckets connect at once and a
    bot with max_concurrency 16 starts 16 times faster.
    """

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        cfg = adapter.cfg
        if cfg.shards:
            options.setdefault("shard_count", cfg.shards)
            if cfg.shard_ids:
                options.setdefault("shard_ids", list(cfg.shard_ids))
        super().__init__(adapter, **options)
        self.max_concurrency = 1
        self._identified: dict[int, float] = {}  # bucket -> when its last IDENTIFY went out

    async def setup_hook(self) -> None:
        limits = await self.fetch_session_start_limits()
        self.max_concurrency = max(1, limits.max_concurrency)
        log.info(
            "Discord: %s shard(s), %d session starts left today, %d at once",
            self.shard_count or "recommended",
            limits.remaining,
            self.max_concurrency,
        )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        bucket = (shard_id or 0) % self.max_concurrency
        last = self._identified.get(bucket)
        if last is not None:
            wait = last + IDENTIFY_WINDOW - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._identified[bucket] = time.monotonic()


def make_client(adapter: DiscordAdapter, **options: Any) -> DeskClient:
    """A sharded client when DESKBOT_DISCORD_SHARDS is set, else one connection."""
    if adapter.cfg.shards is not None:
        return ShardedDeskClient(adapter, **options)
    return DeskClient(adapter, **options)
