"""Triage-card fields from the automation layer: waiting for an agent, articles, rating."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Ticket
from bot.domain.status import Status
from bot.services import assignment
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

WAITING = "no agent available: waiting in queue"


async def card_extras(ticket: Ticket, uow: UnitOfWork, core: Core) -> dict[str, Any]:
    """Fields added to `card_fields`; absent keys mean nothing to show."""
    out: dict[str, Any] = {}
    if await assignment.waiting_for_agent(ticket, uow, core):
        out["waiting"] = WAITING
    articles = await uow.kb.suggestions(ticket.id)
    if articles:
        out["articles"] = [{"id": a.id, "title": a.title} for a in articles]
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        rating = await uow.ratings.get(ticket.id)
        if rating is not None and rating.score is not None:
            out["rating"] = rating.score
    return out
