"""Outbound -> Discord REST: customer threads and DMs, the status message, cards, staff threads.

discord.py honours 429s itself (per-route buckets, the global limit, Retry-After); what still
fails becomes a DeliveryError: transient (5xx, connection, a long rate limit) so the outbox
backs off, or permanent (missing access, a DM the user closed, a locked thread, a body
Discord refuses) so the row is marked failed and the failure shows on the ticket.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import discord

from adapters.discord import closing, files, render
from adapters.discord.config import PLATFORM
from adapters.discord.translate import target_channel
from bot.messages import ConversationRef, DeliveryError, DeliveryResult, Outbound

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

WEEK: Literal[10080] = 10080  # minutes before an idle thread archives itself (the longest)


def delivery_error(exc: Exception, what: str) -> DeliveryError:
    """Classify a failure for the outbox."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError(f"discord {what}: rate limited", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        detail = f"discord {what}: HTTP {exc.status} (code {exc.code}) {exc.text}".strip()
        if exc.status >= 500 or exc.status == 429:
            return DeliveryError(detail)
        return DeliveryError(detail, permanent=True)
    return DeliveryError(f"discord {what}: {exc!r}")


def split_ref(value: str | None) -> tuple[int, int] | None:
    """Our external ids start `channel:message`."""
    if not value:
        return None
    parts = value.split(":")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


class DiscordSender:
    """Delivers one Outbound. Stateless apart from the client, so retries are safe."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    async def send(self, m: Outbound) -> DeliveryResult:
        what = f"{m.audience} {m.kind}"
        if not self.adapter.connected:
            raise DeliveryError("discord: not logged in yet", retry_after=5)
        try:
            if m.audience == "customer":
                if m.kind == "status":
                    return await closing.status(self, m)
                return await self._to_customer(m)
            if m.recipient:
                return await self._direct(int(m.recipient), m)
            if m.kind == "card":
                return await self._card(m)
            return await self._to_staff(m)
        except DeliveryError:
            raise
        except (discord.HTTPException, discord.RateLimited) as exc:
            raise delivery_error(exc, what) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"discord {what}: connection failed: {exc!r}") from exc

    # --- posting ------------------------------------------------------------------------------
    async def post(
        self,
        channel_id: int,
        texts: list[str],
        *,
        view: discord.ui.View | None = None,
        attachments: list[discord.File] | None = None,
        embed: discord.Embed | None = None,
    ) -> discord.Message:
        """Post messages in order; files go with the first, components with the last."""
        channel = self.client.get_partial_messageable(channel_id)
        last: discord.Message | None = None
        for n, text in enumerate(texts):
            kwargs: dict[str, Any] = {"allowed_mentions": render.QUIET}
            if n == 0 and attachments:
                kwargs["files"] = attachments
            if n == 0 and embed is not None:
                kwargs["embed"] = embed
            if n == len(texts) - 1 and view is not None:
                kwargs["view"] = view
            last = await channel.send(content=text or None, **kwargs)
        assert last is not None
        return last

    async def _to_customer(self, m: Outbound) -> DeliveryResult:
        conv = m.conversation
        if conv is None or conv.platform != PLATFORM:
            raise DeliveryError("customer message without a Discord conversation", permanent=True)
        prefix = ""
        if m.kind == "reply":
            prefix = f"**{render.name(str(m.payload.get('agent_name') or 'Support'))}:** "
        channel = target_channel(conv)
        view = render.buttons(list(m.payload.get("buttons") or []))
        found, text = await self._files(m)
        msg = await self.post(channel, render.bodies(text, prefix), view=view, attachments=found)
        return DeliveryResult(f"{channel}:{msg.id}")

    async def _files(self, m: Outbound) -> tuple[list[discord.File], str]:
        """Files that ride with the message ({filename, content_type, size, url}), copied
        within the upload limit; the text gains a notice (with the link) for the others."""
        items = list(m.payload.get("attachments") or [])
        if not items:
            return [], m.text
        limit = self.adapter.cfg.upload_limit
        found, notices = await files.prepare(self.adapter.session, items, limit)
        return found, "\n".join([m.text, *notices]) if notices else m.text

    async def dm_channel(self, user_id: int) -> int:
        cache = self.adapter.dm_channels
        if user_id not in cache:
            data = await self.client.http.start_private_message(user_id)
            cache[user_id] = int(data["id"])
        return cache[user_id]

    async def _direct(self, user_id: int, m: Outbound) -> DeliveryResult:
        channel = await self.dm_channel(user_id)
        msg = await self.post(channel, render.bodies(m.text))
        return DeliveryResult(f"{channel}:{msg.id}")

    # --- staff side -----------------------------------------------------------------------
    def _staff_channel(self, m: Outbound) -> int:
        channel = self.adapter.channels.staff_for(
            m.payload.get("queue"), m.payload.get("conversation")
        )
        if channel is None:
            raise DeliveryError(
                "no Discord staff channel is configured (DESKBOT_DISCORD_STAFF_CHANNELS)",
                permanent=True,
            )
        return channel

    async def _to_staff(self, m: Outbound) -> DeliveryResult:
        """Relayed customer messages, notes and notices go to the card's staff-only thread."""
        found, text = await self._files(m)
        anchor = split_ref(m.card_external_id)
        if anchor is not None:
            try:
                msg = await self.post(anchor[1], render.bodies(text), attachments=found)
                return DeliveryResult(f"{anchor[1]}:{msg.id}")
            except discord.NotFound:
                log.info("staff thread of %s is gone; posting in the staff channel", m.ticket)
                found, _ = await self._files(m)  # the copies were used up by the failed post
        channel = self._staff_channel(m)
        prefix = f"**{render.name(m.ticket)}** · " if m.ticket else ""
        msg = await self.post(channel, render.bodies(text, prefix), attachments=found)
        return DeliveryResult(f"{channel}:{msg.id}")

    async def _card(self, m: Outbound) -> DeliveryResult:
        """Post the card (and its staff thread) once; afterwards edit that message in place."""
        channel = self._staff_channel(m)
        embed, view = render.card(m.payload)
        previous = split_ref(m.previous_external_id)
        if previous is not None:
            old_channel, old_id = previous
            message = self.client.get_partial_messageable(old_channel).get_partial_message(old_id)
            if old_channel == channel:
                try:
                    await message.edit(content=None, embed=embed, view=view)
                    conv = ConversationRef(PLATFORM, str(old_channel), str(old_id))
                    return DeliveryResult(m.previous_external_id, conv)
                except discord.NotFound:
                    log.warning("card of %s is gone; posting it again", m.ticket)
            else:  # the ticket moved to a queue with another staff channel
                try:
                    await message.delete()
                except discord.HTTPException as exc:
                    log.info("old card of %s not deleted: %s", m.ticket, exc)
        msg = await self.post(channel, [""], embed=embed, view=view)
        try:
            await self.client.http.start_thread_with_message(
                channel, msg.id, name=f"{m.ticket or 'ticket'} notes", auto_archive_duration=WEEK
            )
        except discord.HTTPException as exc:  # the card stands; notes fall back to the channel
            log.warning("no staff thread for %s: %s", m.ticket, exc)
        thread = ConversationRef(PLATFORM, str(channel), str(msg.id))  # thread id = message id
        return DeliveryResult(f"{channel}:{msg.id}", thread)
