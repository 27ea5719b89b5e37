"""Platform-neutral DTOs that cross the boundary between adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Audience = Literal["customer", "agents"]


@dataclass(frozen=True)
class Identity:
    """Who someone is on one platform. `email_verified` lets the core join records safely."""

    platform: str
    external_id: str
    display_name: str | None = None
    email: str | None = None
    email_verified: bool = False
    locale: str | None = None
    groups: tuple[str, ...] = ()
    phone: str | None = None  # as the platform's profile gives it; shown to agents, never matched

    @property
    def name(self) -> str:
        return self.display_name or self.external_id


@dataclass(frozen=True)
class ConversationRef:
    """A place where messages are exchanged: a channel and an optional thread within it."""

    platform: str
    channel: str
    thread: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.channel}:{self.thread or ''}"

    @classmethod
    def from_key(cls, key: str) -> ConversationRef:
        platform, channel, thread = key.split(":", 2)
        return cls(platform, channel, thread or None)


@dataclass(frozen=True)
class AttachmentInfo:
    """A file shared with a message; content is stored elsewhere (url) or not at all.

    `link` is the file's page on the platform it was shared on (e.g. a Slack permalink) when
    `url` is a copy kept on this machine (`file://`): people of that platform open the link,
    everyone else gets the copy."""

    filename: str
    content_type: str = "application/octet-stream"
    size: int = 0
    url: str | None = None
    md5: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message someone wrote, as an adapter saw it.

    `message_id` is unique per platform, which makes redelivery idempotent. `ticket_ref` is set
    when the adapter already knows the ticket (email threading, a console `NAME@T-3:` line).
    `internal` marks a message written where customers cannot read it (a triage thread).
    `visible_to_agents` says whether agents already see this conversation natively; when not,
    the core relays customer messages to the agents' side.
    `automatic` names machine-sent mail (auto-reply, list, bounce …): it is only ever stored on
    the ticket `ticket_ref` names, flagged, and never opens, reopens or acknowledges anything.
    `attention` says why an agent must look at the message (e.g. "unparseable"): it is stored
    flagged, tags its ticket, and a ticket it opens gets no acknowledgement.
    `headers` are kept with the stored message (flags["headers"]) for the adapter's later use.
    `thread_ids` are platform ids this message answers, strongest first (a mail's In-Reply-To,
    then its References newest first): the core attaches it to the ticket of the first one it
    received or sent, before trying `ticket_ref` (which then is only a fallback, like a subject
    tag) or the conversation.
    """

    platform: str
    message_id: str
    author: Identity
    conversation: ConversationRef
    text: str
    subject: str | None = None
    ticket_ref: str | None = None
    internal: bool = False
    visible_to_agents: bool = True
    attachments: tuple[AttachmentInfo, ...] = ()
    automatic: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    attention: str | None = None
    thread_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandInvocation:
    """Someone ran a command: `name` and the raw `args` text, plus where they ran it."""

    platform: str
    actor: Identity
    text: str
    conversation: ConversationRef | None = None
    context_ref: str | None = None
    invocation_id: str | None = None
    # Files sent with the command (a Discord `/reply` with a file): commands that take files
    # (`CommandSpec.extra["files"]`) carry them, the others ignore them.
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class FileAttachment:
    """A file the core produced for someone (a report's chart or CSV): adapters upload it."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Reply:
    """The core's immediate answer to a command: shown to the person who ran it.

    `files` are attachments to upload with the answer (report charts and CSV exports).
    """

    ok: bool
    text: str
    ticket: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    files: tuple[FileAttachment, ...] = ()


@dataclass(frozen=True)
class Outbound:
    """One message the core wants delivered, read from the outbox by the dispatcher.

    `audience` is who may read it; `recipient` is a person for direct messages; `edit_key`
    names a message that is edited in place (a triage card) rather than posted anew.
    `previous_external_id` is the platform id of that message when it was already posted.
    """

    id: int
    platform: str
    audience: Audience
    kind: str
    ticket: str | None
    text: str
    conversation: ConversationRef | None = None
    recipient: str | None = None
    edit_key: str | None = None
    previous_external_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    # For agents-audience rows of a ticket: the platform id of its triage card once posted, so
    # adapters can thread relayed messages, notes and notices under it.
    card_external_id: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What an adapter reports after sending: the platform's id of the posted message."""

    external_id: str | None = None
    conversation: ConversationRef | None = None


class DeliveryError(Exception):
    """Raised by adapters. `permanent` failures are not retried; others back off and retry."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
