"""Inbound messages become ticket messages: the hot path, kept to a few statements."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.domain import events as ev
from bot.domain.commands import IngestMessage, OpenTicket
from bot.domain.errors import DomainError, NotFound
from bot.domain.model import Customer, CustomerMessageOutcome, Ticket
from bot.domain.status import Status, Visibility
from bot.messages import InboundMessage, Reply
from bot.services import csat, threads
from bot.services.context import Actor, Core
from bot.services.unit_of_work import UnitOfWork

SUBJECT_MAX = 80


@dataclass(frozen=True)
class IngestResult:
    ticket_id: int
    ref: str
    created: bool = False
    duplicate: bool = False
    ignored: bool = False  # an automatic message on no ticket: deliberately not recorded


def subject_from(m: InboundMessage) -> str:
    if m.subject and m.subject.strip():
        return m.subject.strip()[:500]
    first = next((line.strip() for line in m.text.splitlines() if line.strip()), "")
    if not first:
        return "(no subject)"
    return first if len(first) <= SUBJECT_MAX else first[: SUBJECT_MAX - 1] + "…"


async def follow_merges(uow: UnitOfWork, ticket: Ticket | None) -> Ticket | None:
    """Messages to a merged ticket land on the ticket it was merged into."""
    hops = 0
    while ticket is not None and ticket.merged_into_id is not None and hops < 20:
        ticket = await uow.tickets.get(ticket.merged_into_id)
        hops += 1
    return ticket


async def prefetch_ingest(cmds: list[IngestMessage], uow: UnitOfWork, core: Core) -> None:
    """Group commit: answer the per-message lookups of a whole group in four queries."""
    inbound = [c.inbound for c in cmds]
    await uow.messages.prefetch([(m.platform, m.message_id) for m in inbound])
    authors = [(m.author.platform, m.author.external_id) for m in inbound]
    await uow.agents.prefetch(authors)
    await uow.customers.prefetch(authors)
    await uow.tickets.prefetch_conversations(
        [m.conversation.key for m in inbound if not m.ticket_ref and not m.internal]
    )
    await threads.prefetch(uow, inbound)  # email: In-Reply-To / References of the group


async def ingest_message(cmd: IngestMessage, uow: UnitOfWork, core: Core) -> IngestResult:
    """Record one inbound message exactly once and apply the ticket rules to it."""
    m = cmd.inbound
    refs = core.policy.refs
    seen = await uow.messages.seen(m.platform, m.message_id)
    if seen is not None:
        return IngestResult(seen, refs.format(seen), duplicate=True)
    actor = await core.actor(uow, m.author)
    ticket, thread = await _target_ticket(m, uow, core)
    if actor.is_agent:
        return await _agent_message(m, actor, ticket, uow, core)
    customer = await core.customer(uow, m.author)
    now = core.clock.now()
    created = False
    if (
        ticket is not None
        and m.ticket_ref
        and thread is None  # found by reference alone, not because it answers our mail
        and ticket.customer_id != customer.id
        and ticket.status in (Status.CLOSED, Status.MERGED)
    ):
        # Someone else's ticket by reference: never reopen a closed one on their word alone.
        ticket = None
    if m.automatic:
        return _automatic_message(m, customer, ticket, uow, now, thread)
    if ticket is None:
        ticket = await open_ticket(
            uow, core, customer, m, subject_from(m), now=now, acknowledge=m.attention is None
        )
        created = True
    elif await csat.intercept(m, ticket, customer, uow, core):
        # a survey answer (a lone digit) or "solved": not a message that reopens (issue 7)
        return IngestResult(ticket.id, ticket.ref)
    else:
        outcome = ticket.customer_wrote(at=now, reopen_window=core.policy.reopen_window)
        if outcome == CustomerMessageOutcome.NEEDS_NEW_TICKET:
            old = ticket
            ticket = await open_ticket(
                uow, core, customer, m, old.subject, linked_from=old, now=now
            )
            await uow.tickets.link(old.id, ticket.id, "related", now)
            created = True
    if m.attention and m.attention not in ticket.tags:
        ticket.add_tag(m.attention, actor="deskbot", at=now)  # shows on the card and in lists
    uow.messages.add(
        ticket_id=ticket.id,
        platform=m.platform,
        external_id=m.message_id,
        author_kind="customer",
        author_id=customer.id,
        author_name=customer.name,
        visibility=Visibility.PUBLIC.value,
        text=m.text,
        at=now,
        attachments=[asdict(a) for a in m.attachments] or None,
        flags=_flags(m, None if created else thread),
    )
    ticket._record(
        ev.CustomerMessageAdded(
            ticket.id,
            customer.name,
            now,
            text=m.text,
            relay_to_agents=not m.visible_to_agents,
            attachments=tuple(asdict(a) for a in m.attachments),
        )
    )
    return IngestResult(ticket.id, ticket.ref, created=created)


def _flags(m: InboundMessage, thread: str | None = None) -> dict[str, Any] | None:
    flags: dict[str, Any] = {}
    if thread:
        flags["thread"] = thread  # the conversation it answers (threads.thread_messages)
    if m.automatic:
        flags["automatic"] = m.automatic
    if m.attention:
        flags["attention"] = m.attention
    if m.headers:
        flags["headers"] = m.headers
    return flags or None


def _automatic_message(
    m: InboundMessage,
    customer: Customer,
    ticket: Ticket | None,
    uow: UnitOfWork,
    now: datetime,
    thread: str | None,
) -> IngestResult:
    """Machine-sent mail (auto-reply, list, bounce) is kept on its ticket, flagged; it never
    opens, reopens or acknowledges a ticket and wakes no one (loop protection)."""
    if ticket is None:
        return IngestResult(0, "", ignored=True)
    uow.messages.add(
        ticket_id=ticket.id,
        platform=m.platform,
        external_id=m.message_id,
        author_kind="customer",
        author_id=customer.id,
        author_name=customer.name,
        visibility=Visibility.PUBLIC.value,
        text=m.text,
        at=now,
        attachments=[asdict(a) for a in m.attachments] or None,
        flags=_flags(m, thread),
    )
    return IngestResult(ticket.id, ticket.ref)


async def open_ticket(
    uow: UnitOfWork,
    core: Core,
    customer: Customer,
    m: InboundMessage,
    subject: str,
    linked_from: Ticket | None = None,
    now: datetime | None = None,
    acknowledge: bool = True,
) -> Ticket:
    now = now or core.clock.now()
    ticket = Ticket(
        id=0,
        ref="",
        subject=subject,
        customer_id=customer.id,
        conversation_key=m.conversation.key,
        origin=m.platform,
        created_at=now,
        queue=core.policy.default_queue,
        updated_at=now,
        last_customer_message_at=now,
    )
    ticket._record(
        ev.TicketOpened(
            0,
            customer.name,
            now,
            subject=subject,
            linked_from=linked_from.id if linked_from else None,
            acknowledge=acknowledge,
        )
    )
    return await uow.tickets.add(ticket)


async def _target_ticket(
    m: InboundMessage, uow: UnitOfWork, core: Core
) -> tuple[Ticket | None, str | None]:
    """The message's ticket, and the conversation it answers when found by a thread id."""
    if m.thread_ids:
        found = await threads.find_thread(uow, m.platform, m.thread_ids)
        if found is not None:
            return await follow_merges(uow, found[0]), found[1]
    if m.ticket_ref:
        ticket = await uow.tickets.get(core.ticket_id(m.ticket_ref))
        if ticket is None:
            if m.automatic:
                return None, None  # an auto-reply quoting some ticket number: nothing to do
            raise NotFound(f"There is no ticket {m.ticket_ref}.")
    elif m.internal:
        key = await uow.refs_store.key_for_conversation(m.platform, m.conversation.key)
        ticket = await uow.tickets.get(int(key.split(":")[1])) if key else None
    else:
        ticket = await uow.tickets.latest_for_conversation(m.conversation.key)
    return await follow_merges(uow, ticket), None


async def _agent_message(
    m: InboundMessage, actor: Actor, ticket: Ticket | None, uow: UnitOfWork, core: Core
) -> IngestResult:
    """An agent writing in a ticket's conversation: a public reply, or a note where internal."""
    from bot.services.ticket_handlers import record_note, record_reply

    agent = actor.agent
    assert agent is not None
    if ticket is None:
        raise DomainError(
            "That isn't a ticket conversation. Write inside a ticket (e.g. "
            f"{agent.name}@{core.policy.refs.format(1)}: …) or use /reply with a ref."
        )
    if m.internal:
        record_note(
            ticket,
            agent,
            m.text,
            uow,
            core,
            external_id=m.message_id,
            platform=m.platform,
            echo=False,
            attachments=tuple(asdict(a) for a in m.attachments),
        )
    else:
        record_reply(
            ticket,
            agent,
            m.text,
            uow,
            core,
            external_id=m.message_id,
            platform=m.platform,
            source_conversation=m.conversation.key,
            attachments=tuple(asdict(a) for a in m.attachments),
        )
    return IngestResult(ticket.id, ticket.ref)


async def open_explicit(cmd: OpenTicket, uow: UnitOfWork, core: Core) -> Reply:
    """`/new subject`: a fresh ticket in the caller's conversation, even if one is open."""
    customer = await core.customer(uow, cmd.actor)
    now = core.clock.now()
    ticket = Ticket(
        id=0,
        ref="",
        subject=cmd.subject[:500],
        customer_id=customer.id,
        conversation_key=cmd.conversation_key,
        origin=cmd.platform,
        created_at=now,
        queue=core.policy.default_queue,
        updated_at=now,
        last_customer_message_at=now,
    )
    ticket._record(ev.TicketOpened(0, customer.name, now, subject=ticket.subject))
    await uow.tickets.add(ticket)
    return Reply(True, f"Opened {ticket.ref}: {ticket.subject}", ticket.ref)
