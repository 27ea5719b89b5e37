"""Files shared on a ticket, in an outgoing mail: listed in the body, attached when kept here.

An agent's reply may carry files (`payload["attachments"]`: filename, content_type, size, url).
A mail lists each one with its size and web link; when the file's content is stored on this
machine (a `file://` URL, as the attachment stores write) and is not too big, the bytes are
attached too. A link that needs a login elsewhere (a Slack permalink) is still listed: the
customer then knows what was shared and can ask for it.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from bot.formatting.sizes import human_size

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SharedFile:
    """One file as the mail shows it; `data` when its bytes are attached."""

    filename: str
    content_type: str
    size: int
    link: str | None  # a web link the customer can open (http/https only)
    data: bytes | None = None


def local_bytes(url: str | None, max_bytes: int) -> bytes | None:
    """The content behind a `file://` URL when it exists and fits; None otherwise."""
    if not url or not url.startswith("file://"):
        return None
    path = Path(unquote(urlparse(url).path))
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        return path.read_bytes()
    except OSError as exc:
        log.info("attachment %s not attached: %r", url, exc)
        return None


def shared_files(payload: dict[str, Any], max_bytes: int) -> list[SharedFile]:
    """The files a delivery carries, with their bytes when kept here (within `max_bytes`
    for the whole mail: later files are listed but not attached once the budget is spent)."""
    out: list[SharedFile] = []
    budget = max_bytes
    for item in payload.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "") or None
        data = local_bytes(url, budget)
        if data is not None:
            budget -= len(data)
        # attached: no link needed; a kept copy over the budget: its original (Slack) link
        candidates = (url,) if data is not None else (url, item.get("link"))
        web = [
            u for u in candidates if isinstance(u, str) and u.startswith(("https://", "http://"))
        ]
        out.append(
            SharedFile(
                filename=str(item.get("filename") or "file"),
                content_type=str(item.get("content_type") or "application/octet-stream"),
                size=int(item.get("size") or (len(data) if data is not None else 0)),
                link=web[0] if web else None,
                data=data,
            )
        )
    return out


def _line(f: SharedFile) -> tuple[str, str]:
    facts = ", ".join(
        x for x in (human_size(f.size), "attached" if f.data is not None else "") if x
    )
    return f.filename, f" ({facts})" if facts else ""


def files_text(files: list[SharedFile]) -> str:
    """The plain-text list: `Files:` then one line per file, with its link when there is one."""
    if not files:
        return ""
    lines = ["Files:"]
    for f in files:
        name, facts = _line(f)
        lines.append(f"- {name}{facts}" + (f": {f.link}" if f.link else ""))
    return "\n".join(lines)


def files_html(files: list[SharedFile]) -> str:
    if not files:
        return ""
    items = []
    for f in files:
        name, facts = _line(f)
        label = escape(name)
        if f.link:
            label = f'<a href="{escape(f.link, quote=True)}">{label}</a>'
        items.append(f"<li>{label}{escape(facts)}</li>")
    return f"<p>Files:</p><ul>{''.join(items)}</ul>"


def attach(msg: EmailMessage, files: list[SharedFile]) -> None:
    """Attach the files whose bytes we have (after the body: the mail becomes multipart/mixed)."""
    for f in files:
        if f.data is None:
            continue
        kind = f.content_type if "/" in f.content_type else ""
        if not kind:
            kind = mimetypes.guess_type(f.filename)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.filename)
