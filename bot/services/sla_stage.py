"""Pipeline stage: due times and timers follow the ticket's events (DESIGN.md, flow step 2).

Runs after routing (which may have chosen queue, priority or a policy name) and before the
notifications, so the acknowledgement and the card already see the due times. It only writes
columns of tickets already in the unit of work.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import events as ev
from bot.domain import sla_clock as clock
from bot.domain.calendar import BusinessCalendar
from bot.domain.model import Ticket
from bot.domain.sla import SlaPolicy
from bot.domain.status import Status
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

_DONE = (Status.RESOLVED, Status.CLOSED)


async def sla_stage(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    for event in events:
        ticket = await uow.tickets.get(event.ticket_id)
        if ticket is not None:
            await _apply(event, ticket, uow, core)


def policy_of(ticket: Ticket, core: Core) -> tuple[SlaPolicy, BusinessCalendar]:
    """The ticket's policy (the fallback if its name is unknown now) and its calendar."""
    cfg = core.policy.sla
    policy = cfg.named(ticket.sla_policy) or cfg.fallback
    return policy, cfg.calendar_for(policy, ticket.queue)


async def choose_policy(ticket: Ticket, uow: UnitOfWork, core: Core) -> SlaPolicy:
    """A policy routing named, else the first policy matching the ticket and its customer."""
    cfg = core.policy.sla
    named = cfg.named(ticket.sla_policy)
    if named is not None:
        return named
    customer = await uow.customers.get(ticket.customer_id)
    return cfg.select(
        priority=ticket.priority.value,
        queue=ticket.queue,
        tier=customer.tier if customer else None,
        domain=customer.email if customer else None,
        channel=ticket.origin,
    )


def customer_waiting(ticket: Ticket) -> bool:
    """Answered before, and the customer wrote after our last answer."""
    last_in, last_out = ticket.last_customer_message_at, ticket.last_agent_message_at
    return (
        ticket.first_response_at is not None
        and last_in is not None
        and (last_out is None or last_in > last_out)
    )


async def _apply(event: ev.Event, ticket: Ticket, uow: UnitOfWork, core: Core) -> None:
    at = event.at
    if isinstance(event, ev.TicketOpened):
        policy = await choose_policy(ticket, uow, core)
        ticket.sla_policy = policy.name
        calendar = core.policy.sla.calendar_for(policy, ticket.queue)
        for target in ("first_response", "resolution"):
            clock.start_target(ticket, target, policy, calendar, ticket.created_at)
        return
    policy, calendar = policy_of(ticket, core)
    if isinstance(event, ev.AgentReplied):
        if event.first_response:
            ticket.first_response_secs = clock.business_seconds(ticket, calendar, at)
            clock.clear_target(ticket, "first_response")
        clock.clear_target(ticket, "next_response")
    elif isinstance(event, ev.CustomerMessageAdded):
        running = ticket.status in clock.RUNNING and ticket.paused_at is None
        if running and ticket.next_response_due is None and customer_waiting(ticket):
            # The oldest unanswered message sets the clock; later ones do not push it back.
            clock.start_target(ticket, "next_response", policy, calendar, at)
    elif isinstance(event, ev.StatusChanged):
        old, new = Status(event.old or ticket.status), Status(event.new or ticket.status)
        _status_changed(ticket, old, new, at, policy, calendar, core)
    elif isinstance(event, ev.TicketClaimed | ev.TicketAssigned):
        timers = core.policy.sla.queue(ticket.queue)
        if event.new and ticket.assignee_id is not None and timers.claim_set:
            timeout = timers.claim_timeout
            ticket.claim_expires_at = at + timeout if timeout else None
    elif isinstance(event, ev.TicketSnoozed):
        ticket.remind_at = event.until


def _status_changed(
    ticket: Ticket,
    old: Status,
    new: Status,
    at: datetime,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    core: Core,
) -> None:
    timers = core.policy.sla.queue(ticket.queue)
    if new == Status.MERGED:
        clock.clear_all(ticket)
        ticket.remind_at = ticket.auto_close_at = None
        return
    if new in clock.RUNNING:
        ticket.remind_at = ticket.auto_close_at = None
        if old not in clock.RUNNING:
            clock.resume(ticket, calendar, at)
            if ticket.next_response_due is None and customer_waiting(ticket):
                clock.start_target(ticket, "next_response", policy, calendar, at)
        return
    clock.pause(ticket, at)
    if new in _DONE and old not in _DONE:
        ticket.resolution_secs = clock.business_seconds(ticket, calendar, at)
        clock.clear_target(ticket, "next_response")  # nobody is waiting on us now
    ticket.remind_at = ticket.auto_close_at = None
    if new == Status.PENDING:
        if timers.remind_after:
            ticket.remind_at = at + timers.remind_after
        if timers.auto_resolve_after:
            ticket.auto_close_at = at + timers.auto_resolve_after
    elif new == Status.RESOLVED and timers.auto_close_after:
        ticket.auto_close_at = at + timers.auto_close_after
