"""Walk a MIME tree: pick the readable body, collect attachments (inline ones included)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import Message

from adapters.email.decoding import decode_bytes, header, html_to_text, param
from adapters.email.model import Attachment

_BODY_TYPES = {"text/plain", "text/html"}


@dataclass
class Contents:
    """What the walk found: body pieces as (plain text, html source or None), and attachments."""

    pieces: list[tuple[str, str | None]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        """Whole decoded text, HTML parts converted to text."""
        return "\n\n".join(text for text, _ in self.pieces if text.strip()).strip()

    @property
    def reply_source(self) -> str:
        """Text for reply extraction: HTML parts converted with quoted blocks removed."""
        out = []
        for text, html in self.pieces:
            out.append(html_to_text(html, drop_quotes=True) if html is not None else text)
        return "\n\n".join(t for t in out if t.strip()).strip()


def walk(msg: Message) -> Contents:
    """Collect body pieces and attachments of a parsed message. May raise on hostile input."""
    found = Contents()
    _visit(msg, found, want_body=True, depth=0)
    return found


def _visit(part: Message, found: Contents, *, want_body: bool, depth: int) -> None:
    if depth > 50:  # a crafted mail can nest multiparts endlessly
        found.defects.append("mime nesting too deep")
        return
    ctype = part.get_content_type()
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(payload, list):
        children = [p for p in payload if isinstance(p, Message)]
        if ctype == "multipart/alternative" and want_body:
            best = _best_alternative(children)
            for child in children:
                _visit(child, found, want_body=child is best, depth=depth + 1)
        else:
            for child in children:
                _visit(child, found, want_body=want_body, depth=depth + 1)
        return
    if part.get_content_maintype() == "multipart":
        # No parts found (missing or wrong boundary): the text is still worth reading.
        found.defects.append(f"{ctype} without parts; read as text")
        if want_body:
            found.pieces.append(_decode_text(part, found))
        return
    if _is_attachment(part, ctype):
        found.attachments.append(_attachment(part, ctype))
        return
    if not want_body:
        return
    text, html = _decode_text(part, found)
    found.pieces.append((text, html))


def _disposition(part: Message) -> str:
    return header(part, "Content-Disposition").split(";")[0].strip().lower()


def _filename(part: Message) -> str | None:
    return param(part, "filename", "content-disposition") or param(part, "name")


def _is_attachment(part: Message, ctype: str) -> bool:
    if ctype not in _BODY_TYPES:
        return True  # images, files, message/rfc822, DSN parts, text/calendar, …
    return _disposition(part) == "attachment" or _filename(part) is not None


def _best_alternative(children: list[Message]) -> Message | None:
    """Prefer a non-empty text/plain; else HTML; else a nested multipart (e.g. related)."""
    by_type: dict[str, Message] = {}
    for child in children:
        by_type.setdefault(child.get_content_type(), child)
    plain = by_type.get("text/plain")
    if plain is not None and _has_text(plain):
        return plain
    if "text/html" in by_type:
        return by_type["text/html"]
    for child in children:
        if child.get_content_maintype() == "multipart":
            return child
    return plain or (children[0] if children else None)


def _has_text(part: Message) -> bool:
    data = part.get_payload(decode=True)
    return isinstance(data, bytes) and bool(data.strip())


def _decode_text(part: Message, found: Contents) -> tuple[str, str | None]:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    charset = part.get_content_charset()
    text, clean = decode_bytes(data, charset)
    if not clean and charset:
        found.defects.append(f"charset {charset!r} wrong or unknown; decoded by detection")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(text), text
    return text, None


def _attachment(part: Message, ctype: str) -> Attachment:
    filename = _filename(part)
    if part.get_content_maintype() in ("message", "multipart") or ctype == "text/rfc822-headers":
        content = _serialise(part)
        inner = part.get_payload(0) if part.is_multipart() else None
        if filename is None and ctype in ("message/rfc822", "message/global"):
            subject = header(inner, "Subject") if isinstance(inner, Message) else ""
            filename = (subject.strip() or "message")[:120] + ".eml"
    else:
        data = part.get_payload(decode=True)
        content = data if isinstance(data, bytes) else b""
    disposition = _disposition(part)
    inline = disposition == "inline" or (not disposition and part.get("Content-ID") is not None)
    return Attachment(
        filename=filename,
        content_type=ctype,
        size=len(content),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        content=content,
        inline=inline,
    )


def _serialise(part: Message) -> bytes:
    """Bytes of an attached message (or DSN block list); the inner text as it was parsed."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for item in payload:
            if not isinstance(item, Message):
                chunks.append(str(item).encode("utf-8", "surrogateescape"))
                continue
            try:
                chunks.append(item.as_bytes())
            except Exception:
                chunks.append(item.as_string().encode("utf-8", "surrogateescape"))
        return b"\n".join(chunks)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else str(payload).encode("utf-8", "surrogateescape")
