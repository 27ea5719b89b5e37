"""Domain events (past tense). Each becomes one audit history row; some cause outbound messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """Base: which ticket, who did it (a display label), when."""

    ticket_id: int
    actor: str
    at: datetime

    kind: str = field(default="event", init=False)
    updates_card: bool = field(default=True, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        """(old, new, data) for the audit row."""
        return None, None, {}


@dataclass(frozen=True)
class TicketOpened(Event):
    subject: str = ""
    kind: str = field(default="opened", init=False)
    linked_from: int | None = None
    # False when the opening message must not be answered automatically (unparseable mail).
    acknowledge: bool = True

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        data: dict[str, Any] = {"subject": self.subject}
        if self.linked_from is not None:
            data["linked_from"] = self.linked_from
        return None, "new", data


@dataclass(frozen=True)
class CustomerMessageAdded(Event):
    message_id: int = 0
    text: str = ""
    relay_to_agents: bool = False
    # files shared with the message ({filename, content_type, size, url}), relayed with it
    attachments: tuple[dict[str, Any], ...] = ()
    kind: str = field(default="customer_message", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, None, {"message_id": self.message_id}


@dataclass(frozen=True)
class AgentReplied(Event):
    message_id: int = 0
    text: str = ""
    first_response: bool = False
    source_conversation: str | None = None
    # files the agent shared with the reply ({filename, content_type, size, url}), relayed with it
    attachments: tuple[dict[str, Any], ...] = ()
    kind: str = field(default="replied", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, None, {"message_id": self.message_id, "first_response": self.first_response}


@dataclass(frozen=True)
class NoteAdded(Event):
    message_id: int = 0
    text: str = ""
    echo: bool = True
    kind: str = field(default="note", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, None, {"message_id": self.message_id}


@dataclass(frozen=True)
class FieldChanged(Event):
    """A single-field change: status, priority, queue, assignee, tags, subject."""

    field_name: str = ""
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    kind: str = field(default="changed", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        data: dict[str, Any] = {"field": self.field_name}
        if self.reason:
            data["reason"] = self.reason
        return self.old, self.new, data


@dataclass(frozen=True)
class TicketClaimed(FieldChanged):
    kind: str = field(default="claimed", init=False)


@dataclass(frozen=True)
class TicketAssigned(FieldChanged):
    kind: str = field(default="assigned", init=False)


@dataclass(frozen=True)
class StatusChanged(FieldChanged):
    customer_notice: str | None = None
    kind: str = field(default="status", init=False)


@dataclass(frozen=True)
class TicketMerged(Event):
    source_id: int = 0
    target_id: int = 0
    source_ref: str = ""
    target_ref: str = ""
    kind: str = field(default="merged", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return (
            self.source_ref,
            self.target_ref,
            {"source": self.source_id, "target": self.target_id},
        )


@dataclass(frozen=True)
class TicketLinked(Event):
    other_ref: str = ""
    kind: str = field(default="linked", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, self.other_ref, {}


@dataclass(frozen=True)
class DeliveryFailed(Event):
    outbox_id: int = 0
    error: str = ""
    kind: str = field(default="delivery_failed", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, None, {"outbox_id": self.outbox_id, "error": self.error}


@dataclass(frozen=True)
class MessageEdited(Event):
    message_id: int = 0
    text: str = ""
    deleted: bool = False
    kind: str = field(default="message_edited", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, None, {"message_id": self.message_id, "deleted": self.deleted}


# --- SLA and timed automation (issue 6) -----------------------------------------------------


@dataclass(frozen=True)
class SlaWarned(Event):
    """A target (first_response, next_response, resolution) passed its warning share."""

    target: str = ""
    due: datetime | None = None
    kind: str = field(default="sla_warned", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, self.target, {"due": self.due.isoformat() if self.due else None}


@dataclass(frozen=True)
class SlaBreached(Event):
    """A target's due time passed unmet."""

    target: str = ""
    due: datetime | None = None
    kind: str = field(default="sla_breached", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, self.target, {"due": self.due.isoformat() if self.due else None}


@dataclass(frozen=True)
class SlaEscalated(Event):
    """One step of the policy's escalation ladder ran for a breached target."""

    target: str = ""
    step: int = 0
    action: str = ""
    detail: str = ""
    kind: str = field(default="sla_escalated", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        data: dict[str, Any] = {"target": self.target, "step": self.step, "detail": self.detail}
        return None, self.action, data


@dataclass(frozen=True)
class TicketSnoozed(Event):
    """An agent put the ticket on hold until a time; it comes back by itself."""

    until: datetime | None = None
    kind: str = field(default="snoozed", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, self.until.isoformat() if self.until else None, {}


@dataclass(frozen=True)
class CustomerReminded(Event):
    """A pending ticket's customer was reminded that we wait for their answer."""

    kind: str = field(default="reminded", init=False)
    updates_card: bool = field(default=False, init=False)
