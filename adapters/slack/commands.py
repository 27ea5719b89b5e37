"""Slack commands: `/ticket <sub…>` and `/report` from the core table; `@deskbot <cmd>` in threads.

Slash commands are acked before any work (Slack allows 3 s); the answer follows through the
command's response_url. Mentions answer with an ephemeral message in the thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack import render
from adapters.slack.config import PLATFORM
from adapters.slack.files import reply_with_files
from adapters.slack.translate import command_text, mention_command, place_of
from bot import commands as table
from bot.formatting import escape_slack
from bot.messages import CommandInvocation, ConversationRef, Reply

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

REPORTS_COMING = (
    "Reports are coming: `/report` is wired up and will answer as soon as the reports "
    "feature is installed."
)
FAILED = "Sorry, that did not work because of an error on our side. Please try again."
THREAD_WARNING = "\n(Careful: customers can read this thread; notes belong in the card's thread.)"


async def run(
    adapter: SlackAdapter,
    user_id: str,
    text: str,
    conversation: ConversationRef | None,
    *,
    fallback_name: str | None = None,
    invocation_id: str | None = None,
) -> Reply:
    """Run one command line for a Slack user through the gateway (role checks happen there)."""
    async with adapter.slots:
        identity = await adapter.directory.identity(user_id, fallback_name)
        await adapter.directory.prefetch_mentions(text)
        refs = adapter.gateway.core.policy.refs
        line = command_text(text, adapter.directory.name, refs.is_ref)
        try:
            return await adapter.gateway.execute(
                CommandInvocation(
                    PLATFORM, identity, line, conversation=conversation, invocation_id=invocation_id
                )
            )
        except Exception:  # the gateway answers user mistakes itself; this is a real failure
            log.exception("command %r from %s failed", line, user_id)
            return Reply(False, FAILED)


async def tell(
    adapter: SlackAdapter, user: str, channel: str | None, text: str, thread: str | None = None
) -> None:
    """Show an answer to one person: ephemeral where they are, else in their DM."""
    fallback, blocks = render.reply(text)
    client = adapter.client
    if channel:
        try:
            args: dict[str, Any] = {"channel": channel, "user": user, "text": fallback}
            args["blocks"] = blocks
            if thread:
                args["thread_ts"] = thread
            await client.chat_postEphemeral(**args)
            return
        except SlackApiError as exc:
            log.info("ephemeral answer failed (%s); sending a DM", exc.response.get("error"))
    try:
        await client.chat_postMessage(channel=user, text=fallback, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not answer %s: %s", user, exc.response.get("error"))


async def answer(respond: Any, text: str) -> None:
    """Answer a slash command or an action through its response_url (only the caller sees it)."""
    fallback, blocks = render.reply(text)
    try:
        await respond(
            text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False
        )
    except Exception:  # response_url expired or unreachable: the work itself is done
        log.warning("could not answer through response_url", exc_info=True)


async def send_files(adapter: SlackAdapter, user: str, reply: Reply) -> None:
    """Files a command produced (report charts, CSV) go to the caller's DM: unlike text, an
    upload cannot be shown to one person only in a shared channel."""
    files = getattr(reply, "files", ()) or ()
    if not files:
        return
    try:
        opened = await adapter.client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        await adapter.client.files_upload_v2(
            channel=channel,
            file_uploads=[
                {"content": f.data, "filename": f.filename, "title": f.filename} for f in files
            ],
            initial_comment=escape_slack(reply.text.splitlines()[0] if reply.text else ""),
        )
    except SlackApiError as exc:
        log.warning("could not upload files for %s: %s", user, exc.response.get("error"))


def register(app: AsyncApp, adapter: SlackAdapter) -> None:
    """Slash commands and app mentions."""
    cfg = adapter.cfg

    @app.command(cfg.command)
    async def ticket_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            channel = body.get("channel_id") or ""
            reply = await run(
                adapter,
                body["user_id"],
                body.get("text") or "",
                ConversationRef(PLATFORM, channel) if channel else None,
                fallback_name=body.get("user_name"),
                invocation_id=body.get("trigger_id"),
            )
            await answer(respond, reply.text)
            await send_files(adapter, body["user_id"], reply)

    @app.command(cfg.report_command)
    async def report_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            if "report" not in table.BY_NAME:
                await answer(respond, REPORTS_COMING)
                return
            channel = body.get("channel_id") or ""
            reply = await run(
                adapter,
                body["user_id"],
                f"report {body.get('text') or ''}".strip(),
                ConversationRef(PLATFORM, channel) if channel else None,
                fallback_name=body.get("user_name"),
                invocation_id=body.get("trigger_id"),
            )
            await answer(respond, reply.text)
            await send_files(adapter, body["user_id"], reply)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], context: Any, body: dict[str, Any]) -> None:
        with adapter.busy():
            command = mention_command(event.get("text") or "", context.bot_user_id)
            user, channel = event.get("user"), event.get("channel")
            if command is None or not user or not channel:
                return  # not a command: the message listener takes it as a message
            ts = str(event.get("ts") or "")
            thread = event.get("thread_ts")
            place = place_of(channel, ts, thread, event.get("channel_type"), cfg)
            reply = await reply_with_files(adapter, event, command, place) or await run(
                adapter, user, command, place.conversation, invocation_id=body.get("event_id")
            )
            text = reply.text
            if reply.ok and place.kind != "triage" and command.split()[:1] == ["note"]:
                text += THREAD_WARNING
            await tell(adapter, user, channel, text, thread or ts)
