"""Outbound -> Slack Web API calls: customer threads, triage cards edited in place, reactions.

slack_sdk's retry handlers (429 with Retry-After, connection errors) run inside each call;
what still fails becomes a DeliveryError: permanent for errors a retry cannot fix, so the
outbox marks them failed and the ticket shows it, transient otherwise (the outbox backs off).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks, render
from adapters.slack.config import PLATFORM, SlackConfig
from adapters.slack.files import upload_local
from bot.formatting import escape_slack
from bot.messages import ConversationRef, DeliveryError, DeliveryResult, Outbound

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# A card that is gone or no longer ours is posted again rather than failing the update.
CARD_GONE = {"message_not_found", "channel_not_found", "cant_update_message", "is_archived"}
NO_MARK = "none"  # stored as the "current reaction" when a message shows no status
# A ticket's agents-side message whose card is not posted yet waits for it (the outbox retries
# it) this many times before it is posted on its own, so it is never lost.
CARD_WAITS = 3
CARD_WAIT_SECONDS = 1.0
KNOWN_CARDS = 5_000  # card anchors this process posted, by ticket ref (newest kept)


def delivery_error(exc: SlackApiError, method: str) -> DeliveryError:
    """Classify a Web API failure for the outbox."""
    response = exc.response
    status = getattr(response, "status_code", 200)
    error = str(response.get("error") or "unknown_error")
    headers = {str(k).lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    if status == 429 or error == "ratelimited":
        value = headers.get("retry-after", "1")
        value = value[0] if isinstance(value, list | tuple) else value
        try:
            wait = float(value)
        except ValueError:
            wait = 1.0
        return DeliveryError(f"slack {method}: ratelimited", retry_after=wait)
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryError(f"slack {method}: {error} (HTTP {status})")
    return DeliveryError(f"slack {method}: {error}", permanent=True)


def split_external(value: str | None) -> tuple[str, str] | None:
    """Our external ids are `channel:ts` (a ts alone does not name a message)."""
    if not value or ":" not in value:
        return None
    channel, ts = value.split(":", 1)
    return channel, ts


class SlackSender:
    """Delivers one Outbound; stateless apart from the client, so any worker can send."""

    def __init__(self, client: AsyncWebClient, cfg: SlackConfig) -> None:
        self.client = client
        self.cfg = cfg
        # Cards this process posted or edited: a row whose card anchor was looked up before
        # its card was posted still finds the thread (the database stays the main source).
        self._cards: OrderedDict[str, str] = OrderedDict()

    def _remember_card(self, ticket: str | None, external_id: str | None) -> None:
        if not ticket or not external_id:
            return
        self._cards[ticket] = external_id
        self._cards.move_to_end(ticket)
        if len(self._cards) > KNOWN_CARDS:
            self._cards.popitem(last=False)

    async def send(self, m: Outbound) -> DeliveryResult:
        method = "chat.postMessage"
        try:
            if m.audience == "customer":
                if m.kind == "status":
                    method = "reactions"
                    return await self._status(m)
                return await self._to_customer(m)
            if m.recipient:
                return await self._post(m.recipient, None, m.text)
            if m.kind == "card":
                return await self._card(m)
            return await self._to_card_thread(m)
        except SlackApiError as exc:
            raise delivery_error(exc, method) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"slack {method}: connection failed: {exc!r}") from exc

    async def _post(
        self,
        channel: str,
        thread: str | None,
        markdown: str,
        *,
        prefix: str | None = None,
        username: str | None = None,
        extra: list[dict[str, Any]] | None = None,
    ) -> DeliveryResult:
        """Post a body, split into as many messages as Block Kit limits need, in order.

        `extra` blocks (file lists, buttons) go at the end of the last message, or in a message
        of their own when that one is full."""
        last: Any = None
        batches = render.messages(markdown, prefix)
        if extra:
            fallback, blocks = batches[-1]
            if len(blocks) + len(extra) <= render.MESSAGE_BLOCKS:
                batches[-1] = (fallback, [*blocks, *extra])
            else:
                batches.append((fallback, extra))
        for fallback, blocks in batches:
            args: dict[str, Any] = {
                "channel": channel,
                "text": fallback,
                "blocks": blocks,
                "unfurl_links": False,
                "unfurl_media": False,
            }
            if thread:
                args["thread_ts"] = thread
            if username:
                args["username"] = username[:80]  # shown with chat:write.customize
            last = await self.client.chat_postMessage(**args)
        assert last is not None
        chan = str(last["channel"])
        return DeliveryResult(f"{chan}:{last['ts']}", ConversationRef(PLATFORM, chan, thread))

    async def _to_customer(self, m: Outbound) -> DeliveryResult:
        conv = m.conversation
        if conv is None:
            raise DeliveryError("customer message without a conversation", permanent=True)
        username = m.payload.get("agent_name") if m.kind == "reply" else None
        result = await self._post(
            conv.channel, conv.thread, m.text, username=username, extra=extra_blocks(m)
        )
        # A copy kept here (a downloaded Slack file) is uploaded: the customer may not be able
        # to open the original, e.g. an agent's file shared in the private triage channel.
        await upload_local(
            self.client, conv.channel, conv.thread, m.payload.get("attachments") or []
        )
        return DeliveryResult(result.external_id)

    async def _to_card_thread(self, m: Outbound) -> DeliveryResult:
        """Agents-side messages (relayed customer messages, notes, notices) go under the card.

        A ticket's message never lands top-level before its card: without a card anchor it
        waits for the card (a transient failure the outbox retries) up to CARD_WAITS times,
        and only then is posted on its own with the ref in front."""
        channel = self.cfg.triage_for(m.payload.get("queue"))
        anchor = split_external(m.card_external_id or self._cards.get(m.ticket or ""))
        extra = extra_blocks(m)
        if anchor is not None:
            result = await self._post(anchor[0], anchor[1], m.text, extra=extra)
            # files kept on this machine (a mailed attachment) are shown, not just named
            await upload_local(
                self.client, anchor[0], anchor[1], m.payload.get("attachments") or []
            )
            return DeliveryResult(result.external_id)
        if channel is None:
            raise DeliveryError("no Slack triage channel is configured", permanent=True)
        if m.ticket and m.attempts < CARD_WAITS:
            raise DeliveryError(
                f"slack: the card of {m.ticket} is not posted yet", retry_after=CARD_WAIT_SECONDS
            )
        prefix = f"*{escape_slack(m.ticket)}* · " if m.ticket else None
        result = await self._post(channel, None, m.text, prefix=prefix, extra=extra)
        return DeliveryResult(result.external_id)

    async def _card(self, m: Outbound) -> DeliveryResult:
        """Post the card once; afterwards edit that message in place (one chat.update)."""
        channel = self.cfg.triage_for(m.payload.get("queue"))
        text, blocks = render.card(m.payload)
        previous = split_external(m.previous_external_id)
        if previous is not None:
            old_channel, old_ts = previous
            if channel is None or old_channel == channel:
                try:
                    await self.client.chat_update(
                        channel=old_channel, ts=old_ts, text=text, blocks=blocks
                    )
                    self._remember_card(m.ticket, m.previous_external_id)
                    return DeliveryResult(
                        m.previous_external_id, ConversationRef(PLATFORM, old_channel, old_ts)
                    )
                except SlackApiError as exc:
                    if exc.response.get("error") not in CARD_GONE:
                        raise delivery_error(exc, "chat.update") from exc
                    log.warning("card %s is gone (%s); posting it again", m.ticket, exc)
            else:
                # The ticket moved to a queue with another triage channel: retire the old card.
                try:
                    await self.client.chat_delete(channel=old_channel, ts=old_ts)
                except SlackApiError as exc:
                    log.info("could not delete old card %s: %s", m.ticket, exc)
        if channel is None:
            raise DeliveryError("no Slack triage channel is configured", permanent=True)
        res = await self.client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        chan, ts = str(res["channel"]), str(res["ts"])
        self._remember_card(m.ticket, f"{chan}:{ts}")
        return DeliveryResult(f"{chan}:{ts}", ConversationRef(PLATFORM, chan, ts))

    async def _status(self, m: Outbound) -> DeliveryResult:
        """Show status as one reaction on the customer's root message; swap it on change."""
        conv = m.conversation
        if conv is None or conv.thread is None:
            return DeliveryResult(NO_MARK)  # a DM has no root message to mark
        want = (
            render.status_emoji(m.payload.get("status"), m.payload.get("assignee"))
            if self.cfg.status_reactions
            else None
        )
        have = m.previous_external_id if m.previous_external_id != NO_MARK else None
        if have == want:
            return DeliveryResult(want or NO_MARK)
        target = {"channel": conv.channel, "timestamp": conv.thread}
        if have:
            await self._react(self.client.reactions_remove, target, have, "no_reaction")
        if want:
            await self._react(self.client.reactions_add, target, want, "already_reacted")
        return DeliveryResult(want or NO_MARK)

    @staticmethod
    async def _react(call: Any, target: dict[str, str], name: str, harmless: str) -> None:
        try:
            await call(name=name, **target)
        except SlackApiError as exc:
            if exc.response.get("error") not in (harmless, "message_not_found"):
                raise


def extra_blocks(m: Outbound) -> list[dict[str, Any]]:
    """What a message carries besides its text: shared files (name, type, size, link) and the
    core's buttons (CSAT survey, "This solved it")."""
    out: list[dict[str, Any]] = []
    files = blocks.file_lines(list(m.payload.get("attachments") or []))
    if files:
        out.append(render.section(files))
    buttons = blocks.command_buttons(list(m.payload.get("buttons") or []), f"deskbot:run:{m.id}")
    if buttons:
        out.append(buttons)
    return out
