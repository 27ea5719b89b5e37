"""Value objects produced by the mail parser: ParsedMail and its Attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AutomaticKind = Literal["bounce", "report", "auto-reply", "list"]


@dataclass(frozen=True)
class Attachment:
    """One attached (or inline) file; size and md5 are over the decoded bytes."""

    filename: str | None
    content_type: str
    size: int
    md5: str
    content: bytes = field(repr=False)
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    """Everything deskbot needs from one inbound mail.

    Frozen, but list fields are plain lists (treat them as read-only). `error` is set when
    parsing failed part-way; the fields filled before the failure are kept, and `raw` always is.
    """

    raw: bytes = field(repr=False, default=b"")
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    from_email: str | None = None
    from_name: str | None = None
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    # The latest reply with quoted history removed but the signature kept.
    text_with_signature: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    automatic: AutomaticKind | None = None
    original_message_id: str | None = None
    dsn_status: str | None = None
    bounce_reason: str | None = None
    ticket_ref_in_subject: str | None = None
    authenticated: bool = False
    content_language: str | None = None
    defects: list[str] = field(default_factory=list)
    error: str | None = None
