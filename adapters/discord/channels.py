"""Which channel a ticket's staff card, notices and transcript go to, per guild (multi-server).

A ticket belongs to the guild of the channel its customer wrote in. Its card goes to its
queue's staff channel (`[[queues]] triage.discord` in the settings file), else to the staff
channel in its guild, else to the first staff channel (DM tickets, other platforms).
"""

from __future__ import annotations

import discord

from adapters.discord.config import PLATFORM, DiscordConfig
from bot.messages import ConversationRef


class Channels:
    """Looks guilds up in discord.py's cache (filled by GUILD_CREATE at connect)."""

    def __init__(self, client: discord.Client, cfg: DiscordConfig) -> None:
        self.client = client
        self.cfg = cfg

    def guild_of(self, channel_id: int) -> int | None:
        channel = self.client.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild.id if guild is not None else None

    def guild_of_conversation(self, key: str | None) -> int | None:
        if not key:
            return None
        conv = ConversationRef.from_key(key)
        if conv.platform != PLATFORM or not conv.channel.isdigit():
            return None
        return self.guild_of(int(conv.channel))

    def _pick(self, candidates: tuple[int, ...], guild_id: int | None) -> int | None:
        if guild_id is not None:
            for cid in candidates:
                if self.guild_of(cid) == guild_id:
                    return cid
        return candidates[0] if candidates else None

    def staff_for(self, queue: str | None, conversation_key: str | None) -> int | None:
        if queue and queue in self.cfg.staff_by_queue:
            return self.cfg.staff_by_queue[queue]
        return self._pick(self.cfg.staff_channels, self.guild_of_conversation(conversation_key))

    def log_for(self, conversation_key: str | None) -> int | None:
        return self._pick(self.cfg.log_channels, self.guild_of_conversation(conversation_key))

    def missing(self) -> list[int]:
        """Configured channels the bot cannot see (wrong id, or no permission)."""
        wanted = (
            *self.cfg.support_channels,
            *self.cfg.panel_channels,
            *self.cfg.staff_channels,
            *self.cfg.log_channels,
            *self.cfg.staff_by_queue.values(),
        )
        return [c for c in dict.fromkeys(wanted) if self.client.get_channel(c) is None]
