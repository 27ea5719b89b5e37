"""Threads for platforms that thread by message ids (email): which ticket, which mails.

An inbound message is stored with its platform id (a mail's Message-ID), the headers its
adapter gave (flags["headers"]) and the conversation it answers (flags["thread"]); an outbound
one keeps the platform id its adapter reported (outbox.external_id). A reply names earlier ids
(InboundMessage.thread_ids); ingest maps them back to a ticket with `find_thread`, and an adapter
asks for the earlier messages of a conversation to address and thread an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.model import Ticket
from bot.messages import InboundMessage
from bot.services.unit_of_work import UnitOfWork

MAX_IDS = 20


@dataclass(frozen=True)
class ThreadMessage:
    """A customer's message in a conversation, oldest first, with the headers kept for it."""

    external_id: str
    author_name: str
    headers: dict[str, Any] = field(default_factory=dict)


async def prefetch(uow: UnitOfWork, inbound: Sequence[InboundMessage]) -> None:
    """Group commit: look up the thread ids of a whole group in two queries."""
    by_platform: dict[str, list[str]] = {}
    for m in inbound:
        by_platform.setdefault(m.platform, []).extend(m.thread_ids[:MAX_IDS])
    for platform, ids in by_platform.items():
        if ids:
            await uow.messages.prefetch([(platform, i) for i in ids])
            await uow.outbox.prefetch_external(platform, ids)


async def find_thread(
    uow: UnitOfWork, platform: str, ids: Sequence[str]
) -> tuple[Ticket, str] | None:
    """The ticket of the first of `ids` (in the order given) that is a message we received or
    sent, and the conversation that message belonged to. Merges are not followed here."""
    wanted = [i for i in dict.fromkeys(ids) if i][:MAX_IDS]
    if not wanted:
        return None
    sent = {r.external_id: r for r in await uow.outbox.by_external(platform, wanted)}
    for external_id in wanted:
        row = sent.get(external_id)
        if row is not None and row.ticket_id is not None:
            ticket = await uow.tickets.get(row.ticket_id)
            if ticket is not None:
                return ticket, str(row.conversation_key)
            continue
        ticket_id = await uow.messages.seen(platform, external_id)
        ticket = await uow.tickets.get(ticket_id) if ticket_id is not None else None
        if ticket is not None:
            return ticket, ticket.conversation_key
    return None


async def thread_messages(
    uow: UnitOfWork, platform: str, conversation_key: str, limit: int = 50
) -> list[ThreadMessage]:
    """Customers' messages of one conversation, oldest first (at most `limit`, the newest).

    They are the messages on the ticket that owns the conversation, plus those that threaded
    onto it by id after it was merged into another ticket (flags["thread"] names it).
    Automatic ones (auto-replies, bounces) are left out: nobody answers those.
    """
    ticket = await uow.tickets.latest_for_conversation(conversation_key)
    if ticket is None:
        return []
    chain = [ticket.id]
    target = ticket
    while target.merged_into_id is not None and len(chain) < 20:
        target = await uow.tickets.get(target.merged_into_id)
        if target is None:
            break
        chain.append(target.id)
    found = []
    for row in await uow.messages.for_tickets(chain, include_internal=False):
        flags = row.flags or {}
        headers = flags.get("headers") or {}
        thread = flags.get("thread")
        mine = thread == conversation_key or (row.ticket_id == ticket.id and thread is None)
        if (
            mine
            and row.platform == platform
            and row.author_kind == "customer"
            and row.external_id
            and not flags.get("automatic")
        ):
            found.append(ThreadMessage(row.external_id, row.author_name, dict(headers)))
    return found[-limit:]
