"""The Ticket aggregate and the people around it. Pure: no I/O, time is passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import events as ev
from bot.domain.errors import AlreadyClaimed, IllegalTransition
from bot.domain.status import TRANSITIONS, Priority, Status, allowed_from


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


@dataclass
class Agent:
    id: int
    name: str
    role: Role = Role.AGENT
    available: bool = True
    capacity: int = 10
    queues: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    active: bool = True


@dataclass
class Customer:
    id: int
    name: str
    email: str | None = None
    tier: str | None = None
    locale: str | None = None


class CustomerMessageOutcome(StrEnum):
    ADDED = "added"
    REOPENED = "reopened"
    NEEDS_NEW_TICKET = "needs_new_ticket"


@dataclass
class Ticket:
    """A customer's request and everything agents do with it.

    Methods enforce the rules and append events; the unit of work saves the fields and the
    events' handlers turn those events into history rows and outbound messages.
    """

    id: int
    ref: str
    subject: str
    customer_id: int
    conversation_key: str
    origin: str
    created_at: datetime
    status: Status = Status.NEW
    priority: Priority = Priority.NORMAL
    queue: str = "general"
    assignee_id: int | None = None
    assignee_name: str | None = None
    tags: list[str] = field(default_factory=list)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    merged_into_id: int | None = None
    claim_expires_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    last_agent_message_at: datetime | None = None
    updated_at: datetime | None = None
    # SLA (issue 6): due times are columns; bot/domain/sla_clock.py keeps them consistent.
    sla_policy: str | None = None
    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None
    warn_at: datetime | None = None
    remind_at: datetime | None = None
    auto_close_at: datetime | None = None
    paused_at: datetime | None = None
    first_response_secs: int | None = None
    resolution_secs: int | None = None
    sla_due_at: datetime | None = None
    sla_timers: dict[str, datetime | None] = field(default_factory=dict)
    paused_secs: int = 0
    version: int = 1
    events: list[ev.Event] = field(default_factory=list, repr=False, compare=False)
    # told when this ticket records an event, so a unit of work finds new events without
    # scanning every ticket it loaded (a group commit loads hundreds)
    on_event: Callable[[Ticket], None] | None = field(default=None, repr=False, compare=False)

    # --- status ---------------------------------------------------------------------------
    def change_status(
        self, new: Status, *, actor: str, at: datetime, reason: str | None = None
    ) -> None:
        if new == self.status:
            raise IllegalTransition(f"{self.ref} is already {new.value}.")
        if new not in TRANSITIONS[self.status]:
            allowed = ", ".join(allowed_from(self.status)) or "none"
            raise IllegalTransition(
                f"{self.ref} is {self.status.value}; it can move to: {allowed}."
            )
        old = self.status
        self.status = new
        if new == Status.RESOLVED:
            self.resolved_at = at
        if new == Status.CLOSED:
            self.closed_at = at
            self.resolved_at = self.resolved_at or at
        if new == Status.OPEN and old in (Status.RESOLVED, Status.CLOSED):
            self.resolved_at = None
            self.closed_at = None
        if new not in (Status.NEW, Status.OPEN):
            self.claim_expires_at = None
        self._record(
            ev.StatusChanged(
                self.id, actor, at, field_name="status", old=old.value, new=new.value, reason=reason
            )
        )

    # --- ownership --------------------------------------------------------------------------
    def claim(self, agent: Agent, *, at: datetime, timeout: timedelta | None) -> None:
        if self.status in (Status.MERGED, Status.CLOSED):
            raise IllegalTransition(f"{self.ref} is {self.status.value}; reopen it first.")
        if self.assignee_id is not None:
            who = "you" if self.assignee_id == agent.id else self.assignee_name
            raise AlreadyClaimed(f"{self.ref} is already claimed by {who}.")
        self._set_assignee(agent, actor=agent.name, at=at, timeout=timeout, claimed=True)

    def assign(self, agent: Agent, *, actor: str, at: datetime, timeout: timedelta | None) -> None:
        if self.status in (Status.MERGED, Status.CLOSED):
            raise IllegalTransition(f"{self.ref} is {self.status.value}; reopen it first.")
        if self.assignee_id == agent.id:
            raise IllegalTransition(f"{self.ref} is already assigned to {agent.name}.")
        self._set_assignee(agent, actor=actor, at=at, timeout=timeout, claimed=False)

    def unassign(self, *, actor: str, at: datetime, reason: str | None = None) -> None:
        if self.assignee_id is None:
            raise IllegalTransition(f"{self.ref} is not assigned to anyone.")
        old = self.assignee_name
        self.assignee_id = None
        self.assignee_name = None
        self.claim_expires_at = None
        self._record(
            ev.TicketAssigned(
                self.id, actor, at, field_name="assignee", old=old, new=None, reason=reason
            )
        )

    def _set_assignee(
        self, agent: Agent, *, actor: str, at: datetime, timeout: timedelta | None, claimed: bool
    ) -> None:
        old = self.assignee_name
        self.assignee_id = agent.id
        self.assignee_name = agent.name
        self.claim_expires_at = at + timeout if timeout else None
        cls = ev.TicketClaimed if claimed else ev.TicketAssigned
        self._record(cls(self.id, actor, at, field_name="assignee", old=old, new=agent.name))
        if self.status == Status.NEW:
            self.change_status(Status.OPEN, actor=actor, at=at)

    def agent_acted(self, agent_id: int) -> None:
        """The assignee did something: their claim no longer expires."""
        if agent_id == self.assignee_id:
            self.claim_expires_at = None

    # --- fields -----------------------------------------------------------------------------
    def set_priority(self, priority: Priority, *, actor: str, at: datetime) -> None:
        if priority == self.priority:
            raise IllegalTransition(f"{self.ref} is already {priority.value} priority.")
        old, self.priority = self.priority, priority
        self._record(
            ev.FieldChanged(self.id, actor, at, field_name="priority", old=old, new=priority)
        )

    def transfer(self, queue: str, *, actor: str, at: datetime) -> None:
        if queue == self.queue:
            raise IllegalTransition(f"{self.ref} is already in queue {queue}.")
        old, self.queue = self.queue, queue
        self._record(ev.FieldChanged(self.id, actor, at, field_name="queue", old=old, new=queue))
        if self.assignee_id is not None:
            self.unassign(actor=actor, at=at, reason=f"transferred to {queue}")

    def add_tag(self, tag: str, *, actor: str, at: datetime) -> None:
        if tag in self.tags:
            raise IllegalTransition(f"{self.ref} already has tag {tag}.")
        self.tags = [*self.tags, tag]
        self._record(ev.FieldChanged(self.id, actor, at, field_name="tags", old=None, new=tag))

    def remove_tag(self, tag: str, *, actor: str, at: datetime) -> None:
        if tag not in self.tags:
            raise IllegalTransition(f"{self.ref} has no tag {tag}.")
        self.tags = [t for t in self.tags if t != tag]
        self._record(ev.FieldChanged(self.id, actor, at, field_name="tags", old=tag, new=None))

    # --- conversation -----------------------------------------------------------------------
    def customer_wrote(self, *, at: datetime, reopen_window: timedelta) -> CustomerMessageOutcome:
        """Apply the reopen rules for a customer message; say what the caller must do."""
        if self.status == Status.CLOSED and (
            self.closed_at is None or at - self.closed_at > reopen_window
        ):
            return CustomerMessageOutcome.NEEDS_NEW_TICKET
        self.last_customer_message_at = at
        if self.status in (Status.PENDING, Status.RESOLVED, Status.CLOSED):
            self.change_status(Status.OPEN, actor="customer", at=at, reason="customer replied")
            return CustomerMessageOutcome.REOPENED
        return CustomerMessageOutcome.ADDED

    def agent_replied(self, agent: Agent, *, at: datetime) -> bool:
        """Record a public agent reply; returns True when it is the first response."""
        if self.status == Status.MERGED:
            raise IllegalTransition(
                f"{self.ref} was merged; reply on the ticket it was merged into."
            )
        first = self.first_response_at is None
        if first:
            self.first_response_at = at
        self.last_agent_message_at = at
        self.agent_acted(agent.id)
        if self.status == Status.NEW:
            self.change_status(Status.OPEN, actor=agent.name, at=at)
        return first

    def merge_into(self, target: Ticket, *, actor: str, at: datetime) -> None:
        if target.id == self.id:
            raise IllegalTransition("A ticket cannot be merged into itself.")
        if target.status == Status.MERGED:
            raise IllegalTransition(f"{target.ref} was itself merged; merge into its target.")
        self.change_status(Status.MERGED, actor=actor, at=at, reason=f"merged into {target.ref}")
        self.merged_into_id = target.id
        self.claim_expires_at = None
        for ticket in (self, target):
            ticket._record(
                ev.TicketMerged(
                    ticket.id,
                    actor,
                    at,
                    source_id=self.id,
                    target_id=target.id,
                    source_ref=self.ref,
                    target_ref=target.ref,
                )
            )

    def _record(self, event: ev.Event) -> None:
        self.updated_at = event.at
        self.note(event)

    def note(self, event: ev.Event) -> None:
        """Record an event about the ticket that changes nothing on it (an SLA alarm firing):
        history and notices follow as for any event, but ``updated_at`` stays, so the ticket
        row need not be written."""
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(self)
