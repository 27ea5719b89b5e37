"""Outbound -> Slack Web API calls: customer threads, triage cards edited in place, reactions.

slack_sdk's retry handlers (429 with Retry-After, connection errors) run inside each call;
what still fails becomes a DeliveryError: permanent for errors a retry cannot fix, so the
outbox marks them failed and the ticket shows it, transient otherwise (the outbox backs off).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.config import PLATFORM, SlackConfig
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
    ) -> DeliveryResult:
        """Post a body, split into as many messages as Block Kit limits need, in order."""
        last: Any = None
        for fallback, blocks in render.messages(markdown, prefix):
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
        result = await self._post(conv.channel, conv.thread, m.text, username=username)
        return DeliveryResult(result.external_id)

    async def _to_card_thread(self, m: Outbound) -> DeliveryResult:
        """Agents-side messages (relayed customer messages, notes, notices) go under the card."""
        anchor = split_external(getattr(m, "card_external_id", None))
        if anchor is not None:
            result = await self._post(anchor[0], anchor[1], m.text)
            return DeliveryResult(result.external_id)
        channel = self.cfg.triage_for(m.payload.get("queue"))
        if channel is None:
            raise DeliveryError("no Slack triage channel is configured", permanent=True)
        prefix = f"*{escape_slack(m.ticket)}* · " if m.ticket else None
        result = await self._post(channel, None, m.text, prefix=prefix)
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
