"""The outbox: rows written with the change that caused them, then leased and settled."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal_column, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t
from storage.bulk import insert_many

_IN_FLIGHT = ("queued", "sending")
_OUTBOX_INSERT = insert(t.outbox)
# Written out, not bound: only then may the planner use the partial index ix_outbox_failed.
_IS_FAILED = t.outbox.c.status == literal_column("'failed'")
_FAILED_COUNTS = (
    select(t.outbox.c.ticket_id, func.count().label("n"))
    .where(t.outbox.c.ticket_id.in_(bindparam("tids", expanding=True)), _IS_FAILED)
    .group_by(t.outbox.c.ticket_id)
)


# queued edits in some conversations (ix_outbox_conversation), and dropping them by id
_QUEUED_EDITS = select(
    t.outbox.c.id, t.outbox.c.conversation_key, t.outbox.c.edit_key, t.outbox.c.platform
).where(
    t.outbox.c.conversation_key.in_(bindparam("keys", expanding=True)),
    t.outbox.c.status == "queued",
    t.outbox.c.edit_key.is_not(None),
)
_DROP_QUEUED = delete(t.outbox).where(
    t.outbox.c.id.in_(bindparam("ids", expanding=True)), t.outbox.c.status == "queued"
)


class OutboxRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._pending: list[dict[str, Any]] = []
        self._by_external: dict[tuple[str, str], Any] = {}  # prefetched; None = not ours

    def add(self, **row: Any) -> None:
        self._pending.append(row)

    @property
    def pending(self) -> list[dict[str, Any]]:
        return self._pending

    async def flush(self) -> None:
        if self._pending:
            await insert_many(self._conn, t.outbox, self._pending)
            self._pending = []

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, platforms: tuple[str, ...] = ()
    ) -> list[Any]:
        """Due rows that are first in line for their conversation, leased to this worker.

        A row waits while an older row of the same conversation is still queued or being sent,
        so messages of one conversation go out in order even with several workers; on
        PostgreSQL `SKIP LOCKED` keeps two workers from taking the same rows.
        """
        o, p = t.outbox.alias("o"), t.outbox.alias("p")
        older = (
            select(p.c.id)
            .where(p.c.conversation_key == o.c.conversation_key)
            .where(p.c.id < o.c.id)
            .where(p.c.status.in_(_IN_FLIGHT))
            .exists()
        )
        stmt = (
            select(o)
            .where(o.c.status == "queued", o.c.next_attempt_at <= now, ~older)
            .where(o.c.platform.in_(platforms) if platforms else true())
            .order_by(o.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=o)
        )
        rows = list((await self._conn.execute(stmt)).all())
        # Also pick up rows whose lease ran out (a worker died mid-send).
        expired = (
            await self._conn.execute(
                select(t.outbox)
                .where(t.outbox.c.status == "sending", t.outbox.c.locked_until < now)
                .where(t.outbox.c.platform.in_(platforms) if platforms else true())
                .order_by(t.outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        rows.extend(expired)
        if rows:
            await self._conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_([r.id for r in rows]))
                .values(status="sending", locked_until=now + lease)
            )
        return rows

    async def mark_sent(self, outbox_id: int, at: datetime, external_id: str | None) -> None:
        await self._conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == outbox_id)
            .values(
                status="sent",
                sent_at=at,
                external_id=external_id,
                locked_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )

    async def retry_later(self, outbox_id: int, error: str, when: datetime) -> None:
        await self._conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == outbox_id)
            .values(
                status="queued",
                last_error=error,
                next_attempt_at=when,
                locked_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        await self._conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == outbox_id)
            .values(
                status="failed",
                last_error=error,
                locked_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )

    async def for_ticket(self, ticket_id: int) -> list[Any]:
        """The ticket's failed deliveries, oldest first."""
        stmt = (
            select(t.outbox)
            .where(t.outbox.c.ticket_id == ticket_id, _IS_FAILED)
            .order_by(t.outbox.c.id)
        )
        return list((await self._conn.execute(stmt)).all())

    async def failed_counts(self, ticket_ids: list[int]) -> dict[int, int]:
        """Failed deliveries per ticket, for the cards of a batch (tickets with none left out)."""
        if not ticket_ids:
            return {}
        rows = await self._conn.execute(_FAILED_COUNTS, {"tids": list(dict.fromkeys(ticket_ids))})
        return {r.ticket_id: r.n for r in rows}

    async def by_external(self, platform: str, external_ids: list[str]) -> list[Any]:
        """Rows we delivered whose platform ids are among `external_ids` (mail Message-IDs)."""
        keys = [(platform, x) for x in dict.fromkeys(external_ids)]
        if all(k in self._by_external for k in keys):
            return [row for k in keys if (row := self._by_external[k]) is not None]
        if not keys:
            return []
        stmt = select(t.outbox).where(
            t.outbox.c.platform == platform, t.outbox.c.external_id.in_([x for _, x in keys])
        )
        return list((await self._conn.execute(stmt.order_by(t.outbox.c.id))).all())

    async def prefetch_external(self, platform: str, external_ids: list[str]) -> None:
        """Answer `by_external` for a whole group of inbound replies with one query."""
        wanted = [x for x in dict.fromkeys(external_ids) if (platform, x) not in self._by_external]
        if not wanted:
            return
        found: dict[str, Any] = {}
        for row in await self.by_external(platform, wanted):
            found.setdefault(row.external_id, row)
        for x in wanted:
            self._by_external[(platform, x)] = found.get(x)

    async def next_due(self) -> datetime | None:
        stmt = select(t.outbox.c.next_attempt_at).where(t.outbox.c.status == "queued")
        return (
            await self._conn.execute(stmt.order_by(t.outbox.c.next_attempt_at).limit(1))
        ).scalar()

    async def drop_newer_edits(self, sending: list[Any]) -> None:
        """Drop queued edits of the messages in `sending` (rows being sent) newer than those
        rows: cards are drawn when sent (bot/services/card_render.py), so the one going out
        shows their state too. Found through the conversation index, one query per batch."""
        if not sending:
            return
        being_sent = {(r.conversation_key, r.edit_key, r.platform): r.id for r in sending}
        keys = list(dict.fromkeys(r.conversation_key for r in sending))
        queued = await self._conn.execute(_QUEUED_EDITS, {"keys": keys})
        drop = [
            r.id
            for r in queued
            if r.id > being_sent.get((r.conversation_key, r.edit_key, r.platform), r.id)
        ]
        if drop:
            await self._conn.execute(_DROP_QUEUED, {"ids": drop})


class PlatformRefRepository:
    """Platform ids of messages we posted and edit later (triage cards, status messages)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str, platform: str) -> tuple[str, str | None] | None:
        row = (
            await self._conn.execute(
                select(t.platform_refs.c.external_id, t.platform_refs.c.conversation_key).where(
                    t.platform_refs.c.key == key, t.platform_refs.c.platform == platform
                )
            )
        ).first()
        return (row.external_id, row.conversation_key) if row else None

    async def put(
        self, key: str, platform: str, external_id: str, conversation_key: str | None
    ) -> None:
        await self._conn.execute(
            delete(t.platform_refs).where(
                t.platform_refs.c.key == key, t.platform_refs.c.platform == platform
            )
        )
        await self._conn.execute(
            insert(t.platform_refs).values(
                key=key,
                platform=platform,
                external_id=external_id,
                conversation_key=conversation_key,
            )
        )

    async def key_for_conversation(self, platform: str, conversation_key: str) -> str | None:
        """Which of our posted messages owns a thread (e.g. the card whose thread this is)."""
        stmt = select(t.platform_refs.c.key).where(
            t.platform_refs.c.platform == platform,
            t.platform_refs.c.conversation_key == conversation_key,
        )
        return (await self._conn.execute(stmt.limit(1))).scalar()
