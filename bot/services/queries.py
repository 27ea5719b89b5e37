"""Read-only answers: show, history, list/search, mytickets and a customer's status."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import sla_clock
from bot.domain.durations import humanize
from bot.domain.errors import DomainError, Forbidden, NotFound
from bot.domain.model import Role, Ticket
from bot.domain.sla import parse_duration
from bot.domain.status import ACTIVE
from bot.messages import Identity, Reply
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

FILTER_KEYS = ("status", "priority", "queue", "tag", "assignee", "customer", "due")


def summary(t: Ticket) -> str:
    who = t.assignee_name or "unassigned"
    tags = f" [{', '.join(t.tags)}]" if t.tags else ""
    return (
        f"{t.ref} · {t.status.value} · {t.priority.value} · {t.queue} · {who} · {t.subject}{tags}"
    )


async def show(uow: UnitOfWork, core: Core, ticket_id: int) -> Reply:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket {core.policy.refs.format(ticket_id)}.")
    sources = await uow.tickets.merged_sources(ticket.id)
    ids = [ticket.id, *(s.id for s in sources)]
    customer = await uow.customers.get(ticket.customer_id)
    names = [customer.name if customer else "?"]
    for s in sources:
        other = await uow.customers.get(s.customer_id)
        if other and other.name not in names:
            names.append(other.name)
    lines = [
        summary(ticket),
        f"customers: {', '.join(names)} · opened {ticket.created_at:%Y-%m-%d %H:%M} UTC",
    ]
    contacts = await uow.customers.contacts(ticket.customer_id)
    if contacts:
        lines.append("contact: " + "; ".join(contacts))
    if ticket.merged_into_id:
        lines.append(f"merged into {core.policy.refs.format(ticket.merged_into_id)}")
    if sources:
        lines.append("merged here: " + ", ".join(s.ref for s in sources))
    links = await uow.tickets.links(ticket.id)
    if links:
        lines.append("linked: " + ", ".join(core.policy.refs.format(i) for i, _ in links))
    for m in await uow.messages.for_tickets(ids, include_internal=True):
        tag = {"internal": " (note)", "system": " (system)"}.get(m.visibility, "")
        lines.append(f"  {m.author_name}{tag}: {m.text}")
    for row in await uow.outbox.for_ticket(ticket.id):
        lines.append(f"  ⚠ delivery {row.kind} to {row.platform} failed: {row.last_error}")
    return Reply(True, "\n".join(lines), ticket.ref)


async def history(uow: UnitOfWork, core: Core, ticket_id: int) -> Reply:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket {core.policy.refs.format(ticket_id)}.")
    sources = await uow.tickets.merged_sources(ticket.id)
    rows = await uow.history.for_tickets([ticket.id, *(s.id for s in sources)])
    lines = [f"History of {ticket.ref}:"]
    for r in rows:
        change = ""
        if r.old is not None or r.new is not None:
            change = f" {r.old or '—'} → {r.new or '—'}"
        field = (r.data or {}).get("field")
        where = f" ({core.policy.refs.format(r.ticket_id)})" if r.ticket_id != ticket.id else ""
        label = f"{r.kind}:{field}" if field and field != r.kind else r.kind
        lines.append(f"  {r.at:%Y-%m-%d %H:%M} {r.actor} {label}{change}{where}")
    return Reply(True, "\n".join(lines), ticket.ref)


async def search(uow: UnitOfWork, core: Core, actor_identity: Identity, query: str) -> Reply:
    """`list`/`search` with `key:value` filters and free text."""
    filters: dict[str, list[str]] = {}
    words = []
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key in FILTER_KEYS and value:
            filters.setdefault(key, []).append(value)
        else:
            words.append(token)
    kwargs: dict[str, object] = {
        "statuses": filters.get("status", []),
        "priorities": filters.get("priority", []),
        "queues": filters.get("queue", []),
        "tags": filters.get("tag", []),
        "text": " ".join(words) or None,
    }
    if "mine" in filters.get("queue", []):
        # `queue:mine`: the queues the agent works; an agent without queues works them all
        me = await uow.agents.by_identity(actor_identity.platform, actor_identity.external_id)
        mine = list(me.queues) if me and me.queues else None
        named = [q for q in filters["queue"] if q != "mine"]
        filters["queue"] = [*named, *mine] if mine is not None else []
        kwargs["queues"] = filters["queue"]
    if filters.get("due"):
        return await breaching_soon(uow, core, filters["due"][-1], filters.get("queue", []))
    if not filters.get("status") and not words:
        kwargs["statuses"] = [s.value for s in ACTIVE]
    for who in filters.get("assignee", []):
        if who in ("none", "unassigned"):
            kwargs["unassigned"] = True
            continue
        agent = (
            await uow.agents.by_identity(actor_identity.platform, actor_identity.external_id)
            if who == "me"
            else await uow.agents.find(actor_identity.platform, who)
        )
        if agent is None:
            raise NotFound(f"No agent called {who}.")
        kwargs["assignee_id"] = agent.id
    customer_ids = []
    for handle in filters.get("customer", []):
        customer = await uow.customers.find(handle)
        if customer is None:
            raise NotFound(f"No customer called {handle}.")
        customer_ids.append(customer.id)
    kwargs["customer_ids"] = customer_ids
    found = await uow.tickets.search(**kwargs)
    if not found:
        return Reply(True, "No tickets match.")
    return Reply(True, "\n".join(summary(t) for t in found))


async def my_tickets(uow: UnitOfWork, core: Core, identity: Identity) -> Reply:
    customer = await uow.customers.by_identity(identity.platform, identity.external_id)
    if customer is None:
        return Reply(True, "You have no tickets yet. Just write to us to open one.")
    found = await uow.tickets.search(customer_ids=[customer.id], limit=50)
    if not found:
        return Reply(True, "You have no tickets yet. Just write to us to open one.")
    return Reply(True, "\n".join(f"{t.ref} · {t.status.value} · {t.subject}" for t in found))


async def customer_status(
    uow: UnitOfWork, core: Core, identity: Identity, ticket_id: int, role: Role
) -> Reply:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket {core.policy.refs.format(ticket_id)}.")
    if role == Role.CUSTOMER:
        customer = await uow.customers.by_identity(identity.platform, identity.external_id)
        if customer is None or customer.id != ticket.customer_id:
            raise Forbidden(f"{ticket.ref} is not one of your tickets.")
    who = f", {ticket.assignee_name} is on it" if ticket.assignee_name else ""
    return Reply(
        True, f"{ticket.ref} “{ticket.subject}” is {ticket.status.value}{who}.", ticket.ref
    )


async def breaching_soon(
    uow: UnitOfWork, core: Core, window: str, queues: list[str], limit: int = 20
) -> Reply:
    """`list due:1h`: running tickets whose next SLA due time (first response, next response
    or resolution) falls within `window` from now or has passed, soonest first."""
    try:
        span = parse_duration(window)
    except ValueError as exc:
        raise DomainError(f"due: takes a duration such as 30m, 1h or 2d, not {window!r}.") from exc
    now = core.clock.now()
    due: list[tuple[datetime, str, Ticket]] = []
    for ticket in await uow.tickets.due_before(now + span, queues=queues, limit=limit):
        earliest = sla_clock.earliest_due(ticket)
        if earliest is not None and earliest[1] <= now + span:
            due.append((earliest[1], earliest[0], ticket))
    if not due:
        return Reply(True, f"Nothing is due within {humanize(span)}.")
    due.sort(key=lambda d: (d[0], d[2].id))
    lines = []
    for at, target, ticket in due[:limit]:
        left = at - now
        when = (
            f"breached {humanize(-left)} ago"
            if left <= timedelta(0)
            else f"due in {humanize(left)}"
        )
        who = ticket.assignee_name or "unassigned"
        lines.append(
            f"{ticket.ref} · {target.replace('_', ' ')} {when} ({at:%H:%M} UTC) · "
            f"{ticket.priority.value} · {ticket.queue} · {who} · {ticket.subject}"
        )
    return Reply(True, "\n".join(lines))
