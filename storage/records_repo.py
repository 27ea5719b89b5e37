"""Append-style records written in bulk at commit: messages, history and outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t
from storage.bulk import insert_many

_SEEN = select(t.messages.c.ticket_id).where(
    t.messages.c.platform == bindparam("p"), t.messages.c.external_id == bindparam("x")
)
_SEEN_MANY = select(t.messages.c.platform, t.messages.c.external_id, t.messages.c.ticket_id).where(
    t.messages.c.platform == bindparam("p"),
    t.messages.c.external_id.in_(bindparam("xs", expanding=True)),
)
_MESSAGE_INSERT = insert(t.messages)
_HISTORY_INSERT = insert(t.history)


def by_platform(keys: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Group (platform, id) pairs so lookups use the (platform, external_id) index."""
    out: dict[str, list[str]] = {}
    for platform, external_id in dict.fromkeys(keys):
        out.setdefault(platform, []).append(external_id)
    return out


class MessageRepository:
    """Messages are buffered and inserted in one statement per commit.

    Idempotency: (platform, external_id) is unique in the table; `seen` answers for a
    redelivered message, also for one buffered earlier in the same group commit.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._pending: list[dict[str, Any]] = []
        self._pending_keys: dict[tuple[str, str], int] = {}
        self._known: dict[tuple[str, str], int | None] = {}

    async def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Answer `seen` for a whole group of inbound messages with one query."""
        found = await self.seen_many(keys)
        for key in keys:
            self._known[key] = found.get(key)

    async def seen(self, platform: str, external_id: str) -> int | None:
        """The ticket id a message with this platform id was recorded on, if any."""
        if (platform, external_id) in self._pending_keys:
            return self._pending_keys[(platform, external_id)]
        if (platform, external_id) in self._known:
            return self._known[(platform, external_id)]
        return (await self._conn.execute(_SEEN, {"p": platform, "x": external_id})).scalar()

    async def seen_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Batch form of `seen` for a group of inbound messages (one query)."""
        if not keys:
            return {}
        found: dict[tuple[str, str], int] = {}
        for platform, ids in by_platform(keys).items():
            rows = await self._conn.execute(_SEEN_MANY, {"p": platform, "xs": ids})
            found.update({(r.platform, r.external_id): r.ticket_id for r in rows})
        return found

    def add(
        self,
        *,
        ticket_id: int,
        platform: str,
        external_id: str | None,
        author_kind: str,
        author_id: int | None,
        author_name: str,
        visibility: str,
        text: str,
        at: datetime,
        attachments: list[dict[str, Any]] | None = None,
        flags: dict[str, Any] | None = None,
    ) -> None:
        if external_id is not None:
            self._pending_keys[(platform, external_id)] = ticket_id
        self._pending.append(
            dict(
                ticket_id=ticket_id,
                platform=platform,
                external_id=external_id,
                author_kind=author_kind,
                author_id=author_id,
                author_name=author_name,
                visibility=visibility,
                text=text,
                attachments=attachments,
                flags=flags,
                created_at=at,
            )
        )

    async def flush(self) -> None:
        if self._pending:
            await insert_many(self._conn, t.messages, self._pending)
            self._pending = []
            self._pending_keys = {}

    async def for_tickets(self, ticket_ids: Sequence[int], *, include_internal: bool) -> list[Any]:
        stmt = select(t.messages).where(t.messages.c.ticket_id.in_(list(ticket_ids)))
        if not include_internal:
            stmt = stmt.where(t.messages.c.visibility == "public")
        return list((await self._conn.execute(stmt.order_by(t.messages.c.id))).all())

    async def record_edit(self, row: Any, text: str, at: datetime, *, deleted: bool) -> None:
        """Edit or delete a stored message; earlier texts are kept in flags["edits"]."""
        flags = dict(row.flags or {})
        flags["edits"] = [
            *flags.get("edits", []),
            {"at": at.isoformat(), "text": row.text, "deleted": deleted},
        ]
        values: dict[str, Any] = {"flags": flags}
        if deleted:
            values["deleted_at"] = at
        else:
            values.update(text=text, edited_at=at)
        await self._conn.execute(
            update(t.messages).where(t.messages.c.id == row.id).values(**values)
        )

    async def by_external(self, platform: str, external_id: str) -> Any:
        stmt = select(t.messages).where(
            t.messages.c.platform == platform, t.messages.c.external_id == external_id
        )
        return (await self._conn.execute(stmt)).first()


class HistoryRepository:
    """The append-only audit trail. There is deliberately no update or delete here."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._pending: list[dict[str, Any]] = []

    def add(
        self,
        *,
        ticket_id: int,
        at: datetime,
        actor: str,
        kind: str,
        old: str | None,
        new: str | None,
        data: dict[str, Any] | None,
    ) -> None:
        self._pending.append(
            dict(ticket_id=ticket_id, at=at, actor=actor, kind=kind, old=old, new=new, data=data)
        )

    async def flush(self) -> None:
        if self._pending:
            await insert_many(self._conn, t.history, self._pending)
            self._pending = []

    async def routed_sla(self, ticket_id: int) -> bool:
        """Whether a routing rule named the ticket's SLA policy (its `routed` row says so)."""
        if any(
            r["ticket_id"] == ticket_id and r["kind"] == "routed" and (r["data"] or {}).get("sla")
            for r in self._pending
        ):
            return True
        c = t.history.c
        stmt = select(c.data).where(c.ticket_id == ticket_id, c.kind == "routed")
        return any((r.data or {}).get("sla") for r in await self._conn.execute(stmt))

    async def for_tickets(self, ticket_ids: Sequence[int]) -> list[Any]:
        stmt = (
            select(t.history)
            .where(t.history.c.ticket_id.in_(list(ticket_ids)))
            .order_by(t.history.c.at, t.history.c.id)
        )
        return list((await self._conn.execute(stmt)).all())
