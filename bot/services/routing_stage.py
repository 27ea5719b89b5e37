"""Pipeline stage 1: route new tickets, auto-assign them, offer articles; first responder.

Runs right after the history stage, before SLA due times and notifications, so the ack and the
card already show the routed queue, priority and assignee. The changes it makes are domain
events too; they are written to history here and appended to the batch, so the later stages
(SLA, notifications, webhooks) handle them in this same pass and the card is posted once.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from bot.domain import canned
from bot.domain import events as ev
from bot.domain.automation_events import AutoReplied
from bot.domain.errors import DomainError
from bot.domain.model import Ticket
from bot.domain.routing import Decision, Facts, Rule, evaluate, parse_rules
from bot.domain.status import Priority
from bot.services import assignment, kb
from bot.services.context import Core
from bot.services.customer_texts import customer_language
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
ACTOR = assignment.ACTOR


async def routing_stage(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    for event in list(events):
        if isinstance(event, ev.TicketOpened):
            ticket = await uow.tickets.get(event.ticket_id)
            if ticket is not None:
                body = _first_message(events, ticket.id)
                await _absorbing(ticket, events, uow, core, _on_opened(ticket, body, uow, core))
        elif isinstance(event, ev.AgentReplied):
            ticket = await uow.tickets.get(event.ticket_id)
            if ticket is not None and ticket.assignee_id is None:
                await _absorbing(
                    ticket, events, uow, core, _first_responder(ticket, event, uow, core)
                )


async def _absorbing(
    ticket: Ticket, events: list[ev.Event], uow: UnitOfWork, core: Core, work: Any
) -> None:
    """Run `work`; record the events it caused in history and add them to this batch."""
    from bot.services.pipeline import record_history  # the pipeline imports this module

    before = len(ticket.events)
    await work
    new = ticket.events[before:]
    del ticket.events[before:]
    if new:
        await record_history(new, uow, core)
        events.extend(new)


def _first_message(events: list[ev.Event], ticket_id: int) -> str:
    for event in events:
        if isinstance(event, ev.CustomerMessageAdded) and event.ticket_id == ticket_id:
            return event.text
    return ""


async def rules_for(uow: UnitOfWork, core: Core) -> list[Rule]:
    """Settings-file rules first, then those added with `rules add`, in order."""
    cfg = core.policy.automation
    stored = [dict(r.definition, name=r.name) for r in await uow.rules.list()]
    added, _ = parse_rules(stored, source="command", tz=cfg.timezone)
    return [*cfg.rules, *added]


async def facts_for(ticket: Ticket, body: str, uow: UnitOfWork, core: Core) -> Facts:
    customer = await uow.customers.get(ticket.customer_id)
    email = customer.email if customer else None
    profile = core.policy.automation.profile(email)
    return Facts(
        platform=ticket.origin,
        conversation=ticket.conversation_key,
        subject=ticket.subject,
        body=body,
        customer_email=email,
        customer_tier=(customer.tier if customer else None) or (profile.tier if profile else None),
        customer_tags=profile.tags if profile else (),
        language=customer_language(customer, core),
        at=ticket.created_at,
    )


async def _on_opened(ticket: Ticket, body: str, uow: UnitOfWork, core: Core) -> None:
    rules = await rules_for(uow, core)
    if rules:
        decision = evaluate(rules, await facts_for(ticket, body, uow, core))
        if not decision.empty:
            await apply(decision, ticket, uow, core)
    if ticket.assignee_id is None:
        await assignment.auto_assign(ticket, uow, core)
    await kb.offer(ticket, body, uow, core)


async def apply(
    decision: Decision,
    ticket: Ticket,
    uow: UnitOfWork,
    core: Core,
    *,
    at: datetime | None = None,
    by: str = ACTOR,
    replies: bool = True,
) -> list[str]:
    """Carry out a routing decision; an action that cannot be done is logged and skipped.

    Returns what changed, in words. `replies=False` (re-routing an existing ticket) leaves out
    the canned answers: the customer got them when the ticket opened."""
    now = at or ticket.created_at
    data: dict[str, Any] = {"rules": decision.rules}
    if by != ACTOR:
        data["by"] = by
    steps: list[tuple[str, Any]] = []
    if decision.queue and decision.queue != ticket.queue:
        steps.append((f"queue {decision.queue}", _set_queue(ticket, decision.queue, uow, now)))
    if decision.priority and decision.priority != ticket.priority.value:
        steps.append(
            (
                f"priority {decision.priority}",
                _call(ticket.set_priority, Priority(decision.priority), now),
            )
        )
    for tag in decision.tags:
        if tag not in ticket.tags:
            steps.append((f"tag {tag}", _call(ticket.add_tag, tag, now)))
    if decision.assign:
        steps.append(
            (f"assigned {decision.assign}", _assign(ticket, decision.assign, uow, core, now))
        )
    for name in decision.replies if replies else ():
        steps.append((f"reply {name}", _canned_reply(ticket, name, uow, core)))
    done: list[str] = []
    for label, step in steps:
        before = len(ticket.events)
        try:
            await step
        except Exception:
            log.exception("%s: routing action %s failed; skipped", ticket.ref, label)
            continue
        if len(ticket.events) > before:
            done.append(label)
    if decision.sla and decision.sla != ticket.sla_policy:
        data["sla"] = decision.sla
        ticket.sla_policy = decision.sla
        done.append(f"SLA policy {decision.sla}")
    uow.history.add(
        ticket_id=ticket.id, at=now, actor=ACTOR, kind="routed", old=None,
        new=", ".join(decision.rules)[:500], data=data,
    )  # fmt: skip
    return done


async def reroute(ticket: Ticket, by: str, uow: UnitOfWork, core: Core) -> list[str] | None:
    """Run the rules again on a ticket (on demand, e.g. after its text or customer changed).

    None when no rule matches; otherwise what changed (maybe nothing). When the ticket lands
    in another queue unassigned, that queue's assignment strategy picks an agent."""
    rules = await rules_for(uow, core)
    body = await _opening_text(ticket, uow)
    facts = dataclasses.replace(await facts_for(ticket, body, uow, core), at=core.clock.now())
    decision = evaluate(rules, facts)
    if decision.empty:
        return None
    queue = ticket.queue
    done = await apply(decision, ticket, uow, core, at=core.clock.now(), by=by, replies=False)
    if ticket.queue != queue and ticket.assignee_id is None:
        await assignment.auto_assign(ticket, uow, core)
    return done


async def _opening_text(ticket: Ticket, uow: UnitOfWork) -> str:
    """What the customer first wrote: rules match the body as they did when it opened."""
    for row in await uow.messages.for_tickets([ticket.id], include_internal=False):
        if row.author_kind == "customer":
            return str(row.text or "")
    return ""


async def _call(method: Any, value: Any, at: Any) -> None:
    try:
        method(value, actor=ACTOR, at=at)
    except DomainError as exc:
        log.info("routing: %s", exc)


async def _set_queue(ticket: Ticket, queue: str, uow: UnitOfWork, at: datetime) -> None:
    if await uow.queues.get(queue) is None:
        log.warning("%s: routing names queue %r, which does not exist", ticket.ref, queue)
        return
    ticket.transfer(queue, actor=ACTOR, at=at)


async def _assign(ticket: Ticket, name: str, uow: UnitOfWork, core: Core, at: datetime) -> None:
    agent = await uow.agents.by_name(name.lstrip("@"))
    if agent is None or not agent.active:
        log.warning("%s: routing assigns to %r, who is not an agent", ticket.ref, name)
        return
    if ticket.assignee_id == agent.id:
        return
    ticket.assign(agent, actor=ACTOR, at=at, timeout=core.policy.claim_timeout)


async def _canned_reply(ticket: Ticket, name: str, uow: UnitOfWork, core: Core) -> None:
    """An automatic answer from a canned template, sent after the ack by the follow-ups stage."""
    body = await uow.canned.get(name)
    if body is None:
        log.warning("%s: routing replies with canned %r, which does not exist", ticket.ref, name)
        return
    customer = await uow.customers.get(ticket.customer_id)
    sender = core.policy.team_alias or ACTOR
    text = canned.render(
        body,
        {
            "customer_name": customer.name if customer else "",
            "ticket_ref": ticket.ref,
            "agent_name": sender,
            "subject": ticket.subject,
            "queue": ticket.queue,
            "priority": ticket.priority.value,
        },
    )
    ticket._record(AutoReplied(ticket.id, sender, core.clock.now(), text=text, canned=name))


async def _first_responder(
    ticket: Ticket, event: ev.AgentReplied, uow: UnitOfWork, core: Core
) -> None:
    """ "First responder takes it": the first agent to answer publicly becomes the assignee."""
    settings = await assignment.queue_settings(uow, ticket.queue)
    if not core.policy.automation.queue_first_responder(settings):
        return
    agent = await uow.agents.by_name(event.actor)
    if agent is None:
        return
    try:
        ticket.assign(agent, actor=agent.name, at=event.at, timeout=None)
    except DomainError as exc:
        log.info("%s: first responder not assigned: %s", ticket.ref, exc)
