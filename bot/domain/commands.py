"""Commands (imperative): every change to a ticket is one of these, handled in one unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.messages import Identity, InboundMessage


@dataclass(frozen=True)
class Command:
    """Base: who asks (their platform identity)."""

    actor: Identity


@dataclass(frozen=True)
class IngestMessage(Command):
    inbound: InboundMessage


@dataclass(frozen=True)
class TicketCommand(Command):
    ticket_id: int


@dataclass(frozen=True)
class OpenTicket(Command):
    """An agent or customer opens a ticket explicitly (`/new subject`)."""

    subject: str
    conversation_key: str
    platform: str
    for_customer: str | None = None


@dataclass(frozen=True)
class ClaimTicket(TicketCommand):
    pass


@dataclass(frozen=True)
class UnclaimTicket(TicketCommand):
    pass


@dataclass(frozen=True)
class AssignTicket(TicketCommand):
    agent_handle: str


@dataclass(frozen=True)
class TransferTicket(TicketCommand):
    queue: str


@dataclass(frozen=True)
class ReplyToTicket(TicketCommand):
    text: str
    source_conversation: str | None = None
    canned: str | None = None
    # files sent with the reply (AttachmentInfo as dicts, as stored on the message)
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class AddNote(TicketCommand):
    text: str
    echo: bool = True


@dataclass(frozen=True)
class SetPriority(TicketCommand):
    priority: str


@dataclass(frozen=True)
class ChangeTags(TicketCommand):
    add: bool
    tag: str


@dataclass(frozen=True)
class ChangeStatus(TicketCommand):
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class CustomerCloseTicket(TicketCommand):
    pass


@dataclass(frozen=True)
class ReopenTicket(TicketCommand):
    pass


@dataclass(frozen=True)
class MergeTickets(Command):
    source_id: int
    target_id: int


@dataclass(frozen=True)
class LinkTickets(Command):
    a_id: int
    b_id: int


@dataclass(frozen=True)
class ExpireClaim(Command):
    ticket_id: int
    now: datetime


@dataclass(frozen=True)
class AddAgent(Command):
    name: str
    role: str = "agent"
    platform_id: str | None = None


@dataclass(frozen=True)
class RemoveAgent(Command):
    handle: str


@dataclass(frozen=True)
class SetRole(Command):
    handle: str
    role: str


@dataclass(frozen=True)
class SetAvailability(Command):
    available: bool


@dataclass(frozen=True)
class AddQueue(Command):
    name: str
    description: str | None = None


@dataclass(frozen=True)
class RemoveQueue(Command):
    name: str


@dataclass(frozen=True)
class SaveCanned(Command):
    name: str
    body: str


@dataclass(frozen=True)
class RemoveCanned(Command):
    name: str


@dataclass(frozen=True)
class MergeCustomers(Command):
    source: str
    target: str


@dataclass(frozen=True)
class FireTimers(Command):
    """The scheduler: run whatever of one ticket's timers is due at ``now`` (issue 6)."""

    ticket_id: int
    now: datetime


@dataclass(frozen=True)
class FireDueTimers(Command):
    """The scheduler: :class:`FireTimers` for a group of due tickets in one unit of work."""

    ticket_ids: tuple[int, ...]
    now: datetime


@dataclass(frozen=True)
class SnoozeTicket(TicketCommand):
    """Put a ticket on hold until ``until``; it reopens by itself then."""

    until: datetime


@dataclass(frozen=True)
class SetSlaPolicy(Command):
    """`/sla set NAME KEY VALUE`: change (or create) one policy, stored in the database."""

    name: str
    key: str
    value: str


@dataclass(frozen=True)
class EditMessage(Command):
    """Someone edited (or deleted) a message recorded earlier, named by its platform id."""

    platform: str
    message_id: str
    text: str
    deleted: bool = False


@dataclass(frozen=True)
class RecordBounce(Command):
    """A delivery report says a message we sent (platform id `original_id`) did not arrive.

    `permanent` reports mark that delivery failed; delays are only recorded on the ticket.
    `report_id` is the report's own platform id, which makes it idempotent.
    """

    platform: str
    report_id: str
    original_id: str
    status: str | None = None
    reason: str | None = None
    text: str = ""
    permanent: bool = True
