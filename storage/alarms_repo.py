"""Pending SLA alarms as rows keyed by time: planned with their ticket, taken when they fire.

A ticket's ``sla_timers`` is its plan (alarm key → time). Whenever a unit saves a ticket whose
plan gained an alarm or moved one, the alarm's row is written; the old row, if any, stays
behind and is dropped unfired when it comes due (the ticket no longer plans that alarm at that
time). So firing never has to rewrite the ticket: the scheduler deletes the due rows it fires,
all neighbours at the start of the key, and a fired alarm is simply one whose time has passed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, bindparam, delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.sla_clock import Alarm
from storage import tables as t

_A = t.sla_alarms.c
_TAKE_DUE = (
    delete(t.sla_alarms)
    .where(_A.at <= bindparam("upto"), _A.ticket_id.in_(bindparam("tids", expanding=True)))
    .returning(_A.at, _A.ticket_id, _A.alarm)
)
# PostgreSQL: the ids as one array parameter (no statement with 500 placeholders to render)
_TAKE_DUE_PG = (
    delete(t.sla_alarms)
    .where(
        _A.at <= bindparam("upto"),
        _A.ticket_id == func.any(bindparam("tids", type_=ARRAY(BigInteger))),
    )
    .returning(_A.at, _A.ticket_id, _A.alarm)
)
_TAKE_ONE = (
    delete(t.sla_alarms)
    .where(_A.at == bindparam("at"), _A.ticket_id == bindparam("tid"), _A.alarm == bindparam("key"))
    .returning(_A.alarm)
)

# The same alarm planned again at the same time (a policy changed back, say) is the row
# already there: keep it. Built once: a new statement object per unit costs its cache key.
_INSERT_SQLITE = sqlite.insert(t.sla_alarms).on_conflict_do_nothing()
_INSERT_PG = postgresql.insert(t.sla_alarms).on_conflict_do_nothing()


def planned(before: dict[str, datetime | None], after: dict[str, datetime | None]) -> list[Alarm]:
    """Alarms of ``after`` that ``before`` did not plan at that time: each needs its row."""
    if before == after:
        return []
    return [(at, key) for key, at in after.items() if at is not None and before.get(key) != at]


class AlarmRepository:
    """The rows of one unit of work: written at flush, taken (deleted) when they fire."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        self._new: dict[tuple[datetime, int, str], None] = {}
        self._fired: set[tuple[datetime, int, str]] = set()

    def plan(self, ticket_id: int, alarms: list[Alarm]) -> None:
        """Rows to write at flush (the ticket repository calls this for each saved ticket)."""
        for at, key in alarms:
            self._new[(at.astimezone(UTC), ticket_id, key)] = None

    def fired_here(self, ticket_id: int, at: datetime, key: str) -> None:
        """An alarm planned and fired in this unit (a catch-up escalation step): no row."""
        self._fired.add((at.astimezone(UTC), ticket_id, key))

    async def flush(self) -> None:
        rows = [
            {"at": at, "ticket_id": tid, "alarm": key}
            for at, tid, key in self._new
            if (at, tid, key) not in self._fired
        ]
        self._new.clear()
        if not rows:
            return
        await self._conn.execute(_INSERT_SQLITE if self._sqlite else _INSERT_PG, rows)

    async def take_due(self, ticket_ids: list[int], upto: datetime) -> dict[int, list[Alarm]]:
        """Delete and return the rows of ``ticket_ids`` due at ``upto``, per ticket, oldest
        first. A row another worker has taken (and committed) is not returned, so each alarm
        is handed out once; the caller fires those its ticket still plans."""
        if not ticket_ids:
            return {}
        stmt = _TAKE_DUE if self._sqlite else _TAKE_DUE_PG
        rows = (await self._conn.execute(stmt, {"upto": upto, "tids": ticket_ids})).all()
        out: dict[int, list[Alarm]] = {}
        for at, tid, key in sorted(rows):
            out.setdefault(tid, []).append((at, key))
        return out

    async def take(self, ticket_id: int, key: str, at: datetime) -> bool:
        """Delete one pending alarm; False if it was not pending (fired or never planned)."""
        params = {"at": at.astimezone(UTC), "tid": ticket_id, "key": key}
        return (await self._conn.execute(_TAKE_ONE, params)).first() is not None
