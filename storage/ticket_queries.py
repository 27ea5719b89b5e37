"""Ticket reads beside the identity map: search, merged sources, due times, links, and the
timers' claims. A mixin of `TicketRepository` (storage/tickets_repo.py), which keeps loading,
tracking and saving; every ticket these return goes through its `_track`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.model import Ticket
from bot.domain.status import Status
from storage import tables as t
from storage import timers_repo
from storage.due_query import due_ticket_ids
from storage.ticket_search import search_conditions

_COLUMNS = [*t.tickets.c, t.agents.c.name.label("assignee_name")]
_FROM = t.tickets.outerjoin(t.agents, t.agents.c.id == t.tickets.c.assignee_id)
# Hot-path statements are built once: SQLAlchemy then computes their cache keys once too.
# Every ticket is selected as _COLUMNS (its columns in table order, then the assignee name).
_SELECT = select(*_COLUMNS).select_from(_FROM)
BY_ID = _SELECT.where(t.tickets.c.id == bindparam("tid"))
BY_CONVERSATION = (
    _SELECT.where(t.tickets.c.conversation_key == bindparam("key"))
    .order_by(t.tickets.c.id.desc())
    .limit(1)
)
_LOAD_MANY = _SELECT.where(t.tickets.c.id.in_(bindparam("tids", expanding=True)))
# the timers' claim: lock the rows no other worker holds and read them, in one statement
# (PostgreSQL only: the ids travel as one array, `= ANY($1)`, not as one parameter each)
_LOCK_AND_LOAD = _SELECT.where(
    t.tickets.c.id == func.any(bindparam("tids", type_=ARRAY(BigInteger)))
).with_for_update(of=t.tickets, skip_locked=True)
LATEST_PER_CONVERSATION = _SELECT.where(
    t.tickets.c.id.in_(
        select(func.max(t.tickets.c.id))
        .where(t.tickets.c.conversation_key.in_(bindparam("keys", expanding=True)))
        .group_by(t.tickets.c.conversation_key)
    )
)


class TicketQueries:
    """What `TicketRepository` provides to these queries."""

    _conn: AsyncConnection
    _sqlite: bool
    seen: dict[int, Ticket]
    _new: list[int]
    timer_claims: set[int]
    _locked: set[int]

    def _track(self, row: Any) -> Ticket:
        raise NotImplementedError

    async def flush_new(self) -> None:
        raise NotImplementedError

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

    async def get_many(self, ticket_ids: list[int]) -> list[Ticket]:
        """Tickets by id, loaded in one statement (those already in this unit as they are)."""
        wanted = [tid for tid in dict.fromkeys(ticket_ids) if tid not in self.seen]
        if wanted:
            for row in (await self._conn.execute(_LOAD_MANY, {"tids": wanted})).all():
                self._track(row)
        return [self.seen[tid] for tid in dict.fromkeys(ticket_ids) if tid in self.seen]

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

    async def due_for_timers(self, now: datetime) -> tuple[list[int], bool]:
        """Tickets with any timer due at ``now``, one batch of them, and whether more are due
        (indexed; see storage/timers_repo.py)."""
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
