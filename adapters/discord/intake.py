"""Messages into tickets: support channels open private threads, DMs are relayed modmail-style,
ticket threads are the customer's conversation and staff threads hold internal notes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import discord

from adapters.discord import files, lookup, render
from adapters.discord.config import PLATFORM
from adapters.discord.translate import (
    SPOKEN,
    Place,
    attachments,
    display_name,
    message_text,
    place_of,
    subject_of,
    thread_conversation,
)
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import Identity, InboundMessage

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

THREAD_NAME = 100
PRIVATE_THREAD: Literal[12] = 12
WEEK: Literal[10080] = 10080  # minutes before an idle thread archives itself (the longest)


async def resolve_channel(adapter: DiscordAdapter, channel: Any) -> Any:
    """A channel object with its kind and parent (threads not in the cache are fetched)."""
    if isinstance(channel, discord.PartialMessageable) and channel.guild_id is not None:
        try:
            return await adapter.client.fetch_channel(channel.id)
        except discord.HTTPException as exc:
            log.info("channel %s not readable: %s", channel.id, exc)
    return channel


async def on_message(adapter: DiscordAdapter, message: discord.Message) -> None:
    if message.author.bot or message.webhook_id or message.type not in SPOKEN:
        return  # never our own messages, other bots, webhooks or system notices
    if not adapter.cfg.serves(message.guild.id if message.guild else None):
        return
    if not adapter.recent.add(str(message.id)):
        return  # the same message delivered twice (the core is idempotent as well)
    user = adapter.client.user
    channel = await resolve_channel(adapter, message.channel)
    place = place_of(channel, adapter.cfg, user.id if user else None)
    if place.kind == "other":
        return
    identity = await adapter.directory.identity(message.author)
    if place.kind == "dm":
        if adapter.cfg.dm_intake:
            await ingest(adapter, message, identity, place)
        return
    if place.kind == "ticket":  # the customer's thread: the core tells replies from messages
        await ingest(adapter, message, identity, place)
        return
    staff = (await adapter.gateway.role_of(identity)).at_least(Role.AGENT)
    if place.kind == "staff" and staff:  # anyone else in a staff channel is ignored
        await ingest(adapter, message, identity, place)
    elif place.kind == "intake" and not staff:  # staff chatting in #support open nothing
        await open_from_message(adapter, message, identity)


async def ingest(
    adapter: DiscordAdapter, message: discord.Message, identity: Identity, place: Place
) -> str | None:
    """Record one message on its ticket; the ticket ref, or None when not recorded."""
    inbound = InboundMessage(
        PLATFORM,
        str(message.id),
        identity,
        place.conversation,
        message_text(message),
        internal=place.internal,
        # Staff read ticket threads themselves; DMs are relayed to the staff thread.
        visible_to_agents=place.kind != "dm",
        attachments=attachments(message),
    )
    try:
        result = await adapter.gateway.receive(inbound)
    except DomainError as exc:
        log.info("Discord message %s not recorded: %s", message.id, exc)
        if place.kind == "dm":
            await message.channel.send(render.safe(str(exc)), allowed_mentions=render.QUIET)
        return None
    return result.ref


async def open_thread(adapter: DiscordAdapter, parent_id: int, opener: Any, subject: str) -> int:
    """A private ticket thread under `parent_id` with the customer in it (staff with Manage
    Threads see every private thread); only moderators can invite others."""
    http = adapter.client.http
    name = f"{display_name(opener)} · {subject}"[:THREAD_NAME]
    data = await http.start_thread_without_message(
        parent_id, name=name, auto_archive_duration=WEEK, type=PRIVATE_THREAD, invitable=False
    )
    thread_id = int(data["id"])
    await http.add_user_to_thread(thread_id, opener.id)
    return thread_id


async def open_from_message(
    adapter: DiscordAdapter, message: discord.Message, identity: Identity
) -> str | None:
    """A message in a support channel: a private thread becomes the ticket's conversation.

    The message is copied into the thread (with its files) and, by default, removed from the
    public channel so only the customer and staff can read it.
    """
    if await lookup.message_seen(adapter.gateway, PLATFORM, str(message.id)):
        return None  # recorded before a restart: its thread exists already
    text = message_text(message)
    parent = message.channel.id
    thread = await open_thread(adapter, parent, message.author, subject_of(text))
    items = [{"filename": a.filename, "size": a.size, "url": a.url} for a in message.attachments]
    found, notices = await files.prepare(adapter.session, items, adapter.cfg.upload_limit)
    quoted = "\n".join([text, *notices]) if notices else text
    prefix = f"**{render.name(identity.name)}** wrote:\n"
    await adapter.sender.post(thread, render.bodies(quoted, prefix), attachments=found)
    guild_id = message.guild.id if message.guild else None
    place = Place("ticket", thread_conversation(parent, thread), guild_id)
    ref = await ingest(adapter, message, identity, place)
    if adapter.cfg.delete_intake:
        try:
            await message.delete()
        except discord.HTTPException as exc:  # needs Manage Messages; the thread stands
            log.warning("support message %s not removed: %s", message.id, exc)
    return ref


async def on_edit(adapter: DiscordAdapter, payload: discord.RawMessageUpdateEvent) -> None:
    """An edited message is recorded on its ticket (the earlier text is kept there)."""
    message = payload.message
    if message.author.bot or message.webhook_id or "content" not in payload.data:
        return
    if not adapter.cfg.serves(payload.guild_id):
        return
    identity = await adapter.directory.identity(message.author)
    try:
        await adapter.gateway.record_edit(
            PLATFORM, str(message.id), identity, message_text(message)
        )
    except DomainError as exc:
        log.info("edit of %s not recorded: %s", message.id, exc)
