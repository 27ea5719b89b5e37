"""Discord objects -> deskbot DTO pieces: where a message belongs, its text, files, identity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import discord

from adapters.discord.config import PLATFORM, DiscordConfig
from bot.formatting import from_discord
from bot.messages import AttachmentInfo, ConversationRef, Identity

Kind = Literal["dm", "intake", "ticket", "staff", "other"]

# Message types that are a person saying something (joins, pins, thread notices are not).
SPOKEN = (discord.MessageType.default, discord.MessageType.reply)


@dataclass(frozen=True)
class Place:
    """Where a Discord message or interaction sits, in deskbot terms.

    dm: a DM with the bot (modmail). intake: a support channel (a message there opens a
    ticket thread). ticket: a ticket's private thread (customer and staff). staff: a thread
    under a staff channel (the card's notes thread). other: anywhere else.
    """

    kind: Kind
    conversation: ConversationRef
    guild_id: int | None = None

    @property
    def internal(self) -> bool:
        return self.kind == "staff"


def place_of(channel: Any, cfg: DiscordConfig, bot_id: int | None) -> Place:
    """Classify a (resolved) channel. Threads are keyed by parent and thread id."""
    guild = getattr(channel, "guild", None)
    guild_id = guild.id if guild is not None else None
    if isinstance(channel, discord.DMChannel) or (
        guild_id is None and getattr(channel, "type", None) == discord.ChannelType.private
    ):
        return Place("dm", ConversationRef(PLATFORM, str(channel.id)))
    if isinstance(channel, discord.Thread):
        parent = channel.parent_id
        conv = ConversationRef(PLATFORM, str(parent), str(channel.id))
        if parent in cfg.staff_channels:
            return Place("staff", conv, guild_id)
        if parent in cfg.ticket_parents and (bot_id is None or channel.owner_id == bot_id):
            return Place("ticket", conv, guild_id)
        return Place("other", conv, guild_id)
    conv = ConversationRef(PLATFORM, str(channel.id))
    if channel.id in cfg.support_channels:
        return Place("intake", conv, guild_id)
    return Place("other", conv, guild_id)


def thread_conversation(parent_id: int, thread_id: int) -> ConversationRef:
    return ConversationRef(PLATFORM, str(parent_id), str(thread_id))


def target_channel(conv: ConversationRef) -> int:
    """The channel id to post in for a conversation: its thread, else the channel."""
    return int(conv.thread or conv.channel)


def group_ids(user: Any) -> tuple[str, ...]:
    """A member's role ids (the @everyone role left out); users outside a guild have none."""
    roles = getattr(user, "roles", None) or []
    return tuple(str(r.id) for r in roles if not r.is_default())


def display_name(user: Any) -> str:
    return str(getattr(user, "display_name", None) or getattr(user, "name", None) or user.id)


def identity_of(
    user: Any, groups: tuple[str, ...] | None = None, locale: str | None = None
) -> Identity:
    """The Identity of a Discord user; `groups` (role ids) decide roles in the core."""
    return Identity(
        PLATFORM,
        str(user.id),
        display_name=display_name(user),
        locale=locale,
        groups=group_ids(user) if groups is None else groups,
    )


def _names(message: discord.Message) -> tuple[Any, Any, Any]:
    users = {str(u.id): display_name(u) for u in message.mentions}
    roles = {str(r.id): r.name for r in message.role_mentions}
    guild = message.guild

    def channel(cid: str) -> str | None:
        found = guild.get_channel_or_thread(int(cid)) if guild is not None else None
        return found.name if found is not None else None

    return users.get, roles.get, channel


def message_text(message: discord.Message) -> str:
    """A message's text as deskbot markdown (mentions become names, never pings)."""
    text = from_discord(message.content or "", *_names(message))
    if not text.strip() and message.attachments:
        text = "📎 " + ", ".join(a.filename for a in message.attachments)
    return text


def attachments(message: discord.Message) -> tuple[AttachmentInfo, ...]:
    return tuple(
        AttachmentInfo(
            filename=a.filename,
            content_type=a.content_type or "application/octet-stream",
            size=a.size,
            url=a.url,
        )
        for a in message.attachments
    )


def option_files(data: dict[str, Any], ids: list[Any]) -> tuple[AttachmentInfo, ...]:
    """Attachment options of an app command (their values are ids into `resolved`)."""
    resolved = (data.get("resolved") or {}).get("attachments") or {}
    out = []
    for aid in ids:
        a = resolved.get(str(aid))
        if not isinstance(a, dict):
            continue
        out.append(
            AttachmentInfo(
                filename=str(a.get("filename") or "file"),
                content_type=str(a.get("content_type") or "application/octet-stream"),
                size=int(a.get("size") or 0),
                url=a.get("url") or a.get("proxy_url"),
            )
        )
    return tuple(out)


def subject_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:80] or "Support request"


def _walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components or []:
        yield comp
        yield from _walk(list(comp.get("components") or []))
        if isinstance(comp.get("component"), dict):
            yield comp["component"]


def modal_values(data: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's text inputs by custom_id (rows or label components alike)."""
    return {
        str(c["custom_id"]): str(c.get("value") or "")
        for c in _walk(list(data.get("components") or []))
        if c.get("custom_id") and "value" in c
    }


def command_path(data: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """(`canned use`, {option: value}, focused option) from an application command's data."""
    name = str(data.get("name") or "")
    options = list(data.get("options") or [])
    while options and options[0].get("type") in (1, 2):  # sub-command (group)
        name += " " + str(options[0]["name"])
        options = list(options[0].get("options") or [])
    values = {str(o["name"]): o.get("value") for o in options}
    focused = next((str(o["name"]) for o in options if o.get("focused")), None)
    return name, values, focused
