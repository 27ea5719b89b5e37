"""Card buttons, modals (Reply, Close, Canned answer with options load) and the App Home tab.

Every handler acks first: a modal must open while its trigger_id is fresh (3 s), and Slack
shows an error for any interaction not acked in time. The command lines are the table's own.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack import blocks, render
from adapters.slack.commands import answer, run, tell
from adapters.slack.config import PLATFORM
from bot import commands as table
from bot.domain.model import Role
from bot.formatting import escape_slack
from bot.messages import ConversationRef

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

A = render.ACTION
HOME_DUE_WINDOW = "1h"  # App Home's "breaching soon": SLA due within this, or already breached
MODALS = {"reply": render.reply_modal, "close": render.close_modal, "canned": render.canned_modal}


def _ref(body: dict[str, Any]) -> str:
    """The ticket a card action is about: a button's value, else the actions block id."""
    action = (body.get("actions") or [{}])[0]
    if action.get("type") == "button" and action.get("value"):
        return str(action["value"])
    return str(action.get("block_id") or "").removeprefix(A)


def _selected(action: dict[str, Any]) -> str | None:
    if action.get("selected_user"):
        return str(action["selected_user"])
    option = action.get("selected_option") or {}
    return str(option["value"]) if option.get("value") else None


def _card_conversation(body: dict[str, Any]) -> ConversationRef | None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    return ConversationRef(PLATFORM, channel, ts) if channel and ts else None


def _typed(text: str) -> str:
    """Text from a plain_text_input is raw: escape it like Slack escapes message text, so the
    command's own conversion reads *bold* as mrkdwn but "<@U1>" typed literally as text."""
    return escape_slack(text)


def _value(view: dict[str, Any], block: str, action: str = "value") -> Any:
    return ((view.get("state") or {}).get("values") or {}).get(block, {}).get(action) or {}


async def _card_command(
    adapter: SlackAdapter, body: dict[str, Any], respond: Any, line: str
) -> None:
    user = str(body["user"]["id"])
    reply = await run(adapter, user, line, _card_conversation(body))
    await answer(respond, reply.text)


def _message_conversation(body: dict[str, Any]) -> ConversationRef | None:
    """The conversation a clicked message sits in: its thread, or the DM itself."""
    container = body.get("container") or {}
    channel = container.get("channel_id")
    if not channel:
        return None
    message = body.get("message") or {}
    thread = message.get("thread_ts") or container.get("thread_ts")
    if str(channel).startswith("D"):
        thread = None
    return ConversationRef(PLATFORM, str(channel), str(thread) if thread else None)


def register(app: AsyncApp, adapter: SlackAdapter) -> None:
    @app.action(re.compile("^" + re.escape(blocks.RUN) + r"\d+$"))
    async def run_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        # A button the core asked for (CSAT score, "This solved it"): its value is a command
        # line, run as whoever clicked, through the gateway's role and ownership checks.
        with adapter.busy():
            await ack()
            line = str((body.get("actions") or [{}])[0].get("value") or "")
            spec, _ = table.lookup(line)
            if spec is None or spec.role != Role.CUSTOMER:
                log.warning("ignored a button that runs %r", line)
                return
            reply = await run(adapter, str(body["user"]["id"]), line, _message_conversation(body))
            await answer(respond, reply.text)

    @app.action(A + "claim")
    async def claim(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            await _card_command(adapter, body, respond, f"claim {_ref(body)}")

    @app.action(A + "assign")
    async def assign(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            target = _selected((body.get("actions") or [{}])[0])
            if not target:
                return
            # Someone listed as an agent in settings is recorded on first sight.
            await adapter.gateway.role_of(await adapter.directory.identity(target))
            await _card_command(adapter, body, respond, f"assign {_ref(body)} <@{target}>")

    @app.action(A + "priority")
    async def priority(ack: Any, body: dict[str, Any], respond: Any) -> None:
        with adapter.busy():
            await ack()
            level = _selected((body.get("actions") or [{}])[0])
            if level:
                await _card_command(adapter, body, respond, f"priority {_ref(body)} {level}")

    @app.action(re.compile("^" + re.escape(A) + "(reply|close|canned)$"))
    async def open_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        with adapter.busy():
            await ack()
            kind = str(body["actions"][0]["action_id"]).removeprefix(A)
            ref = _ref(body)
            conv = _card_conversation(body)
            meta = {"ref": ref, "channel": conv.channel if conv else None}
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=MODALS[kind](ref, meta))
            except SlackApiError as exc:
                log.warning("could not open the %s modal: %s", kind, exc.response.get("error"))

    @app.view(A + "reply")
    async def reply_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        with adapter.busy():
            text = str(_value(view, "text").get("value") or "").strip()
            if not text:
                await ack(response_action="errors", errors={"text": "Write a reply first."})
                return
            await ack()
            await _submitted(adapter, body, view, lambda ref: f"reply {ref} {_typed(text)}")

    @app.view(A + "close")
    async def close_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        with adapter.busy():
            await ack()
            reason = str(_value(view, "reason").get("value") or "").strip()
            await _submitted(adapter, body, view, lambda ref: f"close {ref} {_typed(reason)}")

    @app.view(A + "canned")
    async def canned_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        with adapter.busy():
            picked = _value(view, "canned", A + "canned_pick").get("selected_option") or {}
            name = str(picked.get("value") or "")
            if not name:
                await ack(response_action="errors", errors={"canned": "Pick a canned answer."})
                return
            await ack()
            await _submitted(adapter, body, view, lambda ref: f"canned use {ref} {name}")

    @app.options(A + "canned_pick")
    async def canned_options(ack: Any, body: dict[str, Any]) -> None:
        with adapter.busy():
            typed = str(body.get("value") or "").lower()
            reply = await run(adapter, str(body["user"]["id"]), "canned list", None)
            names = []
            if reply.ok:
                for line in reply.text.splitlines():
                    name, sep, _ = line.partition(":")
                    if sep and typed in line.lower():
                        names.append(name.strip())
            await ack(options=render.options(names))

    @app.event("app_home_opened")
    async def home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        with adapter.busy():
            await publish_home(adapter, str(event["user"]))


async def _submitted(
    adapter: SlackAdapter, body: dict[str, Any], view: dict[str, Any], line: Any
) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    user = str(body["user"]["id"])
    reply = await run(adapter, user, line(meta.get("ref", "")).strip(), None)
    await tell(adapter, user, meta.get("channel"), reply.text)


async def publish_home(adapter: SlackAdapter, user: str) -> None:
    """App Home: an agent's queue (mine, unassigned, breaching soon); a customer's tickets.

    Every list is a command line from the core's table, run through the gateway like any
    command: no ticket rule or query lives here."""
    identity = await adapter.directory.identity(user)
    role = await adapter.gateway.role_of(identity)
    if role.at_least(Role.AGENT):
        lists = [
            ("Assigned to me", "list assignee:me"),
            ("Unassigned in my queues", "list assignee:none queue:mine"),
            # the core's SLA query: due within the window or already breached, soonest first
            (f"Breaching soon (next {HOME_DUE_WINDOW})", f"list due:{HOME_DUE_WINDOW} queue:mine"),
            ("Urgent and high priority", "list priority:urgent priority:high"),
        ]
    else:
        lists = [("Your tickets", "mytickets")]
    parts = []
    for title, line in lists:
        parts.append((title, (await run(adapter, user, line, None)).text))
    try:
        await adapter.client.views_publish(user_id=user, view=render.home(parts))
    except SlackApiError as exc:
        log.warning("App Home for %s: %s", user, exc.response.get("error"))
