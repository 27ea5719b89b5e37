"""The discord.py client: intents from the settings, events handed to the adapter's modules."""

from __future__ import annotations

import logging
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
