"""Which channel a ticket's staff card, notices and transcript go to, per guild (multi-server).

A ticket belongs to the guild of the channel its customer wrote in. Its card goes to its
queue's staff channel (`[[queues]] triage.discord` in the settings file), else to the staff
channel in its guild, else to the first staff channel (DM tickets, other platforms).
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.config import PLATFORM, DiscordConfig
from bot.messages import ConversationRef

log = logging.getLogger(__name__)


class Channels:
    """Looks guilds up in discord.py's cache (filled by GUILD_CREATE at connect), and for
    configured channels of servers on another process's shards, in what `learn` read."""

    def __init__(self, client: discord.Client, cfg: DiscordConfig) -> None:
        self.client = client
        self.cfg = cfg
        self.learned: dict[int, int] = {}  # channel id -> guild id, read over REST

    def guild_of(self, channel_id: int) -> int | None:
        channel = self.client.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild.id if guild is not None else self.learned.get(channel_id)

    async def learn(self) -> None:
        """The guilds of configured channels this process's shards do not carry (shards split
        over processes): any process may deliver a ticket's card, and it must pick the staff
        channel in the ticket's server. One REST read per such channel, at start."""
        for cid in self._wanted():
            if self.client.get_channel(cid) is not None or cid in self.learned:
                continue
            try:
                data = await self.client.http.get_channel(cid)
            except discord.HTTPException as exc:
                log.info("channel %s not readable: %s", cid, exc)
                continue
            guild_id = str(dict(data).get("guild_id") or "")  # a DM channel has none
            if guild_id.isdigit():
                self.learned[cid] = int(guild_id)

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

    def _wanted(self) -> list[int]:
        wanted = (
            *self.cfg.support_channels,
            *self.cfg.panel_channels,
            *self.cfg.staff_channels,
            *self.cfg.log_channels,
            *self.cfg.staff_by_queue.values(),
        )
        return list(dict.fromkeys(wanted))

    def missing(self) -> list[int]:
        """Configured channels the bot cannot see (wrong id, or no permission)."""
        seen = self.client.get_channel
        return [c for c in self._wanted() if seen(c) is None and c not in self.learned]
