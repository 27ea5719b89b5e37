"""Slack payloads -> deskbot DTO pieces: where a message belongs, its id, files, command text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from adapters.slack.config import PLATFORM, SlackConfig
from bot import commands as table
from bot.formatting import Resolver, from_slack
from bot.messages import AttachmentInfo, ConversationRef

# Message subtypes that are a person saying something; every other subtype (joins, topic
# changes, bot_message, …) is not a message to a help desk.
SPOKEN_SUBTYPES = {None, "file_share", "thread_broadcast", "me_message"}
_USER_LABEL = re.compile(r"<@([UW][A-Z0-9]+)\|[^>]*>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}

Kind = Literal["dm", "support", "triage", "other"]


def message_id(channel: str, ts: str) -> str:
    """Slack's identity of a message: ts is unique within a channel."""
    return f"{channel}:{ts}"


@dataclass(frozen=True)
class Place:
    """Where a Slack message sits, in deskbot terms."""

    kind: Kind
    conversation: ConversationRef
    top_level: bool

    @property
    def internal(self) -> bool:
        return self.kind == "triage"


def place_of(
    channel: str, ts: str, thread_ts: str | None, channel_type: str | None, cfg: SlackConfig
) -> Place:
    """A DM is one conversation per person; elsewhere each thread is a conversation."""
    top = not thread_ts or thread_ts == ts
    if channel_type == "im" or channel.startswith("D"):
        return Place("dm", ConversationRef(PLATFORM, channel), top)
    thread = ConversationRef(PLATFORM, channel, thread_ts or ts)
    if channel in cfg.triage_channels:
        return Place("triage", thread, top)
    if channel in cfg.support_channels:
        return Place("support", thread, top)
    return Place("other", thread, top)


def event_kind(event: dict[str, Any]) -> Literal["new", "edit", "delete", "ignore"]:
    """What a `message` event means. Messages from any bot never count."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        new, old = event.get("message") or {}, event.get("previous_message") or {}
        if new.get("bot_id") or new.get("subtype") == "bot_message":
            return "ignore"
        # Slack also sends message_changed for reply counts and link unfurls: same text.
        return "edit" if new.get("text") != old.get("text") and new.get("user") else "ignore"
    if subtype == "message_deleted":
        old = event.get("previous_message") or {}
        return "ignore" if old.get("bot_id") or not old.get("user") else "delete"
    if subtype not in SPOKEN_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return "ignore"
    return "new"


def attachments(files: list[dict[str, Any]] | None) -> tuple[AttachmentInfo, ...]:
    """Slack file objects as attachment records (name, type, size, link)."""
    out = []
    for f in files or []:
        out.append(
            AttachmentInfo(
                filename=str(f.get("name") or f.get("title") or f.get("id") or "file"),
                content_type=str(f.get("mimetype") or "application/octet-stream"),
                size=int(f.get("size") or 0),
                url=f.get("permalink") or f.get("url_private"),
            )
        )
    return tuple(out)


def message_text(event: dict[str, Any], names: Resolver) -> str:
    """A message's text as deskbot markdown; a file-only message names its files."""
    text = from_slack(event.get("text") or "", names)
    if not text.strip() and event.get("files"):
        text = "📎 " + ", ".join(a.filename for a in attachments(event.get("files")))
    return text


def _plain(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def command_text(raw: str, names: Resolver, is_ref: Callable[[str], bool]) -> str:
    """Slack command text -> the gateway's command line.

    The words the command table parses (name, ref, person, choice) are unescaped and keep user
    mentions as `<@U…>` so `/ticket assign T-3 @bob` finds the person by id; a free-text
    argument (a reply, a note) is converted from mrkdwn like any message.
    """
    text = _USER_LABEL.sub(r"<@\1>", raw.strip())
    spec, _ = table.lookup(_plain(text))
    if spec is None or not any(a.kind == "text" for a in spec.args):
        return _plain(text)
    tokens = text.split()
    head = len(spec.name.split())
    if spec.ticket and len(tokens) > head and is_ref(_plain(tokens[head])):
        head += 1
    for arg in spec.args:
        if arg.kind == "text" or len(tokens) <= head:
            break
        head += 1
    m = re.match(r"\s*(?:\S+\s+){" + str(head) + "}", text + " ")
    if m is None or m.end() > len(text):
        return _plain(text)
    return _plain(text[: m.end()]).strip() + " " + from_slack(text[m.end() :], names)


def mention_command(text: str, bot_user_id: str | None) -> str | None:
    """`<@BOT> claim` -> `claim` when the words after the bot's mention are a command."""
    if not bot_user_id:
        return None
    m = re.match(r"\s*<@" + re.escape(bot_user_id) + r"(?:\|[^>]*)?>[\s:,]*", text or "")
    if m is None:
        return None
    rest = text[m.end() :]
    spec, _ = table.lookup(_plain(_USER_LABEL.sub(r"<@\1>", rest)))
    return rest if spec is not None else None
