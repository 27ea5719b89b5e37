"""Report aggregates in SQL (SQLite and PostgreSQL): counts, SLA outcomes, backlog, CSAT.

Each method is one or two aggregate statements with a row per (window, group); tickets are
never loaded into Python. Larger figures have modules of their own: tickets created and SLA
outcomes (reports_created.py), durations (reports_times.py), replies (reports_replies.py),
top tags (reports_tags.py), CSAT (reports_csat.py) and the CSV rows (reports_export.py).
Queries run on read connections of their own (reports_db.py), several at once. Definitions
live in bot/reports/figures.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.reports.figures import AGE_BUCKETS, Csat, Pct, Scope
from bot.reports.periods import Window
from storage import (
    reports_created,
    reports_csat,
    reports_export,
    reports_replies,
    reports_tags,
    reports_times,
)
from storage import tables as tb
from storage.reports_created import Created
from storage.reports_db import Reader
from storage.reports_sql import slot_of, tag_values

T, M, H = tb.tickets, tb.messages, tb.history
ACTIVE = ("new", "open", "pending", "on_hold")
DONE = ("resolved", "closed")
Key = tuple[int, str | None]  # (window index, group key)
ZERO: Any = literal_column("0")
NOTHING: Any = literal_column("NULL")


class ReportsRepository:
    """Report queries; `by` is None or one of figures.GROUPINGS.

    Made by the unit of work, but only the digest's bookkeeping uses its connection: the
    aggregates read on their own, so the repository outlives the unit (see reports_db.py).
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._reader: Reader | None = None
        self.pg = conn.dialect.name == "postgresql"

    # --- building blocks ------------------------------------------------------------------
    def scoped(self, stmt: Select[Any], scope: Scope) -> Select[Any]:
        if scope.queue:
            stmt = stmt.where(T.c.queue == scope.queue)
        if scope.assignee_id is not None:
            stmt = stmt.where(T.c.assignee_id == scope.assignee_id)
        return stmt

    def _unindexed(self, col: Any) -> Any:
        """SQLite: `+col` keeps the planner off col's index (created_at < now matches all)."""
        return col if self.pg else literal_column(f"+{col.table.name}.{col.name}", col.type)

    def group(self, stmt: Select[Any], by: str | None) -> tuple[Select[Any], Any]:
        """Join what grouping `by` needs; returns the statement and the group key (or None)."""
        if by is None:
            return stmt, None
        if by == "tag":
            tag = tag_values(self.pg, T.c.tags)
            return stmt.join(tag, true()), tag.c.value
        column = {
            "agent": T.c.assignee_id,
            "queue": T.c.queue,
            "channel": T.c.origin,
            "priority": T.c.priority,
        }[by]
        # SQLite would walk an index on the key (e.g. assignee, status) to skip the sort and
        # read far more rows than the window holds; `+key` leaves it the time-range index.
        return stmt, self._unindexed(column)

    async def _grouped(
        self, stmt: Select[Any], slot: Any, key: Any, *aggregates: Any
    ) -> list[tuple[Key, tuple[Any, ...]]]:
        """Run `stmt` with (slot, key, aggregates…) grouped by the non-constant parts."""
        cols = [
            slot if slot is not None else ZERO,
            key if key is not None else NOTHING,
            *aggregates,
        ]
        stmt = stmt.with_only_columns(*cols, maintain_column_froms=True)
        groups = [c for c in (slot, key) if c is not None]
        if groups:
            stmt = stmt.group_by(*groups)
        rows = await self.rows(stmt)
        return [((int(r[0]), _key(r[1])), tuple(r[2:])) for r in rows]

    async def _counts(
        self,
        column: Any,
        windows: Sequence[Window],
        scope: Scope,
        by: str | None,
        *where: Any,
        source: Any = None,
    ) -> dict[Key, int]:
        slot, inside = slot_of(column, windows)
        stmt = select(func.count()).select_from(source if source is not None else T)
        stmt, key = self.group(stmt, by)
        stmt = self.scoped(stmt, scope).where(inside, *where)
        return {k: int(v[0]) for k, v in await self._grouped(stmt, slot, key, func.count())}

    # --- figures --------------------------------------------------------------------------
    async def created(
        self,
        windows: Sequence[Window],
        scope: Scope,
        by: str | None,
        now: datetime,
        sla_policies: Mapping[str, Sequence[str]] | None,
        channels: bool = False,
    ) -> dict[Key, Created]:
        """Tickets created per window and group (storage/reports_created.py)."""
        return await reports_created.created(self, windows, scope, by, now, sla_policies,
                                             channels)  # fmt: skip

    async def window_counts(
        self, column: str, windows: Sequence[Window], scope: Scope
    ) -> list[int]:
        """Tickets whose `column` (created_at, resolved_at…) is in each window, in order."""
        return await reports_created.window_counts(self, T.c[column], windows, scope)

    async def messages(self, windows: Sequence[Window], scope: Scope) -> dict[int, int]:
        """Messages on the tickets created in each window.

        Tickets get their ids as they are created, so a window's tickets are usually exactly
        the ids lo..hi (checked: hi − lo + 1 tickets); their messages are then one range of
        the (ticket_id, id) index. Otherwise, and for a queue or an agent, a join counts them.
        """
        out: dict[int, int] = {}
        if not scope.queue and scope.assignee_id is None:
            for i, w in enumerate(windows):
                ids = select(func.min(T.c.id), func.max(T.c.id), func.count())
                lo, hi, n = (await self.rows(ids.where(*_within(T.c.created_at, w))))[0]
                if not n:
                    out[i] = 0
                elif hi - lo + 1 == n:
                    count = select(func.count()).where(M.c.ticket_id.between(lo, hi))
                    out[i] = int((await self.rows(count))[0][0])
        missing = [w for i, w in enumerate(windows) if i not in out]
        if missing:
            found = await self._counts(
                T.c.created_at, windows, scope, None, source=T.join(M, M.c.ticket_id == T.c.id)
            )
            for (i, _), n in found.items():
                out.setdefault(i, n)
        return out

    async def closed(
        self, windows: Sequence[Window], scope: Scope, by: str | None
    ) -> dict[Key, int]:
        if by is None:  # one index range count per window: no CASE per row, no sort
            counts = await self.window_counts("closed_at", windows, scope)
            return {(i, None): n for i, n in enumerate(counts) if n}
        return await self._counts(T.c.closed_at, windows, scope, by)

    async def durations(
        self, kind: str, windows: Sequence[Window], scope: Scope, groups: Sequence[str]
    ) -> dict[str, dict[Key, tuple[Pct, Pct]]]:
        """First-response or resolution times (storage/reports_times.py)."""
        return await reports_times.durations(self, kind, windows, scope, groups)

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = Reader(self.conn.engine)
        return self._reader

    async def rows(self, stmt: Any) -> list[tuple[Any, ...]]:
        return await self.reader.rows(stmt)

    def reading(self) -> AbstractAsyncContextManager[None]:
        """Read connections stay open (one snapshot each) until the block ends (reports_db)."""
        return self.reader.session()

    async def backlog(
        self, at: datetime, scope: Scope, by: str | None, ages: bool
    ) -> dict[tuple[int, str | None], int]:
        """Backlog at `at` per (age bucket or 0, group): active tickets created before `at`,
        plus tickets created before `at` and resolved after it."""
        bucket: Any = None
        if ages:
            whens = [
                (T.c.created_at > at - timedelta(seconds=upper), i)
                for i, (_, upper) in enumerate(AGE_BUCKETS)
                if upper is not None
            ]
            bucket = case(*whens, else_=len(AGE_BUCKETS) - 1)
        out: dict[tuple[int, str | None], int] = {}
        for cond in (
            # SQLite cannot know active tickets are few (no histograms): say so
            T.c.status.in_(ACTIVE) if self.pg else func.unlikely(T.c.status.in_(ACTIVE)),
            # `+status` on SQLite: read the resolved_at range, not every resolved ticket
            and_(self._unindexed(T.c.status).in_(DONE), T.c.resolved_at >= at),
        ):
            stmt, key = self.group(select(func.count()).select_from(T), by)
            stmt = self.scoped(stmt, scope).where(cond, self._unindexed(T.c.created_at) < at)
            for k, v in await self._grouped(stmt, bucket, key, func.count()):
                out[k] = out.get(k, 0) + int(v[0])
        return out

    async def history_counts(
        self, kind: str, windows: Sequence[Window], scope: Scope, by: str | None, *where: Any
    ) -> dict[Key, int]:
        """History events of `kind` per window and group (status changes, escalations)."""
        plain = by is None and not scope.queue and scope.assignee_id is None
        return await self._counts(
            H.c.at,
            windows,
            scope,
            by,
            H.c.kind == kind,
            *where,
            source=H if plain else H.join(T, T.c.id == H.c.ticket_id),  # tickets when needed
        )

    async def reopened(
        self, windows: Sequence[Window], scope: Scope, by: str | None
    ) -> dict[Key, int]:
        return await self.history_counts(
            "status", windows, scope, by, H.c.old.in_(DONE), H.c.new == "open"
        )

    async def replies(
        self, windows: Sequence[Window], scope: Scope, by: str | None
    ) -> dict[Key, int]:
        """Public agent replies written in each window (storage/reports_replies.py)."""
        return await reports_replies.replies(self, windows, scope, by)

    async def tag_counts(
        self, windows: Sequence[Window], scope: Scope, now: datetime
    ) -> dict[Key, Created]:
        """Tickets created per window and tag (storage/reports_tags.py)."""
        return await reports_tags.tag_counts(self, windows, scope, now)

    async def agent_names(self) -> dict[str, str]:
        rows = await self.rows(select(tb.agents.c.id, tb.agents.c.name))
        return {str(r[0]): str(r[1]) for r in rows}

    # --- satisfaction (storage/reports_csat.py) --------------------------------------------
    async def has_ratings(self) -> bool:
        return await reports_csat.has_ratings(self)

    async def csat(self, windows: Sequence[Window], scope: Scope) -> dict[int, Csat]:
        return await reports_csat.csat(self, windows, scope)

    # --- export and digest ----------------------------------------------------------------
    def export_rows(
        self, window: Window, scope: Scope, limit: int, with_ratings: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        """The tickets behind a report (storage/reports_export.py)."""
        return reports_export.export_rows(self, window, scope, limit, with_ratings)

    async def last_digest_at(self) -> datetime | None:
        o = tb.outbox
        stmt = select(func.max(o.c.created_at)).where(
            o.c.kind == "report", o.c.audience == "agents"
        )
        return (await self.conn.execute(stmt)).scalar()


def _within(column: Any, window: Window) -> tuple[Any, Any]:
    return column >= window.start, column < window.end


def _key(value: Any) -> str | None:
    return None if value is None else str(value)
