"""SLA alarms of one ticket: warnings, breaches and the escalation ladder (run by the timers).

Each alarm's row is deleted in the same transaction as its history event and notices are
written, and a row is handed to one worker only (storage/alarms_repo.py), so an alarm fires
exactly once also with several workers.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import events as ev
from bot.domain import sla_clock as clock
from bot.domain.model import Agent, Role, Ticket
from bot.domain.sla import EscalationStep
from bot.domain.sla_clock import Alarm
from bot.services.context import Core
from bot.services.sla_notices import SlaNotices
from bot.services.sla_stage import policy_of
from bot.services.sla_texts import TARGET_LABEL, when
from bot.services.unit_of_work import UnitOfWork

ACTOR = "deskbot"


async def fire_sla(
    ticket: Ticket,
    due: list[Alarm],
    now: datetime,
    uow: UnitOfWork,
    core: Core,
    out: SlaNotices,
) -> int:
    """Fire the alarm rows ``due`` (taken from storage, oldest first) that ``ticket`` still
    plans; returns how many fired. A breach plans its escalation ladder; steps already due
    (a catch-up after downtime) fire in the same pass and get no row. Notices are collected
    in ``out``, which the caller writes once for its whole batch."""
    policy, calendar = policy_of(ticket, core)
    work = list(due)
    fired = 0
    while work:
        at, key = work.pop(0)
        if not clock.fires(ticket, key, at):
            continue  # stale: the target was met or moved, or the clock stopped
        target, kind, *rest = key.split(":")
        due_at = getattr(ticket, clock.due_field(target), None)
        label = TARGET_LABEL.get(target, target)
        due_text = when(due_at, calendar.tz) if due_at else "now"
        if kind == "warn":
            ticket.note(ev.SlaWarned(ticket.id, ACTOR, now, target=target, due=due_at))
            text = f"⏰ {ticket.ref} {label} is due {due_text}: {ticket.subject}"
            out.to_assignee_or_team(ticket, "warn", text)
        elif kind == "breach":
            ticket.note(ev.SlaBreached(ticket.id, ACTOR, now, target=target, due=due_at))
            text = f"🔥 {ticket.ref} missed its {label} target (due {due_text}): {ticket.subject}"
            out.to_team(ticket, "breach", text)
            if ticket.assignee_id is not None:
                out.to_agent(ticket.assignee_id, ticket, "breach", text)
            ladder = clock.schedule_escalation(ticket, target, policy, calendar, due_at or now)
            for alarm in sorted(a for a in ladder if a[0] <= now):
                uow.alarms.fired_here(ticket.id, *alarm)
                work.append(alarm)
            work.sort()
        elif kind == "esc" and rest and int(rest[0]) < len(policy.escalation):
            step_no = int(rest[0])
            step = policy.escalation[step_no]
            detail = await _escalate(ticket, target, step, now, uow, core, out)
            ticket.note(
                ev.SlaEscalated(
                    ticket.id,
                    ACTOR,
                    now,
                    target=target,
                    step=step_no + 1,
                    action=step.action,
                    detail=detail,
                )
            )
        fired += 1
    clock.refresh(ticket)
    return fired


async def _escalate(
    ticket: Ticket,
    target: str,
    step: EscalationStep,
    now: datetime,
    uow: UnitOfWork,
    core: Core,
    out: SlaNotices,
) -> str:
    """Run one ladder step; returns what was done, for the history row and the notice."""
    label = TARGET_LABEL.get(target, target)
    head = f"🚨 {ticket.ref} escalated ({label} breached)"
    if step.action == "notify_assignee":
        if ticket.assignee_id is None:
            out.to_team(ticket, "esc", f"{head}: nobody is assigned. {ticket.subject}")
            return "no assignee; told the team"
        out.to_agent(ticket.assignee_id, ticket, "esc", f"{head}: {ticket.subject}")
        return f"told {ticket.assignee_name}"
    if step.action == "notify_leads":
        leads = await _leads(ticket, step, uow, core)
        out.to_team(ticket, "esc", f"{head}: leads, please look. {ticket.subject}")
        for lead in leads:
            out.to_agent(lead.id, ticket, "esc", f"{head}: {ticket.subject}")
        return "told " + (", ".join(a.name for a in leads) or "the team (no leads found)")
    if step.action == "raise_priority":
        old, new = ticket.priority, ticket.priority.raised()
        if new == old:
            return f"priority already {old.value}"
        ticket.set_priority(new, actor=ACTOR, at=now)
        out.to_team(ticket, "esc", f"{head}: priority {old.value} → {new.value}")
        return f"priority {old.value} → {new.value}"
    if step.action == "reassign_queue":
        queue = step.target or ticket.queue
        if queue == ticket.queue:
            return f"already in queue {queue}"
        if await uow.queues.get(queue) is None:
            return f"no queue {queue}"
        ticket.transfer(queue, actor=ACTOR, at=now)
        out.to_team(ticket, "esc", f"{head}: moved to queue {queue}")
        return f"moved to queue {queue}"
    return await _reassign_agent(ticket, step, now, uow, core, out, head)


async def _reassign_agent(
    ticket: Ticket,
    step: EscalationStep,
    now: datetime,
    uow: UnitOfWork,
    core: Core,
    out: SlaNotices,
    head: str,
) -> str:
    if step.target is None:
        # No one named: back to the queue, where routing / auto-assignment picks someone.
        if ticket.assignee_id is None:
            return "already unassigned"
        ticket.unassign(actor=ACTOR, at=now, reason="SLA escalation")
        out.to_team(ticket, "esc", f"{head}: back to queue {ticket.queue}")
        return f"back to queue {ticket.queue}"
    agent = await uow.agents.by_name(step.target)
    if agent is None or not agent.active:
        return f"no agent {step.target}"
    if agent.id == ticket.assignee_id:
        return f"already with {agent.name}"
    ticket.assign(agent, actor=ACTOR, at=now, timeout=core.policy.claim_timeout)
    out.to_team(ticket, "esc", f"{head}: reassigned to {agent.name}")
    return f"reassigned to {agent.name}"


async def _leads(ticket: Ticket, step: EscalationStep, uow: UnitOfWork, core: Core) -> list[Agent]:
    """Who leads the ticket's queue: the step's target, the queue's `leads` setting, else every
    active lead or admin whose queues include it."""
    names = [step.target] if step.target else list(core.policy.sla.queue(ticket.queue).leads)
    if names:
        found = [await uow.agents.by_name(n) for n in names]
        return [a for a in found if a is not None and a.active]
    return [
        a
        for a in await uow.agents.list()
        if a.role.at_least(Role.LEAD) and (ticket.queue in a.queues or not a.queues)
    ]
