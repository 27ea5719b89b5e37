"""Read-only answers: show, history, list/search, mytickets and a customer's status."""

from __future__ import annotations

from bot.domain.errors import Forbidden, NotFound
from bot.domain.model import Role, Ticket
from bot.domain.status import ACTIVE
from bot.messages import Identity, Reply
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

FILTER_KEYS = ("status", "priority", "queue", "tag", "assignee", "customer")


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
