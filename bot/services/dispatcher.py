"""The outbox dispatcher: sends committed outbound rows, retries with backoff, records status."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.domain.events import DeliveryFailed
from bot.messages import ConversationRef, DeliveryError, Outbound
from bot.services.card_render import render_cards
from bot.services.messagebus import MessageBus
from bot.services.ports import Clock, Sender
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … capped at 10 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 600))


class OutboxDispatcher:
    """Delivers rows in order per conversation; different conversations go out concurrently.

    Several dispatchers (workers) may run against one PostgreSQL database: rows are leased with
    `FOR UPDATE SKIP LOCKED`, and a row waits while an older one of its conversation is in flight.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        sender: Sender,
        clock: Clock,
        bus: MessageBus,
        *,
        max_attempts: int = 8,
        platforms: tuple[str, ...] = (),
        concurrent: bool = True,
        poll_seconds: float = 0.5,
    ) -> None:
        self.uow_factory = uow_factory
        self.sender = sender
        self.clock = clock
        self.bus = bus
        self.max_attempts = max_attempts
        self.platforms = platforms
        self.concurrent = concurrent
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Called after a commit so new rows go out without waiting for the next poll."""
        self._wake.set()

    async def run_once(self, limit: int = 100) -> int:
        async with self.uow_factory() as uow:
            rows = await uow.outbox.claim_due(
                self.clock.now(), limit=limit, lease=LEASE, platforms=self.platforms
            )
            edits = {}
            cards = {}
            for row in rows:
                if row.edit_key:
                    edits[row.id] = await uow.refs_store.get(row.edit_key, row.platform)
                elif row.audience == "agents" and row.ticket_id is not None and not row.recipient:
                    cards[row.id] = await uow.refs_store.get(f"card:{row.ticket_id}", row.platform)
            drawn = await render_cards(rows, uow, self.bus.core)
            await uow.commit()
        if not rows:
            return 0
        if self.concurrent:
            await asyncio.gather(
                *(self._deliver(r, edits.get(r.id), cards.get(r.id), drawn.get(r.id)) for r in rows)
            )
        else:
            for r in rows:
                await self._deliver(r, edits.get(r.id), cards.get(r.id), drawn.get(r.id))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send everything due now (console and tests)."""
        total = 0
        for _ in range(max_rounds):
            sent = await self.run_once()
            if not sent:
                break
            total += sent
        return total

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox dispatch failed")
                sent = 0
            if not sent:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _deliver(
        self,
        row: Any,
        previous: tuple[str, str | None] | None,
        card: tuple[str, str | None] | None = None,
        drawn: tuple[str, Any] | None = None,
    ) -> None:
        text, payload = drawn or (row.text, row.payload)
        message = Outbound(
            id=row.id,
            platform=row.platform,
            audience=row.audience,
            kind=row.kind,
            ticket=(row.payload or {}).get("ref"),
            text=text,
            conversation=ConversationRef.from_key(row.conversation_key),
            recipient=row.recipient,
            edit_key=row.edit_key,
            previous_external_id=previous[0] if previous else None,
            payload=payload or {},
            attempts=row.attempts,
            card_external_id=card[0] if card else None,
        )
        try:
            result = await self.sender.send(message)
        except Exception as exc:
            await self._failed(row, exc)
            return
        async with self.uow_factory() as uow:
            await uow.outbox.mark_sent(row.id, self.clock.now(), result.external_id)
            if row.edit_key and result.external_id:
                conv = result.conversation.key if result.conversation else None
                await uow.refs_store.put(row.edit_key, row.platform, result.external_id, conv)
            await uow.commit()

    async def _failed(self, row: Any, exc: Exception) -> None:
        permanent = isinstance(exc, DeliveryError) and exc.permanent
        attempts = row.attempts + 1
        error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, DeliveryError) else str(exc)
        async with self.uow_factory() as uow:
            if permanent or attempts >= self.max_attempts:
                await uow.outbox.mark_failed(row.id, error)
                log.warning("delivery %s failed for good: %s", row.id, error)
                if row.ticket_id is not None and not (
                    row.audience == "agents" and row.kind == "system"
                ):
                    ticket = await uow.tickets.get(row.ticket_id)
                    if ticket is not None:
                        ticket._record(
                            DeliveryFailed(
                                ticket.id,
                                "deskbot",
                                self.clock.now(),
                                outbox_id=row.id,
                                error=error,
                            )
                        )
                        await self.bus.drain_events(uow)
            else:
                delay = backoff(attempts)
                if isinstance(exc, DeliveryError) and exc.retry_after:
                    delay = max(delay, timedelta(seconds=exc.retry_after))
                await uow.outbox.retry_later(row.id, error, self.clock.now() + delay)
            await uow.commit()
