"""The scheduler's questions: which tickets have a timer due, and when the next one falls.

The ticket's own timers are columns read with a composite (status, column) index, one branch
per status; SLA alarms are rows of `sla_alarms`, whose key starts with the time. So each branch
is an index range scan that stops at ``now`` (EXPLAIN in bench/sla_sweep.py). The status sets
say when a column means something; handlers clear columns they are done with.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.status import Status
from storage import tables as t
from storage.rows import aware

_C = t.tickets.c
TIMERS: tuple[tuple[ColumnElement[datetime], tuple[Status, ...]], ...] = (
    (_C.claim_expires_at, (Status.NEW, Status.OPEN)),  # claim timeout
    (_C.remind_at, (Status.PENDING, Status.ON_HOLD)),  # pending reminder / end of snooze
    (_C.auto_close_at, (Status.PENDING, Status.RESOLVED)),  # auto-resolve / auto-close
)
_BRANCHES = [(col, status.value) for col, statuses in TIMERS for status in statuses]
_ALARM = t.sla_alarms.c  # SLA warnings, breaches and escalation steps (storage/alarms_repo.py)
DUE_LIMIT = 500


def _due_statement(limit: int) -> Select[tuple[int, datetime]]:
    parts = [
        select(_C.id.label("id"), col.label("at"))
        .where(_C.status == status, col <= bindparam("now"))
        .order_by(col)
        .limit(limit)
        .subquery()
        for col, status in _BRANCHES
    ]
    parts.append(
        select(_ALARM.ticket_id.label("id"), _ALARM.at.label("at"))
        .where(_ALARM.at <= bindparam("now"))
        .order_by(_ALARM.at)
        .limit(limit)
        .subquery()
    )
    every = union_all(*(select(p.c.id, p.c.at) for p in parts)).subquery()
    return select(every.c.id, every.c.at).order_by(every.c.at).limit(limit)


def _next_statement() -> Select[tuple[datetime]]:
    parts = [
        select(col.label("at"))
        .where(_C.status == status, col.is_not(None))
        .order_by(col)
        .limit(1)
        .subquery()
        for col, status in _BRANCHES
    ]
    parts.append(select(_ALARM.at.label("at")).order_by(_ALARM.at).limit(1).subquery())
    every = union_all(*(select(p.c.at) for p in parts)).subquery()
    return select(func.min(every.c.at))


_DUE = _due_statement(DUE_LIMIT + 1)  # one row more than a batch: is anything left after it?
_NEXT = _next_statement()
_LOCK = select(_C.id).where(_C.id == bindparam("tid")).with_for_update(skip_locked=True)
_LOCK_MANY = (
    select(_C.id)
    .where(_C.id.in_(bindparam("tids", expanding=True)))
    .with_for_update(skip_locked=True)
)


async def due_ticket_ids(conn: AsyncConnection, now: datetime) -> tuple[list[int], bool]:
    """The tickets of up to DUE_LIMIT timers at or before ``now``, most overdue first, and
    whether more timers are due after them (the query reads one row past the batch, so a
    sweep whose batch held everything due needs no second query)."""
    rows = (await conn.execute(_DUE, {"now": now})).all()
    more = len(rows) > DUE_LIMIT
    return list(dict.fromkeys(r.id for r in rows[:DUE_LIMIT])), more


async def next_due_time(conn: AsyncConnection) -> datetime | None:
    """The earliest timer of any ticket (past or future), or None."""
    return aware((await conn.execute(_NEXT)).scalar())


async def claim_ticket(conn: AsyncConnection, ticket_id: int) -> bool:
    """Lock a ticket row for this worker's timers; False if another worker holds it.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`. SQLite needs nothing: deskbot begins every
    transaction with BEGIN IMMEDIATE, so writers are already one at a time.
    """
    if conn.dialect.name == "sqlite":
        return True
    return (await conn.execute(_LOCK, {"tid": ticket_id})).first() is not None


async def claim_tickets(conn: AsyncConnection, ticket_ids: list[int]) -> list[int]:
    """:func:`claim_ticket` for a group: the ids this worker got (all of them on SQLite)."""
    if conn.dialect.name == "sqlite" or not ticket_ids:
        return list(ticket_ids)
    return list((await conn.execute(_LOCK_MANY, {"tids": ticket_ids})).scalars())
