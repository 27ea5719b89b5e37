"""Handlers for agent and customer commands that change a ticket."""

from __future__ import annotations

from typing import Any

from bot.domain import canned
from bot.domain import commands as c
from bot.domain import events as ev
from bot.domain.errors import Forbidden, IllegalTransition, NotFound
from bot.domain.model import Agent, Role, Ticket
from bot.domain.status import Priority, Status, Visibility, allowed_from
from bot.messages import Reply
from bot.services import assignment
from bot.services.context import Actor, Core
from bot.services.deliveries import Deliveries
from bot.services.ingest import follow_merges
from bot.services.unit_of_work import UnitOfWork


async def load(uow: UnitOfWork, core: Core, ticket_id: int) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket {core.policy.refs.format(ticket_id)}.")
    return ticket


async def agent_and_ticket(
    cmd: c.TicketCommand, uow: UnitOfWork, core: Core, role: Role = Role.AGENT
) -> tuple[Actor, Agent, Ticket]:
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(role)
    return actor, agent, await load(uow, core, cmd.ticket_id)


def record_reply(
    ticket: Ticket,
    agent: Agent,
    text: str,
    uow: UnitOfWork,
    core: Core,
    *,
    external_id: str | None = None,
    platform: str = "core",
    source_conversation: str | None = None,
    attachments: tuple[dict[str, Any], ...] = (),
) -> bool:
    now = core.clock.now()
    first = ticket.agent_replied(agent, at=now)
    uow.messages.add(
        ticket_id=ticket.id,
        platform=platform,
        external_id=external_id,
        author_kind="agent",
        author_id=agent.id,
        author_name=agent.name,
        visibility=Visibility.PUBLIC.value,
        text=text,
        at=now,
        attachments=list(attachments) or None,
    )
    ticket._record(
        ev.AgentReplied(
            ticket.id,
            agent.name,
            now,
            text=text,
            first_response=first,
            source_conversation=source_conversation,
            attachments=attachments,
        )
    )
    return first


def record_note(
    ticket: Ticket,
    agent: Agent,
    text: str,
    uow: UnitOfWork,
    core: Core,
    *,
    external_id: str | None = None,
    platform: str = "core",
    echo: bool = True,
    attachments: tuple[dict[str, Any], ...] = (),
) -> None:
    now = core.clock.now()
    ticket.agent_acted(agent.id)
    uow.messages.add(
        ticket_id=ticket.id,
        platform=platform,
        external_id=external_id,
        author_kind="agent",
        author_id=agent.id,
        author_name=agent.name,
        visibility=Visibility.INTERNAL.value,
        text=text,
        at=now,
        attachments=list(attachments) or None,
    )
    ticket._record(ev.NoteAdded(ticket.id, agent.name, now, text=text, echo=echo))


async def claim(cmd: c.ClaimTicket, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    ticket.claim(agent, at=core.clock.now(), timeout=core.policy.claim_timeout)
    return Reply(True, f"You claimed {ticket.ref}: {ticket.subject}", ticket.ref)


async def unclaim(cmd: c.UnclaimTicket, uow: UnitOfWork, core: Core) -> Reply:
    actor, agent, ticket = await agent_and_ticket(cmd, uow, core)
    if ticket.assignee_id not in (None, agent.id) and not actor.role.at_least(Role.LEAD):
        raise Forbidden(
            f"{ticket.ref} is assigned to {ticket.assignee_name}; "
            "only they or a lead can unclaim it."
        )
    ticket.unassign(actor=agent.name, at=core.clock.now(), reason="unclaimed")
    return Reply(True, f"{ticket.ref} is back in queue {ticket.queue}.", ticket.ref)


async def assign(cmd: c.AssignTicket, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    target = await uow.agents.find(cmd.actor.platform, cmd.agent_handle)
    if target is None or not target.active:
        raise NotFound(f"No agent called {cmd.agent_handle}.")
    ticket.assign(target, actor=agent.name, at=core.clock.now(), timeout=core.policy.claim_timeout)
    return Reply(True, f"{ticket.ref} assigned to {target.name}.", ticket.ref)


async def transfer(cmd: c.TransferTicket, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    if await uow.queues.get(cmd.queue) is None:
        names = ", ".join(q.name for q in await uow.queues.list())
        raise NotFound(f"No queue called {cmd.queue}. Queues: {names}.")
    ticket.transfer(cmd.queue, actor=agent.name, at=core.clock.now())
    return Reply(True, f"{ticket.ref} moved to queue {cmd.queue}.", ticket.ref)


async def reply(cmd: c.ReplyToTicket, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    ticket = await follow_merges(uow, ticket) or ticket
    text = cmd.text
    if cmd.canned is not None:
        body = await uow.canned.get(cmd.canned)
        if body is None:
            raise NotFound(f"No canned answer called {cmd.canned}. Try /canned list.")
        customer = await uow.customers.get(ticket.customer_id)
        text = canned.render(
            body,
            {
                "customer_name": customer.name if customer else "",
                "ticket_ref": ticket.ref,
                "agent_name": agent.name,
                "subject": ticket.subject,
                "queue": ticket.queue,
                "priority": ticket.priority.value,
            },
        )
    first = record_reply(
        ticket,
        agent,
        text,
        uow,
        core,
        source_conversation=cmd.source_conversation,
        attachments=cmd.attachments,
    )
    note = " (first response)" if first else ""
    return Reply(True, f"Reply sent on {ticket.ref}{note}.", ticket.ref, {"text": text})


async def note(cmd: c.AddNote, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    record_note(ticket, agent, cmd.text, uow, core, echo=cmd.echo)
    return Reply(True, f"Internal note added to {ticket.ref}.", ticket.ref)


async def set_priority(cmd: c.SetPriority, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    ticket.set_priority(Priority(cmd.priority), actor=agent.name, at=core.clock.now())
    ticket.agent_acted(agent.id)
    return Reply(True, f"{ticket.ref} priority is now {cmd.priority}.", ticket.ref)


async def change_tags(cmd: c.ChangeTags, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    now = core.clock.now()
    if cmd.add:
        ticket.add_tag(cmd.tag, actor=agent.name, at=now)
    else:
        ticket.remove_tag(cmd.tag, actor=agent.name, at=now)
    ticket.agent_acted(agent.id)
    tags = ", ".join(ticket.tags) or "none"
    return Reply(True, f"{ticket.ref} tags: {tags}.", ticket.ref)


async def change_status(cmd: c.ChangeStatus, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    ticket.change_status(
        Status(cmd.status), actor=agent.name, at=core.clock.now(), reason=cmd.reason
    )
    ticket.agent_acted(agent.id)
    return Reply(True, f"{ticket.ref} is now {cmd.status}.", ticket.ref)


async def reopen(cmd: c.ReopenTicket, uow: UnitOfWork, core: Core) -> Reply:
    _, agent, ticket = await agent_and_ticket(cmd, uow, core)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED, Status.PENDING, Status.ON_HOLD):
        raise IllegalTransition(
            f"{ticket.ref} is {ticket.status.value}; only pending, on-hold, resolved or closed "
            f"tickets can be reopened (allowed now: {', '.join(allowed_from(ticket.status))})."
        )
    ticket.change_status(Status.OPEN, actor=agent.name, at=core.clock.now(), reason="reopened")
    return Reply(True, f"{ticket.ref} reopened.", ticket.ref)


async def customer_close(cmd: c.CustomerCloseTicket, uow: UnitOfWork, core: Core) -> Reply:
    """A customer may close only their own ticket; it becomes resolved."""
    ticket = await load(uow, core, cmd.ticket_id)
    customer = await uow.customers.by_identity(cmd.actor.platform, cmd.actor.external_id)
    if customer is None or customer.id != ticket.customer_id:
        raise Forbidden(f"{ticket.ref} is not one of your tickets.")
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return Reply(True, f"{ticket.ref} is already {ticket.status.value}.", ticket.ref)
    ticket.change_status(
        Status.RESOLVED, actor="customer", at=core.clock.now(), reason="closed by customer"
    )
    return Reply(
        True, f"Thanks! {ticket.ref} is resolved. Write again any time to reopen it.", ticket.ref
    )


async def merge(cmd: c.MergeTickets, uow: UnitOfWork, core: Core) -> Reply:
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(Role.AGENT)
    source = await load(uow, core, cmd.source_id)
    target = await load(uow, core, cmd.target_id)
    source.merge_into(target, actor=agent.name, at=core.clock.now())
    return Reply(True, f"{source.ref} merged into {target.ref}.", target.ref)


async def link(cmd: c.LinkTickets, uow: UnitOfWork, core: Core) -> Reply:
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(Role.AGENT)
    a = await load(uow, core, cmd.a_id)
    b = await load(uow, core, cmd.b_id)
    if a.id == b.id:
        raise IllegalTransition("A ticket cannot be linked to itself.")
    now = core.clock.now()
    if not await uow.tickets.link(a.id, b.id, "related", now):
        return Reply(True, f"{a.ref} and {b.ref} are already linked.", a.ref)
    a._record(ev.TicketLinked(a.id, agent.name, now, other_ref=b.ref))
    b._record(ev.TicketLinked(b.id, agent.name, now, other_ref=a.ref))
    return Reply(True, f"Linked {a.ref} and {b.ref}.", a.ref)


async def expire_claim(cmd: c.ExpireClaim, uow: UnitOfWork, core: Core) -> Reply | None:
    """A claim nobody acted on returns the ticket to its queue (driven by the scheduler)."""
    ticket = await uow.tickets.get(cmd.ticket_id)
    if ticket is None or ticket.claim_expires_at is None or ticket.claim_expires_at > cmd.now:
        return None
    who, who_id = ticket.assignee_name, ticket.assignee_id
    ticket.unassign(actor="deskbot", at=cmd.now, reason="claim timed out")
    # the queue's auto-assignment strategy picks someone else (issue 7)
    outcome = await assignment.auto_assign(ticket, uow, core, exclude=[who_id] if who_id else [])
    where = (
        f"was reassigned to {outcome.agent.name}"
        if outcome.agent
        else f"went back to queue {ticket.queue}"
    )
    Deliveries(uow, core).to_agents(
        ticket, "system", f"{ticket.ref} {where}: {who} did not act on it in time."
    )
    return Reply(True, f"{ticket.ref} claim expired", ticket.ref)
