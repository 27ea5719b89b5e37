"""Messages into tickets: support channels, DMs, card threads, 🎫 reactions, the shortcut, edits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.commands import answer, tell
from adapters.slack.config import PLATFORM
from adapters.slack.translate import (
    Place,
    event_kind,
    mention_command,
    message_id,
    message_text,
    place_of,
)
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import CommandInvocation, Identity, InboundMessage

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

SHORTCUT = "deskbot:create_ticket"


async def _has_ticket(adapter: SlackAdapter, place: Place, user: str) -> bool:
    inv = CommandInvocation(PLATFORM, Identity(PLATFORM, user), "", conversation=place.conversation)
    return await adapter.gateway.context_ticket(inv, Role.CUSTOMER) is not None


async def ingest(
    adapter: SlackAdapter, message: dict[str, Any], channel: str, place: Place
) -> str | None:
    """Record one Slack message on its ticket; answers the ticket ref (None: not recorded).

    Not limited by the adapter's work slots: messages that arrive together should reach the
    gateway together, which commits them as one group."""
    user = str(message["user"])
    identity = await adapter.directory.identity(user)
    if place.internal:
        role = await adapter.gateway.role_of(identity)
        if not role.at_least(Role.AGENT):
            return None  # only agents write notes; anyone else in the triage channel is ignored
    await adapter.directory.prefetch_mentions(message.get("text") or "")
    files = await adapter.keeper.keep(message.get("files"))
    inbound = InboundMessage(
        PLATFORM,
        message_id(channel, str(message["ts"])),
        identity,
        place.conversation,
        message_text(message, adapter.directory.name),
        internal=place.internal,
        # Agents read support channels themselves; DMs and other channels are relayed to them.
        visible_to_agents=place.kind in ("support", "triage"),
        attachments=files,
    )
    try:
        result = await adapter.gateway.receive(inbound)
    except DomainError as exc:
        # e.g. an agent writing outside any ticket conversation
        if place.kind == "dm":
            await tell(adapter, user, None, str(exc))
        log.info("Slack message %s not recorded: %s", inbound.message_id, exc)
        return None
    return result.ref


async def on_message(adapter: SlackAdapter, event: dict[str, Any], bot_user_id: str | None) -> None:
    kind = event_kind(event)
    channel = str(event.get("channel") or "")
    if kind == "ignore" or not channel:
        return
    if kind in ("edit", "delete"):
        await record_change(adapter, event, channel, deleted=kind == "delete")
        return
    if mention_command(event.get("text") or "", bot_user_id) is not None:
        return  # `@deskbot claim`: the app_mention listener runs it as a command
    ts = str(event.get("ts") or "")
    place = place_of(channel, ts, event.get("thread_ts"), event.get("channel_type"), adapter.cfg)
    if place.kind in ("triage", "other") and place.top_level:
        return  # only threads count there: the card's thread, or a 🎫 ticket's thread
    async with adapter.sequencer.take(place.conversation.key):  # taken before any await
        if place.kind == "other" and not await _has_ticket(adapter, place, str(event["user"])):
            return
        await ingest(adapter, event, channel, place)


async def record_change(
    adapter: SlackAdapter, event: dict[str, Any], channel: str, *, deleted: bool
) -> None:
    """An edited or deleted customer/agent message is recorded on its ticket, never lost."""
    old = event.get("previous_message") or {}
    new = event.get("message") or {}
    if deleted:
        ts, user = str(event.get("deleted_ts") or old.get("ts") or ""), old.get("user")
    else:
        ts, user = str(new.get("ts") or ""), new.get("user")
    if not ts or not user:
        return
    # Changes to one message are applied in arrival order (the turn is taken before awaiting).
    async with adapter.sequencer.take(message_id(channel, ts)):
        text = ""
        if not deleted:
            await adapter.directory.prefetch_mentions(new.get("text") or "")
            text = message_text(new, adapter.directory.name)
        identity = await adapter.directory.identity(str(user))
        await adapter.gateway.record_edit(
            PLATFORM, message_id(channel, ts), identity, text, deleted=deleted
        )


async def fetch_message(adapter: SlackAdapter, channel: str, ts: str) -> dict[str, Any] | None:
    """The message a reaction points at (reactions carry no text). None if unreadable."""
    client = adapter.client
    try:
        found = await client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
        for msg in found.get("messages") or []:
            if msg.get("ts") == ts:
                return dict(msg)
        found = await client.conversations_replies(channel=channel, ts=ts, limit=20)
        for msg in found.get("messages") or []:
            if msg.get("ts") == ts:
                return dict(msg)
    except SlackApiError as exc:
        log.info("cannot read message %s/%s: %s", channel, ts, exc.response.get("error"))
    return None


async def may_open_for(adapter: SlackAdapter, actor: str, author: str) -> bool:
    """A ticket from someone's message: they asked themselves, or an agent did."""
    if actor == author:
        return True
    role = await adapter.gateway.role_of(await adapter.directory.identity(actor))
    return role.at_least(Role.AGENT)


async def open_from_message(
    adapter: SlackAdapter, actor: str, channel: str, message: dict[str, Any]
) -> str:
    """🎫 reaction and the "Create ticket" shortcut: a ticket from an existing message."""
    author = message.get("user")
    if not author or message.get("bot_id") or message.get("subtype") == "bot_message":
        return "Tickets are opened from people's messages, not from bots."
    if not await may_open_for(adapter, actor, str(author)):
        return "Only agents, or the person who wrote it, can open a ticket from a message."
    ts = str(message.get("ts") or "")
    place = place_of(channel, ts, message.get("thread_ts"), None, adapter.cfg)
    if place.kind == "triage":
        return "Messages in the triage channel are internal; they do not become tickets."
    ref = await ingest(adapter, message, channel, place)
    return f"This message is now on ticket {ref}." if ref else "No ticket was opened."


def register(app: AsyncApp, adapter: SlackAdapter) -> None:
    cfg = adapter.cfg

    @app.event("message")
    async def message(event: dict[str, Any], context: Any) -> None:
        with adapter.busy():
            await on_message(adapter, event, context.bot_user_id)

    @app.event("reaction_added")
    async def reaction(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != cfg.intake_reaction or item.get("type") != "message":
            return
        with adapter.busy():
            channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
            found = await fetch_message(adapter, channel, ts)
            if found is None:
                found = {"ts": ts, "user": event.get("item_user"), "text": ""}
            found.setdefault("user", event.get("item_user"))
            text = await open_from_message(adapter, str(event.get("user")), channel, found)
            log.info("🎫 on %s/%s: %s", channel, ts, text)

    @app.shortcut(SHORTCUT)
    async def create_ticket(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            channel = str((body.get("channel") or {}).get("id") or "")
            message = dict(body.get("message") or {})
            actor = str((body.get("user") or {}).get("id") or "")
            await answer(respond, await open_from_message(adapter, actor, channel, message))
