"""Status and closing: the edited status message with its reaction, transcripts, archive, lock.

Status is shown by editing one message in the ticket thread and swapping one reaction on it,
never by renaming (Discord allows ~2 renames per 10 minutes). Its external id carries the
last status and reaction (`thread:message:status:emoji`), so each change knows the one before.
On close the record goes to the staff log channel as a text file and the thread is archived,
not locked: a customer message unarchives it and the core's reopen rules apply. A sweep locks
archived ticket threads once the core says a message there would need a new ticket.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from adapters.discord import lookup, render
from adapters.discord.translate import thread_conversation
from bot.domain.durations import humanize
from bot.messages import DeliveryResult, Outbound

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.sender import DiscordSender

log = logging.getLogger(__name__)

ARCHIVED = 50083  # "Thread is archived"
PAGE = 50


def _previous(value: str | None) -> tuple[int | None, str | None, str | None]:
    """(message id, status, reaction) from a status row's previous external id."""
    if not value:
        return None, None, None
    parts = [*value.split(":"), "", "", ""][:4]
    message = int(parts[1]) if parts[1].isdigit() else None
    return message, parts[2] or None, parts[3] or None


async def status(sender: DiscordSender, m: Outbound) -> DeliveryResult:
    adapter = sender.adapter
    conv = m.conversation
    new = str(m.payload.get("status") or m.text)
    assignee = m.payload.get("assignee")
    ref = str(m.ticket or m.payload.get("ref") or "")
    message_id, old, old_mark = _previous(m.previous_external_id)
    entering_closed = new == "closed" and old != "closed"
    if conv is None or conv.thread is None:
        # DM tickets show status on the staff card only; their transcript is still kept.
        if entering_closed:
            await post_transcript(adapter, ref, conv.key if conv else None)
        return DeliveryResult(f"0:0:{new}:")
    thread = int(conv.thread)
    if old == "closed" and new != "closed":
        await set_thread(adapter, thread, archived=False)  # reopened by an agent
    window = humanize(adapter.gateway.core.policy.reopen_window)
    text, view = render.status_message(ref, new, assignee, window)
    channel = sender.client.get_partial_messageable(thread)
    message = None
    if message_id is not None:
        message = channel.get_partial_message(message_id)
        try:
            await _unarchiving(
                adapter,
                thread,
                lambda: message.edit(content=text, view=view),  # type: ignore[union-attr]
            )
        except discord.NotFound:
            message, old_mark = None, None
    if message is None:
        posted = await sender.post(thread, [text], view=view)
        message = channel.get_partial_message(posted.id)
    mark = render.status_mark(new, assignee) if adapter.cfg.status_reactions else None
    if mark != old_mark:
        if old_mark:
            try:
                await message.remove_reaction(old_mark, discord.Object(sender.client.user.id))  # type: ignore[union-attr]
            except discord.NotFound:
                pass
        if mark:
            await message.add_reaction(mark)
    if entering_closed:
        await post_transcript(adapter, ref, conv.key)
        await set_thread(adapter, thread, archived=True)
    return DeliveryResult(f"{thread}:{message.id}:{new}:{mark or ''}")


async def _unarchiving(
    adapter: DiscordAdapter, thread: int, edit: Callable[[], Awaitable[object]]
) -> None:
    """Run an edit; a thread archived by inactivity is unarchived and the edit retried."""
    try:
        await edit()
    except discord.HTTPException as exc:
        if exc.code != ARCHIVED:
            raise
        await set_thread(adapter, thread, archived=False)
        await edit()


async def set_thread(
    adapter: DiscordAdapter, thread: int, *, archived: bool, locked: bool | None = None
) -> None:
    if locked is None:
        await adapter.client.http.edit_channel(thread, archived=archived)
    else:
        await adapter.client.http.edit_channel(thread, archived=archived, locked=locked)


async def post_transcript(adapter: DiscordAdapter, ref: str, conversation_key: str | None) -> None:
    """The ticket's record as a text file in the staff log channel of its guild."""
    channel = adapter.channels.log_for(conversation_key)
    if channel is None:
        log.info("no Discord log channel (DESKBOT_DISCORD_LOG_CHANNELS): no transcript of %s", ref)
        return
    found = await lookup.transcript(adapter.gateway, ref)
    if found is None:
        return
    subject, text = found
    data = text.encode()
    limit = adapter.cfg.upload_limit
    if len(data) > limit:  # keep the end: how it was resolved matters most
        data = "[… earlier part cut to fit the upload limit]\n".encode() + data[-(limit - 100) :]
    await adapter.sender.post(
        channel,
        [f"Transcript of **{render.name(ref)}** · {render.name(subject)}"],
        attachments=[discord.File(io.BytesIO(data), filename=f"{ref}-transcript.txt")],
    )


async def sweep_locks(adapter: DiscordAdapter) -> int:
    """Lock archived ticket threads whose reopen window is over; returns how many."""
    http = adapter.client.http
    bot_id = adapter.client.user.id if adapter.client.user else None
    locked = 0
    for parent in sorted(adapter.cfg.ticket_parents):
        before: str | None = None
        while True:
            try:
                page = await http.get_private_archived_threads(parent, before, PAGE)
            except discord.HTTPException as exc:
                log.warning("archived threads of %s not listed: %s", parent, exc)
                break
            threads = list(page.get("threads") or [])
            for data in threads:
                meta = data.get("thread_metadata") or {}
                if meta.get("locked") or str(data.get("owner_id")) != str(bot_id):
                    continue
                key = thread_conversation(parent, int(data["id"])).key
                if await lookup.needs_new_ticket(adapter.gateway, key):
                    try:
                        await set_thread(adapter, int(data["id"]), archived=True, locked=True)
                        locked += 1
                    except discord.HTTPException as exc:
                        log.warning("thread %s not locked (Manage Threads?): %s", data["id"], exc)
            if not page.get("has_more") or not threads:
                break
            before = (threads[-1].get("thread_metadata") or {}).get("archive_timestamp")
    return locked
