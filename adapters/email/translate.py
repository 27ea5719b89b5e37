"""ParsedMail -> InboundMessage: identity, mailbox, conversation, thread ids, kept headers."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from adapters.email.config import PLATFORM, EmailConfig
from adapters.email.model import ParsedMail
from bot.messages import AttachmentInfo, ConversationRef, Identity, InboundMessage

MAX_REFERENCES = 20
UNKNOWN_SENDER = "unknown-sender@invalid"
RAW_PREVIEW_CHARS = 20_000


def clean(value: Any) -> Any:
    """Text safe to store: NUL characters (PostgreSQL refuses them) become U+FFFD, in strings
    and in the lists and dicts of kept headers."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    return value


def message_id_of(mail: ParsedMail) -> str:
    """The mail's Message-ID (no brackets); one made from the bytes when it has none, so a
    redelivered copy of the same mail is still recognised."""
    if mail.message_id:
        return str(clean(mail.message_id))
    return f"{hashlib.sha256(mail.raw).hexdigest()[:40]}@no-message-id.invalid"


def thread_ids(mail: ParsedMail) -> list[str]:
    """Ids a reply names, strongest first: In-Reply-To, then References newest first."""
    ids = [mail.in_reply_to or "", *reversed(mail.references)]
    return [i for i in dict.fromkeys(ids) if i]


def references_of(mail: ParsedMail) -> list[str]:
    """The mail's own References (or its In-Reply-To): what an answer's References extend."""
    refs = list(mail.references) or ([mail.in_reply_to] if mail.in_reply_to else [])
    return refs[-MAX_REFERENCES:]


def mailbox_of(mail: ParsedMail, cfg: EmailConfig, envelope_rcpts: Sequence[str] = ()) -> str:
    """Which of our addresses the mail came to: envelope first, then To and Cc headers."""
    for candidate in [*envelope_rcpts, *mail.to, *mail.cc]:
        if cfg.is_ours(candidate):
            return candidate.lower()
    return cfg.address.lower()


def identity_of(mail: ParsedMail, cfg: EmailConfig) -> Identity:
    """Customers are their address; the display name is kept. The address counts as verified
    (so the core may join a customer known from Slack) only for authenticated mail."""
    address = (mail.from_email or "").strip()
    if "@" not in address:
        return Identity(PLATFORM, UNKNOWN_SENDER, clean(mail.from_name) or "Unknown sender")
    return Identity(
        PLATFORM,
        clean(address.lower()),
        clean(mail.from_name) or address,
        email=address,
        email_verified=mail.authenticated or cfg.trusted(address),
        locale=mail.content_language,
    )


def participants(mail: ParsedMail, cfg: EmailConfig) -> list[str]:
    """Other people on the mail: Cc, and To addresses that are not ours (reply-all)."""
    sender = (mail.from_email or "").lower()
    seen: dict[str, None] = {}
    for address in [*mail.to, *mail.cc]:
        low = address.lower()
        if "@" in low and not cfg.is_ours(low) and low != sender:
            seen.setdefault(low)
    return list(seen)


def conversation_of(mail: ParsedMail, mailbox: str) -> ConversationRef:
    """Each mail is its own conversation; a reply finds its ticket by ids, not by this key."""
    return ConversationRef(PLATFORM, mailbox, message_id_of(mail))


def to_inbound(
    mail: ParsedMail,
    cfg: EmailConfig,
    *,
    mailbox: str,
    attachments: Sequence[AttachmentInfo] = (),
    attention: str | None = None,
) -> InboundMessage:
    """The message the core records. The core threads it: In-Reply-To, then References
    (`thread_ids`), then the subject's `[T-n]` tag (`ticket_ref`); a new mail gets a ticket.
    The headers kept with it let answers be addressed and threaded later."""
    conversation = conversation_of(mail, mailbox)
    extra = [mail.original_message_id] if mail.automatic == "bounce" else []
    headers = {
        "from": mail.from_email,
        "reply_to": list(mail.reply_to),
        "participants": participants(mail, cfg),
        "references": references_of(mail),
        "mailbox": mailbox,
    }
    text = mail.text.strip() or mail.body.strip()
    if attention:
        text = unreadable_text(mail)
    return InboundMessage(
        PLATFORM,
        message_id_of(mail),
        identity_of(mail, cfg),
        conversation,
        clean(text),
        subject=clean(mail.subject.strip()) or None,
        ticket_ref=mail.ticket_ref_in_subject,
        visible_to_agents=False,  # agents do not read the mailbox: the core relays to them
        attachments=tuple(dataclasses.replace(a, filename=clean(a.filename)) for a in attachments),
        automatic=mail.automatic,
        headers=clean({k: v for k, v in headers.items() if v}),
        attention=attention,
        thread_ids=tuple(clean([*thread_ids(mail), *(x for x in extra if x)])),
    )


def without_ref(inbound: InboundMessage) -> InboundMessage:
    """The same message as a new request (its subject named a ticket that does not exist)."""
    return dataclasses.replace(inbound, ticket_ref=None)


def unreadable_text(mail: ParsedMail) -> str:
    """What an agent sees for a mail that could not be parsed: why, and the raw start of it."""
    preview = mail.raw[:RAW_PREVIEW_CHARS].decode("utf-8", "replace")
    more = " (cut)" if len(mail.raw) > RAW_PREVIEW_CHARS else ""
    return (
        f"⚠ This mail could not be read ({mail.error}). The original is attached as "
        f"original.eml; its raw text{more}:\n\n{preview}"
    )
