"""Tickets: loaded into the unit of work's identity map, saved with a version check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Update

from bot.domain import events as ev
from bot.domain.errors import ConcurrencyConflict
from bot.domain.model import Ticket
from bot.domain.refs import RefFormat
from bot.domain.status import Status
from storage import tables as t
from storage import ticket_tags, timers_repo
from storage.bulk import insert_many, update_many
from storage.due_query import due_ticket_ids
from storage.ids import IdAllocator
from storage.rows import same_fields, ticket_copy, ticket_from_row, ticket_values
from storage.ticket_search import search_conditions

_COLUMNS = [*t.tickets.c, t.agents.c.name.label("assignee_name")]
_FROM = t.tickets.outerjoin(t.agents, t.agents.c.id == t.tickets.c.assignee_id)
# Hot-path statements are built once: SQLAlchemy then computes their cache keys once too.
_SELECT = select(*_COLUMNS).select_from(_FROM)
_BY_ID = _SELECT.where(t.tickets.c.id == bindparam("tid"))
_BY_CONVERSATION = (
    _SELECT.where(t.tickets.c.conversation_key == bindparam("key"))
    .order_by(t.tickets.c.id.desc())
    .limit(1)
)
_INSERT = insert(t.tickets)
_LOAD_MANY = _SELECT.where(t.tickets.c.id.in_(bindparam("tids", expanding=True)))
# the timers' claim: lock the rows no other worker holds and read them, in one statement
_LOCK_AND_LOAD = _LOAD_MANY.with_for_update(of=t.tickets, skip_locked=True)
_LATEST_PER_CONVERSATION = _SELECT.where(
    t.tickets.c.id.in_(
        select(func.max(t.tickets.c.id))
        .where(t.tickets.c.conversation_key.in_(bindparam("keys", expanding=True)))
        .group_by(t.tickets.c.conversation_key)
    )
)
_UPDATES: dict[tuple[str, ...], Update] = {}
_WHERE = ("id", "version")  # a ticket's UPDATE matches the version it was loaded at


def _update_for(keys: tuple[str, ...]) -> Update:
    """UPDATE … WHERE id = :id AND version = :version, one statement object per column set."""
    stmt = _UPDATES.get(keys)
    if stmt is None:
        values: dict[str, Any] = {k: bindparam(f"v_{k}") for k in keys}
        values["version"] = bindparam("v_new_version")
        stmt = (
            update(t.tickets)
            .where(
                t.tickets.c.id == bindparam("w_id"), t.tickets.c.version == bindparam("w_version")
            )
            .values(values)
        )
        _UPDATES[keys] = stmt
    return stmt


class TicketRepository:
    """Tickets by id, conversation and filters. Every loaded ticket is tracked for saving."""

    def __init__(self, conn: AsyncConnection, refs: RefFormat) -> None:
        self._conn = conn
        self.refs = refs
        self.seen: dict[int, Ticket] = {}
        # tickets that recorded events not yet collected (ids keep first-event order)
        self.eventful: dict[int, Ticket] = {}
        self._loaded_version: dict[int, int] = {}
        # each loaded ticket's fields as loaded (or last saved): what save_all diffs against
        self._snapshot: dict[int, Ticket] = {}
        self._new: list[int] = []
        self._conversations: dict[str, int | None] = {}
        self._ids = IdAllocator(conn, "tickets")
        self._sqlite = conn.dialect.name == "sqlite"
        self.timer_claims: set[int] = set()
        # rows this transaction locked (FOR UPDATE) before reading them: nobody can change
        # them until commit, so their version-checked UPDATEs may go out as one executemany
        self._locked: set[int] = set()

    def _track(self, row: Any) -> Ticket:
        tid = row[0]  # rows are _COLUMNS: the tickets table's columns in order, id first
        if tid in self.seen:
            return self.seen[tid]
        ticket = ticket_from_row(row, self.refs)
        ticket.on_event = self._note_event
        self.seen[tid] = ticket
        self._loaded_version[tid] = ticket.version
        self._snapshot[tid] = ticket_copy(ticket)
        return ticket

    def _note_event(self, ticket: Ticket) -> None:
        self.eventful.setdefault(ticket.id, ticket)

    def take_events(self) -> list[ev.Event]:
        """Events recorded on loaded tickets since the last call, in order of the tickets' first."""
        out: list[ev.Event] = []
        while self.eventful:
            tickets, self.eventful = list(self.eventful.values()), {}
            for ticket in tickets:
                out.extend(ticket.events)
                ticket.events.clear()
        return out

    async def get(self, ticket_id: int) -> Ticket | None:
        if ticket_id in self.seen:
            return self.seen[ticket_id]
        row = (await self._conn.execute(_BY_ID, {"tid": ticket_id})).first()
        return self._track(row) if row else None

    async def latest_for_conversation(self, key: str) -> Ticket | None:
        """The newest ticket of a conversation, counting tickets created in this unit."""
        if key not in self._conversations:
            row = (await self._conn.execute(_BY_CONVERSATION, {"key": key})).first()
            self._conversations[key] = self._track(row).id if row else None
        known = self._conversations[key]
        return self.seen[known] if known is not None else None

    async def prefetch_conversations(self, keys: list[str]) -> None:
        """Load the latest ticket of each conversation in one query (group commit)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._conversations]
        if not wanted:
            return
        for key in wanted:
            self._conversations[key] = None
        for row in (await self._conn.execute(_LATEST_PER_CONVERSATION, {"keys": wanted})).all():
            ticket = self._track(row)
            self._conversations[ticket.conversation_key] = ticket.id

    async def add(self, ticket: Ticket) -> Ticket:
        """Give the ticket its id now (the ack shows its reference); the row is written at flush."""
        new_id = await self._ids.next()
        self._new.append(new_id)
        ticket.id = new_id
        ticket.ref = self.refs.format(new_id)
        for event in ticket.events:
            object.__setattr__(event, "ticket_id", new_id)
        ticket.on_event = self._note_event
        if ticket.events:
            self.eventful[new_id] = ticket
        self.seen[new_id] = ticket
        self._loaded_version[new_id] = ticket.version
        self._snapshot[new_id] = ticket_copy(ticket)
        self._conversations[ticket.conversation_key] = new_id
        return ticket

    async def flush_new(self) -> None:
        """Insert the tickets created in this unit, in one statement."""
        if not self._new:
            return
        rows = []
        for tid in self._new:
            ticket = self.seen[tid]
            rows.append({**ticket_values(ticket), "id": tid, "version": 1})
            self._snapshot[tid] = ticket_copy(ticket)
        self._new = []
        await insert_many(self._conn, t.tickets, rows)
        await ticket_tags.insert_tags(
            self._conn, [(r["id"], r["tags"], r["created_at"]) for r in rows if r["tags"]]
        )

    async def save_all(self) -> None:
        """Write new and changed tickets; a concurrent change makes the whole unit retry.

        On PostgreSQL each UPDATE checks the version it loaded. On SQLite this transaction has
        held the database's write lock since BEGIN IMMEDIATE, so nobody can have changed a row
        we read: updates with the same changed columns go out as one executemany. The same holds
        on PostgreSQL for rows locked before they were read (the timers' claims): asyncpg
        reports no row count for an executemany, and none is needed under the lock.
        """
        await self.flush_new()
        batches: dict[tuple[str, ...], list[Any]] = {}
        saved: list[int] = []
        retagged: list[ticket_tags.Tagged] = []
        for tid, ticket in self.seen.items():
            loaded = self._loaded_version[tid]
            if same_fields(ticket, self._snapshot[tid]):
                continue
            values, before = ticket_values(ticket), ticket_values(self._snapshot[tid])
            changed = tuple(k for k, v in values.items() if before.get(k) != v)
            saved.append(tid)
            if "tags" in changed:
                retagged.append((tid, values["tags"], values["created_at"]))
            if self._sqlite:  # SET the changed columns and version, WHERE id and version
                row = (*(values[k] for k in changed), loaded + 1, tid, loaded)
                batches.setdefault(changed, []).append(row)
                continue
            params = {f"v_{k}": values[k] for k in changed}
            params.update(v_new_version=loaded + 1, w_id=tid, w_version=loaded)
            if tid in self._locked:
                batches.setdefault(changed, []).append(params)
            else:
                result = await self._conn.execute(_update_for(changed), params)
                if result.rowcount != 1:
                    raise ConcurrencyConflict(f"ticket {tid} changed concurrently")
        for changed, rows in batches.items():
            if not self._sqlite:
                await self._conn.execute(_update_for(changed), rows)
            elif await update_many(
                self._conn, t.tickets, (*changed, "version"), _WHERE, rows
            ) != len(rows):
                raise ConcurrencyConflict("a ticket changed concurrently")
        await ticket_tags.replace_tags(self._conn, retagged)
        for tid in saved:
            self.seen[tid].version = self._loaded_version[tid] + 1
            self._loaded_version[tid] = self.seen[tid].version
            self._snapshot[tid] = ticket_copy(self.seen[tid])

    async def merged_sources(self, ticket_id: int) -> list[Ticket]:
        stmt = select(*_COLUMNS).select_from(_FROM).where(t.tickets.c.merged_into_id == ticket_id)
        return [self._track(r) for r in (await self._conn.execute(stmt)).all()]

    async def search(
        self,
        *,
        statuses: Sequence[str] = (),
        priorities: Sequence[str] = (),
        queues: Sequence[str] = (),
        tags: Sequence[str] = (),
        assignee_id: int | None = None,
        unassigned: bool = False,
        customer_ids: Sequence[int] = (),
        text: str | None = None,
        limit: int = 20,
    ) -> list[Ticket]:
        conds = search_conditions(
            statuses=statuses, priorities=priorities, queues=queues, tags=tags,
            assignee_id=assignee_id, unassigned=unassigned, customer_ids=customer_ids, text=text,
        )  # fmt: skip
        stmt = select(*_COLUMNS).select_from(_FROM)
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(t.tickets.c.id.desc()).limit(limit)
        return [self._track(r) for r in (await self._conn.execute(stmt)).all()]

    async def due_before(
        self, until: datetime, *, queues: Sequence[str] = (), limit: int = 20
    ) -> list[Ticket]:
        """Running tickets with an SLA due time at or before `until` (breached included)."""
        ids = await due_ticket_ids(self._conn, until, queues, limit)
        if not ids:
            return []
        rows = (await self._conn.execute(_SELECT.where(t.tickets.c.id.in_(ids)))).all()
        return [self._track(r) for r in rows]

    async def due_claims(self, now: datetime, limit: int = 100) -> list[int]:
        stmt = (
            select(t.tickets.c.id)
            .where(t.tickets.c.status.in_([Status.NEW.value, Status.OPEN.value]))
            .where(t.tickets.c.claim_expires_at <= now)
            .order_by(t.tickets.c.claim_expires_at)
            .limit(limit)
        )
        return list((await self._conn.execute(stmt)).scalars())

    async def link(self, a_id: int, b_id: int, kind: str, at: datetime) -> bool:
        await self.flush_new()  # the link row refers to both tickets
        lo, hi = sorted((a_id, b_id))
        exists = (
            await self._conn.execute(
                select(t.ticket_links.c.a_id).where(
                    and_(t.ticket_links.c.a_id == lo, t.ticket_links.c.b_id == hi)
                )
            )
        ).first()
        if exists:
            return False
        await self._conn.execute(
            insert(t.ticket_links).values(a_id=lo, b_id=hi, kind=kind, created_at=at)
        )
        return True

    async def count_opened_since(self, customer_id: int, origin: str, since: datetime) -> int:
        """Tickets a customer opened on one platform since a time, this unit's unsaved ones too.

        Counts acknowledgements for the per-address daily cap (email, issue 5).
        """
        stmt = (
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.customer_id == customer_id, t.tickets.c.origin == origin)
            .where(t.tickets.c.created_at >= since)
        )
        stored = int((await self._conn.execute(stmt)).scalar_one())
        pending = sum(
            1
            for tid in self._new
            if self.seen[tid].customer_id == customer_id
            and self.seen[tid].origin == origin
            and self.seen[tid].created_at >= since
        )
        return stored + pending

    async def links(self, ticket_id: int) -> list[tuple[int, str]]:
        c = t.ticket_links.c
        rows = (
            await self._conn.execute(
                select(c.a_id, c.b_id, c.kind).where(or_(c.a_id == ticket_id, c.b_id == ticket_id))
            )
        ).all()
        return [(r.b_id if r.a_id == ticket_id else r.a_id, r.kind) for r in rows]

    async def next_due_time(self) -> datetime | None:
        """Earliest timer of all kinds (claim, SLA, reminder, auto-close) of any ticket."""
        return await timers_repo.next_due_time(self._conn)

    async def due_for_timers(self, now: datetime) -> list[int]:
        """Tickets with any timer due at ``now`` (indexed; see storage/timers_repo.py)."""
        return await timers_repo.due_ticket_ids(self._conn, now)

    async def claim_for_timers(self, ticket_id: int) -> bool:
        """Lock the row for this worker (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
        if ticket_id in self.timer_claims:
            return True
        return await timers_repo.claim_ticket(self._conn, ticket_id)

    async def claim_many_for_timers(self, ticket_ids: list[int]) -> list[int]:
        """Claim and load a group of due tickets in one statement; returns the ids this worker
        got, in the order asked (PostgreSQL: FOR UPDATE SKIP LOCKED skips rows another worker
        holds; SQLite: all of them, BEGIN IMMEDIATE already serialises writers)."""
        wanted = [tid for tid in ticket_ids if tid not in self.seen]
        if len(wanted) < len(ticket_ids):
            # loaded before the lock (not the scheduler's path): lock them the plain way and
            # let their version check catch a change made in between
            stale = [tid for tid in ticket_ids if tid in self.seen]
            self.timer_claims.update(await timers_repo.claim_tickets(self._conn, stale))
        if wanted:
            stmt = _LOCK_AND_LOAD if not self._sqlite else _LOAD_MANY
            for row in (await self._conn.execute(stmt, {"tids": wanted})).all():
                ticket = self._track(row)
                self.timer_claims.add(ticket.id)
                if not self._sqlite:
                    self._locked.add(ticket.id)
        return [tid for tid in ticket_ids if tid in self.timer_claims]
