"""Block Kit rendering: message bodies split within limits, the triage card, modals, App Home.

Pure functions: data in, Slack JSON out. Every piece of user text goes through
bot.formatting (to_slack / escape_slack / to_plain), so it can never inject a mention.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.commands import PRIORITIES
from bot.formatting import escape_slack, split_text, to_plain, to_slack, truncate

SECTION_TEXT = 3000  # Slack: a section's text
FIELD_TEXT = 2000  # a section field
HEADER_TEXT = 150  # a header block (plain text)
MESSAGE_BLOCKS = 50  # blocks per message
VIEW_BLOCKS = 100  # blocks per modal / Home tab
VIEW_TITLE = 24  # modal title, submit and close labels
FALLBACK_TEXT = 300  # the notification text that goes with blocks
SOURCE_CHUNK = 2500  # markdown per section before conversion (escaping can grow it)

STATUS_EMOJI = {
    "pending": "hourglass_flowing_sand",
    "on_hold": "hourglass_flowing_sand",
    "resolved": "white_check_mark",
    "closed": "white_check_mark",
}
CLAIMED_EMOJI = "eyes"
SLA_STATE = {
    "at_risk": " :alarm_clock: at risk",
    "breached": " :fire: breached",
    "paused": " (paused)",
}
ACTION = "deskbot:"  # prefix of every action_id and callback_id this app owns


def status_emoji(status: str | None, assignee: str | None) -> str | None:
    """The reaction that shows a ticket's state on the customer's message (None: no mark)."""
    if status in STATUS_EMOJI:
        return STATUS_EMOJI[status or ""]
    if assignee and status in ("new", "open"):
        return CLAIMED_EMOJI
    return None


def section(mrkdwn: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT) or " "},
    }
    if block_id:
        block["block_id"] = block_id
    return block


def plain(text: str, limit: int = HEADER_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def sections(markdown: str) -> list[str]:
    """Markdown -> mrkdwn section texts, each within Slack's 3,000 characters."""
    out: list[str] = []
    for chunk in split_text(markdown, SOURCE_CHUNK):
        converted = to_slack(chunk)
        if len(converted) <= SECTION_TEXT:
            out.append(converted)
            continue
        # Escaping (&amp;) grew it past the limit: convert smaller pieces.
        out.extend(truncate(to_slack(p), SECTION_TEXT) for p in split_text(chunk, 600))
    return [s for s in out if s.strip()] or [" "]


def messages(markdown: str, prefix: str | None = None) -> list[tuple[str, list[dict[str, Any]]]]:
    """A long body as one or more (fallback text, blocks) messages within Block Kit limits.

    `prefix` is already-escaped mrkdwn put before the body (e.g. who wrote it).
    """
    parts = sections(markdown)
    if prefix:
        parts[0] = truncate(f"{prefix}{parts[0]}", SECTION_TEXT)
    out = []
    for i in range(0, len(parts), MESSAGE_BLOCKS):
        batch = parts[i : i + MESSAGE_BLOCKS]
        out.append((truncate(batch[0], FALLBACK_TEXT), [section(p) for p in batch]))
    return out


def card(fields: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The triage card: summary fields and the buttons agents work the ticket with."""
    ref = str(fields.get("ref") or "?")
    subject = to_plain(str(fields.get("subject") or ""))
    status = str(fields.get("status") or "")
    priority = str(fields.get("priority") or "normal")
    assignee = fields.get("assignee")
    facts = [
        ("Customer", escape_slack(str(fields.get("customer") or "?"))),
        ("Channel", escape_slack(str(fields.get("channel") or "?"))),
        ("Status", escape_slack(status)),
        ("Priority", escape_slack(priority)),
        ("Assignee", escape_slack(str(assignee)) if assignee else "_unassigned_"),
        ("Queue", escape_slack(str(fields.get("queue") or ""))),
    ]
    if fields.get("sla_due"):
        facts.append(("SLA due", sla_text(fields)))
    if fields.get("tags"):
        facts.append(("Tags", escape_slack(", ".join(map(str, fields["tags"])))))
    if fields.get("rating") is not None:
        facts.append(("Rating", f"{escape_slack(str(fields['rating']))}/5"))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{ref} · {subject}")},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": truncate(f"*{k}*\n{v}", FIELD_TEXT)} for k, v in facts
            ][:10],
        },
    ]
    notes = []
    if fields.get("waiting"):
        notes.append(f":hourglass: {escape_slack(str(fields['waiting']))}")
    if fields.get("articles"):
        titles = "; ".join(escape_slack(str(a.get("title", ""))) for a in fields["articles"])
        notes.append(f":books: suggested articles: {titles}")
    if fields.get("failed_deliveries"):
        notes.append(f":warning: {int(fields['failed_deliveries'])} failed deliveries")
    if notes:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": truncate(n, FIELD_TEXT)} for n in notes],
            }
        )
    closed = status in ("closed", "merged")
    if not closed:
        blocks.append(card_actions(ref, priority))
    text = escape_slack(f"{ref} {subject} · {status} · {priority} · {assignee or 'unassigned'}")
    return truncate(text, FALLBACK_TEXT), blocks


def sla_text(fields: dict[str, Any]) -> str:
    """The SLA due time in each reader's own time zone (Slack's date token), with its state."""
    raw = str(fields["sla_due"])
    try:
        at = datetime.fromisoformat(raw)
        when = f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{raw[:16]} UTC>"
    except ValueError:
        when = escape_slack(raw)
    target = escape_slack(str(fields.get("sla_target") or ""))
    state = SLA_STATE.get(str(fields.get("sla_state") or ""), "")
    return f"{target} {when}{state}".strip()


def card_actions(ref: str, priority: str) -> dict[str, Any]:
    def button(label: str, action: str, style: str | None = None) -> dict[str, Any]:
        b: dict[str, Any] = {
            "type": "button",
            "text": plain(label, 75),
            "action_id": ACTION + action,
            "value": ref,
        }
        if style:
            b["style"] = style
        return b

    options = [{"text": plain(p, 75), "value": p} for p in PRIORITIES]
    current = next((o for o in options if o["value"] == priority), options[1])
    return {
        "type": "actions",
        "block_id": ACTION + ref,
        "elements": [
            button("Claim", "claim", "primary"),
            {
                "type": "users_select",
                "action_id": ACTION + "assign",
                "placeholder": plain("Assign…", 75),
            },
            {
                "type": "static_select",
                "action_id": ACTION + "priority",
                "options": options,
                "initial_option": current,
            },
            button("Reply", "reply"),
            button("Canned", "canned"),
            button("Close", "close", "danger"),
        ],
    }


def _modal(
    callback: str, title: str, submit: str, blocks: list[dict[str, Any]], meta: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ACTION + callback,
        "title": plain(title, VIEW_TITLE),
        "submit": plain(submit, VIEW_TITLE),
        "close": plain("Cancel", VIEW_TITLE),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def reply_modal(ref: str, meta: dict[str, Any]) -> dict[str, Any]:
    field = {
        "type": "input",
        "block_id": "text",
        "label": plain("Reply to the customer (public)", 2000),
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
    }
    return _modal("reply", f"Reply on {ref}", "Send", [field], meta)


def close_modal(ref: str, meta: dict[str, Any]) -> dict[str, Any]:
    field = {
        "type": "input",
        "block_id": "reason",
        "optional": True,
        "label": plain("Reason (kept in the history)", 2000),
        "element": {"type": "plain_text_input", "action_id": "value"},
    }
    return _modal("close", f"Close {ref}", "Close ticket", [field], meta)


def canned_modal(ref: str, meta: dict[str, Any]) -> dict[str, Any]:
    field = {
        "type": "input",
        "block_id": "canned",
        "label": plain("Canned answer", 2000),
        "element": {
            "type": "external_select",
            "action_id": ACTION + "canned_pick",
            "min_query_length": 0,
            "placeholder": plain("Type to search…", 150),
        },
    }
    return _modal("canned", f"Canned on {ref}", "Send", [field], meta)


def options(names: list[str]) -> list[dict[str, Any]]:
    """Options for an external select (at most 100)."""
    return [{"text": plain(n, 75), "value": n[:150]} for n in names[:100]]


def home(sections_: list[tuple[str, str]]) -> dict[str, Any]:
    """The App Home tab: a header and one escaped text section per list."""
    blocks: list[dict[str, Any]] = []
    for title, body in sections_:
        blocks.append({"type": "header", "text": plain(title)})
        for part in split_text(body, SECTION_TEXT - 100)[:20]:
            blocks.append(section(escape_slack(part)))
        blocks.append({"type": "divider"})
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


def reply(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A command's answer (plain text from the core) as escaped sections."""
    parts = split_text(text, SECTION_TEXT - 100)[:MESSAGE_BLOCKS] or [" "]
    return truncate(escape_slack(text), FALLBACK_TEXT) or " ", [
        section(escape_slack(p)) for p in parts
    ]
