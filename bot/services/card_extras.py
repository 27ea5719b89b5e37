"""Triage-card data of many tickets at once: customer, failed deliveries, waiting for an agent,
articles offered, rating — one query per kind of data, not one per ticket (the dispatcher
draws the cards of a whole batch of outbox rows at once, bot/services/card_render.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.model import Ticket
from bot.domain.status import Status
from bot.services import assignment
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

WAITING = "no agent available: waiting in queue"
_DONE = (Status.RESOLVED, Status.CLOSED)


@dataclass
class CardData:
    """What the cards of a batch of tickets need besides the tickets themselves."""

    customers: dict[int, str] = field(default_factory=dict)
    failed: dict[int, int] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)
    articles: dict[int, list[Any]] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)

    def customer_name(self, ticket: Ticket) -> str:
        return self.customers.get(ticket.customer_id, "?")

    def extras(self, ticket: Ticket) -> dict[str, Any]:
        """Fields added to `card_fields`; absent keys mean nothing to show."""
        out: dict[str, Any] = {}
        if ticket.id in self.waiting:
            out["waiting"] = WAITING
        if articles := self.articles.get(ticket.id):
            out["articles"] = [{"id": a.id, "title": a.title} for a in articles]
        if ticket.status in _DONE and ticket.id in self.ratings:
            out["rating"] = self.ratings[ticket.id]
        return out


async def card_data(tickets: list[Ticket], uow: UnitOfWork, core: Core) -> CardData:
    """Everything the cards of ``tickets`` show besides the tickets' own fields."""
    data = CardData()
    if not tickets:
        return data
    ids = [t.id for t in tickets]
    await uow.customers.prefetch_ids([t.customer_id for t in tickets])
    for ticket in tickets:
        customer = await uow.customers.get(ticket.customer_id)
        if customer is not None:
            data.customers[ticket.customer_id] = customer.name
    data.failed = await uow.outbox.failed_counts(ids)
    data.waiting = await assignment.waiting_for_agents(tickets, uow, core)
    await uow.kb.prefetch_suggestions(ids)
    for tid in ids:
        data.articles[tid] = await uow.kb.suggestions(tid)
    data.ratings = await uow.ratings.scores([t.id for t in tickets if t.status in _DONE])
    return data


async def card_extras(ticket: Ticket, uow: UnitOfWork, core: Core) -> dict[str, Any]:
    """The extra card fields of one ticket (see :class:`CardData`)."""
    return (await card_data([ticket], uow, core)).extras(ticket)
