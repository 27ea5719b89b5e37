"""Who a Discord user is: name and role ids (the core maps role ids to deskbot roles).

In a guild the member's roles come with the message or interaction. In a DM there are none,
so the user's roles are looked up in every served guild (REST, cached for a few minutes):
a staff member writing to the bot privately is still staff.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord

from adapters.discord.config import DiscordConfig
from adapters.discord.translate import group_ids, identity_of
from bot.messages import Identity

log = logging.getLogger(__name__)

GROUP_TTL = 300.0


class Directory:
    """Resolves users to Identities. Failures degrade to no roles, never raise."""

    def __init__(self, client: discord.Client, cfg: DiscordConfig) -> None:
        self.client = client
        self.cfg = cfg
        self._groups: dict[int, tuple[float, tuple[str, ...]]] = {}

    async def identity(self, user: Any, locale: str | None = None) -> Identity:
        if isinstance(user, discord.Member):
            return identity_of(user, group_ids(user), locale)
        return identity_of(user, await self.groups_anywhere(user.id), locale)

    async def groups_anywhere(self, user_id: int) -> tuple[str, ...]:
        """The user's role ids across the served guilds (for DMs)."""
        hit = self._groups.get(user_id)
        if hit and time.monotonic() - hit[0] < GROUP_TTL:
            return hit[1]
        roles: list[str] = []
        for guild in self.client.guilds:
            if not self.cfg.serves(guild.id):
                continue
            member = guild.get_member(user_id)
            if member is None:
                try:
                    member = await guild.fetch_member(user_id)
                except discord.NotFound:
                    continue
                except discord.HTTPException as exc:
                    log.info("member %s of guild %s: %s", user_id, guild.id, exc)
                    continue
            roles.extend(group_ids(member))
        found = tuple(dict.fromkeys(roles))
        self._groups[user_id] = (time.monotonic(), found)
        return found
