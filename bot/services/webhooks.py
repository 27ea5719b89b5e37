"""Outbound lifecycle webhooks: ticket events become outbox rows for the "webhook" adapter.

The JSON body is fixed when the row is written, so a retried delivery sends (and signs) the very
same bytes; receivers de-duplicate by its `id`. Rows of one ticket and URL share a conversation
key, so they are delivered in order.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.domain import events as ev
from bot.domain.automation_events import TicketRated
from bot.domain.model import Ticket
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

PLATFORM = "webhook"


def event_names(event: ev.Event) -> list[str]:
    """The webhook events a domain event stands for (none for most)."""
    if isinstance(event, ev.TicketOpened):
        return ["ticket.created"]
    if isinstance(event, ev.TicketAssigned | ev.TicketClaimed):
        return ["ticket.assigned"]
    if isinstance(event, ev.AgentReplied):
        return ["ticket.replied"]
    if isinstance(event, ev.StatusChanged):
        return ["ticket.status_changed", *(["ticket.closed"] if event.new == "closed" else [])]
    if isinstance(event, TicketRated):
        return ["ticket.rated"]
    if event.kind == "sla_warned":
        return ["ticket.sla_warning"]
    if event.kind == "sla_breached":
        return ["ticket.sla_breach"]
    return []


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "queue": ticket.queue,
        "assignee": ticket.assignee_name,
        "tags": list(ticket.tags),
        "channel": ticket.origin,
        "customer_id": ticket.customer_id,
        "created_at": ticket.created_at.isoformat(),
    }


def event_data(event: ev.Event) -> dict[str, Any]:
    old, new, data = event.history()
    out: dict[str, Any] = {"actor": event.actor, **data}
    if old is not None or new is not None:
        out.update(old=old, new=new)
    if isinstance(event, ev.AgentReplied):
        out["text"] = event.text
    if isinstance(event, TicketRated):
        out.update(score=event.score, comment=event.comment)
    return out


async def webhooks_stage(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    cfg = core.policy.automation
    if not cfg.webhook_urls:
        return
    now = core.clock.now()
    for event in events:
        names = [n for n in event_names(event) if n in cfg.webhook_events]
        if not names:
            continue
        ticket = await uow.tickets.get(event.ticket_id)
        if ticket is None:
            continue
        for name in names:
            for index, url in enumerate(cfg.webhook_urls):
                body = {
                    "id": uuid.uuid4().hex,
                    "event": name,
                    "occurred_at": event.at.isoformat(),
                    "ticket": ticket_json(ticket),
                    "data": event_data(event),
                }
                uow.outbox.add(
                    ticket_id=ticket.id, platform=PLATFORM, audience="agents", kind="webhook",
                    conversation_key=f"{PLATFORM}:{index}:{ticket.id}",
                    text=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                    payload={"ref": ticket.ref, "url": url, "event": name}, status="queued",
                    attempts=0, next_attempt_at=now, created_at=now, recipient=None, edit_key=None,
                )  # fmt: skip
