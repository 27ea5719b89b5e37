"""Block Kit for what a message carries besides text: the core's buttons and shared files."""

from __future__ import annotations

from typing import Any

from adapters.slack.render import ACTION, SECTION_TEXT, plain
from bot.formatting import escape_slack, truncate
from bot.formatting.sizes import human_size

RUN = ACTION + "run:"  # buttons that run a command line from the core (survey, "This solved it")
BUTTON_TEXT = 75  # a button's label
BUTTON_VALUE = 2000  # a button's value
ACTION_ELEMENTS = 25  # elements in one actions block


def command_buttons(buttons: list[dict[str, Any]], block_id: str) -> dict[str, Any] | None:
    """The core's buttons (`{label, command, style?}`) as one actions block; a click runs the
    command as the person who clicked (see interactive.py). None when there are none."""
    elements: list[dict[str, Any]] = []
    for i, b in enumerate(buttons[:ACTION_ELEMENTS]):
        command = str(b.get("command") or "")
        if not command or len(command) > BUTTON_VALUE:
            continue
        element: dict[str, Any] = {
            "type": "button",
            "text": plain(str(b.get("label") or command), BUTTON_TEXT),
            "action_id": f"{RUN}{i}",
            "value": command,
        }
        if b.get("style") in ("primary", "danger"):
            element["style"] = b["style"]
        elements.append(element)
    if not elements:
        return None
    return {"type": "actions", "block_id": block_id[:255], "elements": elements}


def web_link(attachment: dict[str, Any]) -> str | None:
    """The link to show: the file's url when it is on the web, else its Slack page (`link`)
    when `url` is a copy kept on this machine, which means nothing to anyone else."""
    for key in ("url", "link"):
        value = str(attachment.get(key) or "")
        if value.startswith(("https://", "http://")):
            return value
    return None


def file_lines(attachments: list[dict[str, Any]]) -> str | None:
    """Shared files as escaped mrkdwn lines: name linked when it has a web link, type, size."""
    lines = []
    for a in attachments:
        name = escape_slack(str(a.get("filename") or "file"))
        url = web_link(a)
        if url and not any(c in url for c in "<>|"):
            name = f"<{url}|{name}>"
        facts = ", ".join(
            x
            for x in (
                escape_slack(str(a.get("content_type") or "")),
                human_size(int(a.get("size") or 0)),
            )
            if x
        )
        lines.append(f":paperclip: {name}" + (f" ({facts})" if facts else ""))
    return truncate("\n".join(lines), SECTION_TEXT) if lines else None
