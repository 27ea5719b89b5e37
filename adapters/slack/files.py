"""Files in Slack: an agent's `@deskbot reply …` with files attached becomes a public reply
that carries them (to any customer platform, email included); files kept on this machine
(`file://`, e.g. a mailed attachment) are uploaded under the card when relayed to agents."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import PLATFORM
from adapters.slack.translate import Place, command_text, message_id
from bot import commands as table
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import CommandInvocation, InboundMessage, Reply

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

UPLOAD_MAX_BYTES = 20_000_000  # local files larger than this are listed, not uploaded


async def reply_with_files(
    adapter: SlackAdapter, event: dict[str, Any], command: str, place: Place
) -> Reply | None:
    """`@deskbot reply [T-n] text` with files: the reply and its files as one agent message.

    A slash command cannot carry files, so the mention is recorded as the agent's public
    message on the ticket (the core relays text and files to the customer). None when this is
    not such a mention (no files, another command, or not an agent): run it as a command."""
    spec, _ = table.lookup(command.strip())
    if spec is None or spec.name != "reply" or not event.get("files"):
        return None
    user, channel = str(event["user"]), str(event["channel"])
    identity = await adapter.directory.identity(user)
    if not (await adapter.gateway.role_of(identity)).at_least(Role.AGENT):
        return None
    await adapter.directory.prefetch_mentions(command)
    refs = adapter.gateway.core.policy.refs
    line = command_text(command, adapter.directory.name, refs.is_ref)
    words = line.split(None, 2)[1:]  # after "reply": [ref] text
    ref = words[0] if words and refs.is_ref(words[0]) else None
    text = (words[1] if ref and len(words) > 1 else "" if ref else " ".join(words)).strip()
    if ref is None:
        inv = CommandInvocation(PLATFORM, identity, line, conversation=place.conversation)
        tid = await adapter.gateway.context_ticket(inv, Role.AGENT)
        if tid is None:
            return Reply(False, "Which ticket? Name it: @deskbot reply T-12 … with the files.")
        ref = refs.format(tid)
    files = await adapter.keeper.keep(event.get("files"))
    inbound = InboundMessage(
        PLATFORM,
        message_id(channel, str(event.get("ts") or "")),
        identity,
        place.conversation,
        text or "📎 " + ", ".join(f.filename for f in files),
        ticket_ref=ref,
        internal=False,  # a reply, even when typed in the card's thread: the agent said so
        attachments=files,
    )
    try:
        result = await adapter.gateway.receive(inbound)
    except DomainError as exc:
        return Reply(False, str(exc))
    count = f"{len(files)} file{'s' if len(files) != 1 else ''}"
    return Reply(True, f"Reply sent on {result.ref} with {count}.", result.ref)


def local_path(url: str | None) -> Path | None:
    """The file behind a `file://` URL when it exists on this machine and is not too big."""
    if not url or not url.startswith("file://"):
        return None
    path = Path(unquote(urlparse(url).path))
    try:
        return path if path.is_file() and path.stat().st_size <= UPLOAD_MAX_BYTES else None
    except OSError:
        return None


async def upload_local(
    client: AsyncWebClient, channel: str, thread: str | None, items: list[dict[str, Any]]
) -> None:
    """Upload the files kept here into a thread; best effort (the list is already posted)."""
    uploads = []
    for item in items:
        path = local_path(item.get("url"))
        if path is not None:
            name = str(item.get("filename") or path.name)
            uploads.append({"content": path.read_bytes(), "filename": name, "title": name})
    if not uploads:
        return
    try:
        args: dict[str, Any] = {"channel": channel, "file_uploads": uploads}
        if thread:
            args["thread_ts"] = thread
        await client.files_upload_v2(**args)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        # the message itself is posted: a retry of the delivery would post it twice
        log.warning("could not upload %d relayed files: %s", len(uploads), exc)
