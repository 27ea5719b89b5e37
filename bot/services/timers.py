"""Timed work on one ticket, driven by the scheduler: claim timeout, SLA alarms, pending
reminder, auto-resolve, auto-close, end of a snooze. Also the `/snooze` command.

`fire_timers` first claims the ticket row (PostgreSQL: FOR UPDATE SKIP LOCKED), then re-reads
it and acts only on what is still due, and takes (deletes) the SLA alarm rows it fires, so two
workers sweeping at once act once.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import i18n
from bot.domain import commands as c
from bot.domain import events as ev
from bot.domain import sla_clock as clock
from bot.domain.errors import DomainError, IllegalTransition
from bot.domain.model import Ticket
from bot.domain.sla import parse_duration
from bot.domain.sla_clock import Alarm
from bot.domain.status import Status
from bot.messages import Identity, Reply
from bot.services import customer_texts
from bot.services.context import Core
from bot.services.deliveries import Deliveries
from bot.services.sla_alarms import ACTOR, fire_sla
from bot.services.sla_notices import SlaNotices
from bot.services.sla_texts import when
from bot.services.ticket_handlers import agent_and_ticket, expire_claim
from bot.services.unit_of_work import UnitOfWork

SYSTEM = Identity("system", "deskbot", "deskbot")


async def fire_timers(cmd: c.FireTimers, uow: UnitOfWork, core: Core) -> int:
    """Run whatever of the ticket's timers is due at ``cmd.now``; returns how many fired."""
    if not await uow.tickets.claim_for_timers(cmd.ticket_id):
        return 0  # another worker has it right now
    ticket = await uow.tickets.get(cmd.ticket_id)
    if ticket is None:
        return 0
    alarms = await uow.alarms.take_due([ticket.id], cmd.now)
    notices = SlaNotices(Deliveries(uow, core))
    fired = await _fire(ticket, alarms.get(ticket.id, []), cmd.now, uow, core, notices)
    await notices.write()
    return fired


async def fire_due_timers(cmd: c.FireDueTimers, uow: UnitOfWork, core: Core) -> int:
    """The scheduler's batch: claim and load the due tickets in one statement, take their due
    SLA alarm rows in another, run each one's timers (pure domain work, in memory), and let
    the unit of work write the result set-wise: the pipeline runs once for all their events,
    history and outbox rows go in one INSERT each, changed tickets in one UPDATE per changed
    column set (an SLA alarm alone changes no ticket). SLA notices of several tickets go out
    as one digest (bot/services/sla_notices.py). Returns how many timers fired."""
    fired = 0
    claimed = await uow.tickets.claim_many_for_timers(list(dict.fromkeys(cmd.ticket_ids)))
    alarms = await uow.alarms.take_due(claimed, cmd.now)
    notices = SlaNotices(Deliveries(uow, core))
    for ticket_id in claimed:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is not None:
            due = alarms.get(ticket_id, [])
            fired += await _fire(ticket, due, cmd.now, uow, core, notices)
    await notices.write()
    return fired


async def _fire(
    ticket: Ticket,
    alarms: list[Alarm],
    now: datetime,
    uow: UnitOfWork,
    core: Core,
    notices: SlaNotices,
) -> int:
    """Every timer of a claimed ticket that is due at ``now`` (re-read after the claim)."""
    fired = 0
    if ticket.claim_expires_at is not None and ticket.claim_expires_at <= now:
        fired += await _claim_timed_out(ticket, now, uow, core)
    if alarms:
        fired += await fire_sla(ticket, alarms, now, uow, core, notices)
    fired += await _automation(ticket, now, uow, core)
    clock.refresh(ticket)
    return fired


async def prefetch_timers(cmds: list[c.FireTimers], uow: UnitOfWork, core: Core) -> None:
    """Group of due tickets: claim and load them all in two statements, not two per ticket."""
    await uow.tickets.claim_many_for_timers(list(dict.fromkeys(cmd.ticket_id for cmd in cmds)))


async def _claim_timed_out(ticket: Ticket, now: datetime, uow: UnitOfWork, core: Core) -> int:
    who = ticket.assignee_id
    if who is None or ticket.status not in clock.RUNNING:
        ticket.claim_expires_at = None
        return 0
    await expire_claim(c.ExpireClaim(SYSTEM, ticket.id, now), uow, core)
    await Deliveries(uow, core).to_agent(
        who,
        ticket,
        "system",
        f"Your claim on {ticket.ref} timed out: it went back to queue {ticket.queue}.",
    )
    return 1


async def _automation(ticket: Ticket, now: datetime, uow: UnitOfWork, core: Core) -> int:
    fired = 0
    if ticket.status == Status.PENDING:
        if _due(ticket.remind_at, now):
            ticket.remind_at = None
            await _remind(ticket, now, uow, core)
            fired += 1
        if _due(ticket.auto_close_at, now):
            ticket.auto_close_at = None
            ticket.change_status(
                Status.RESOLVED, actor=ACTOR, at=now, reason="no reply from the customer"
            )
            _customer_notice(ticket, "auto_resolved")
            fired += 1
    elif ticket.status == Status.ON_HOLD:
        if _due(ticket.remind_at, now):
            ticket.remind_at = None
            ticket.change_status(Status.OPEN, actor=ACTOR, at=now, reason="snooze ended")
            text = f"⏰ {ticket.ref} is back from snooze: {ticket.subject}"
            out = Deliveries(uow, core)
            out.to_agents(ticket, "system", text)
            if ticket.assignee_id is not None:
                await out.to_agent(ticket.assignee_id, ticket, "system", text)
            fired += 1
    elif ticket.status == Status.RESOLVED and _due(ticket.auto_close_at, now):
        ticket.auto_close_at = None
        ticket.change_status(Status.CLOSED, actor=ACTOR, at=now, reason="resolved, no reply")
        fired += 1
    return fired


def _due(at: datetime | None, now: datetime) -> bool:
    return at is not None and at <= now


async def _remind(ticket: Ticket, now: datetime, uow: UnitOfWork, core: Core) -> None:
    lang = await customer_texts.ticket_language(ticket, uow, core)
    left = (ticket.auto_close_at - now) if ticket.auto_close_at else None
    if left is not None and left.total_seconds() > 0:
        wait = i18n.duration(left, lang)
        text = i18n.text(
            "pending_reminder", lang, ref=ticket.ref, subject=ticket.subject, wait=wait
        )
    else:
        text = (
            f"We're still waiting for your reply on {ticket.ref}: \u201c{ticket.subject}\u201d. "
            "Just reply here to continue."
        )
    await Deliveries(uow, core).to_customer(ticket, "system", text)
    ticket._record(ev.CustomerReminded(ticket.id, ACTOR, now))


def _customer_notice(ticket: Ticket, key: str) -> None:
    """Tell the customer with template ``key`` instead of the usual status notice."""
    for i in range(len(ticket.events) - 1, -1, -1):
        event = ticket.events[i]
        if isinstance(event, ev.StatusChanged):
            ticket.events[i] = dataclasses.replace(event, customer_notice=key)
            return


async def snooze(cmd: c.SnoozeTicket, uow: UnitOfWork, core: Core) -> Reply:
    """`/snooze T-3 2d`: on hold until then; it reopens by itself (the timers do it)."""
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    now = core.clock.now()
    if cmd.until <= now:
        raise IllegalTransition("Snooze until a time in the future, e.g. /snooze 2h.")
    if ticket.status != Status.ON_HOLD:
        ticket.change_status(Status.ON_HOLD, actor=agent.name, at=now, reason="snoozed")
    ticket.agent_acted(agent.id)
    ticket._record(ev.TicketSnoozed(ticket.id, agent.name, now, until=cmd.until))
    tz = core.policy.sla.timezone
    return Reply(
        True,
        f"{ticket.ref} is snoozed until {when(cmd.until, tz)}; it comes back by itself.",
        ticket.ref,
    )


def parse_until(text: str, now: datetime, tz: str) -> datetime:
    """`2h`, `3d`, `1h30m` from now, or a date/time (`2026-03-05T09:00`, in ``tz`` if naive)."""
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(
            f"{text!r} is not a time: use a duration like 2h or 3d, or 2026-03-05T09:00."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)
