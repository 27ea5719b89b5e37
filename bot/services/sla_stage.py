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
from bot.domain.sla_rebase import rebase
from bot.domain.status import Status
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

_DONE = (Status.RESOLVED, Status.CLOSED)
# events that move due times or timers (StatusChanged, claims and assignments are FieldChanged)
_TIMED = (ev.AgentReplied, ev.CustomerMessageAdded, ev.FieldChanged, ev.TicketSnoozed)


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
    return core.policy.sla.named(ticket.sla_policy) or await _matching(ticket, uow, core)


async def _matching(ticket: Ticket, uow: UnitOfWork, core: Core) -> SlaPolicy:
    """The first policy matching the ticket and its customer (the fallback if none does)."""
    cfg = core.policy.sla
    customer = await uow.customers.get(ticket.customer_id)
    return cfg.select(
        priority=ticket.priority.value,
        queue=ticket.queue,
        tier=customer.tier if customer else None,
        domain=customer.email if customer else None,
        channel=ticket.origin,
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
    if not isinstance(event, _TIMED):
        return  # e.g. the SLA alarms' own events, hundreds per sweep: nothing to recompute
    policy, calendar = policy_of(ticket, core)
    if isinstance(event, ev.AgentReplied):
        if event.first_response:
            ticket.first_response_secs = clock.business_seconds(ticket, calendar, at)
            clock.clear_target(ticket, "first_response")
        await _next_response_met(ticket, event, uow)
        clock.clear_target(ticket, "next_response")
    elif isinstance(event, ev.CustomerMessageAdded):
        running = ticket.status in clock.RUNNING and ticket.paused_at is None
        if running and ticket.next_response_due is None and clock.customer_waiting(ticket):
            # The customer started waiting with their first message after our last public
            # reply: that message starts the clock; later ones do not push it back.
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
    elif type(event) is ev.FieldChanged and event.field_name in ("priority", "queue"):
        await _reselect(event, ticket, uow, core)


async def _next_response_met(ticket: Ticket, event: ev.AgentReplied, uow: UnitOfWork) -> None:
    """A reply ends a next-response cycle, and the cycle's outcome is recorded so reports can
    count it (clearing the due time alone would leave no trace): met when in time; breached
    when late and the sweep had not fired the breach yet (its row is taken here, so it never
    fires, and a sweep firing it at this moment is the one that records it instead)."""
    due = ticket.next_response_due
    if due is None:
        return
    if event.at <= due:
        kind, data = "sla_met", {"due": due.isoformat()}
    elif (at := ticket.sla_timers.get("next_response:breach")) is not None and (
        await uow.alarms.take(ticket.id, "next_response:breach", at)
    ):
        kind, data = "sla_breached", {"due": due.isoformat(), "answered": event.at.isoformat()}
    else:
        return  # the sweep recorded this breach when it fired
    uow.history.add(
        ticket_id=ticket.id, at=event.at, actor=event.actor, kind=kind, old=None,
        new="next_response", data=data,
    )  # fmt: skip


async def _reselect(event: ev.FieldChanged, ticket: Ticket, uow: UnitOfWork, core: Core) -> None:
    """Priority or queue changed: the first policy matching the ticket now applies (unless a
    routing rule named the policy), and the queue may bring another calendar. Due times are
    recomputed from the business time already used (bot/domain/sla_rebase.py)."""
    cfg = core.policy.sla
    old_queue = str(event.old) if event.field_name == "queue" else ticket.queue
    old = cfg.named(ticket.sla_policy) or cfg.fallback
    old_calendar = cfg.calendar_for(old, old_queue)
    new = old if await uow.history.routed_sla(ticket.id) else await _matching(ticket, uow, core)
    new_calendar = cfg.calendar_for(new, ticket.queue)
    if new.name == old.name and new_calendar.name == old_calendar.name:
        return
    rebase(ticket, old, old_calendar, new, new_calendar, event.at)
    if new.name != old.name:
        ticket.sla_policy = new.name
        uow.history.add(
            ticket_id=ticket.id, at=event.at, actor=event.actor, kind="changed", old=old.name,
            new=new.name, data={"field": "sla_policy", "reason": f"{event.field_name} changed"},
        )  # fmt: skip


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
            if ticket.next_response_due is None and clock.customer_waiting(ticket):
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
