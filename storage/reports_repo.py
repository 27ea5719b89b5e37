"""Report aggregates in SQL (SQLite and PostgreSQL): counts, SLA outcomes, backlog, CSAT.

Each method is one or two aggregate statements with a row per (window, group); tickets are
never loaded into Python. Durations are in reports_times.py, the CSV rows in
reports_export.py; queries run on read connections of their own (reports_db.py), several at
once. Definitions live in bot/reports/figures.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.reports.figures import AGE_BUCKETS, Csat, Pct, Scope, Sla
from bot.reports.periods import Window
from storage import reports_export, reports_times
from storage import tables as tb
from storage.reports_db import Reader
from storage.reports_sql import slot_of, tag_values

T, M, H = tb.tickets, tb.messages, tb.history
ACTIVE = ("new", "open", "pending", "on_hold")
DONE = ("resolved", "closed")
DUE = {"first_response": (T.c.first_response_due, T.c.first_response_at, "fr")}
DUE["resolution"] = (T.c.resolution_due, T.c.resolved_at, "rs")
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
    ) -> dict[Key, tuple[int, dict[str, Sla]]]:
        """Tickets created per window and group, with SLA outcomes per target (none when
        `sla_policies` is None: counts only, e.g. for the top tags)."""
        if sla_policies is None:
            counts = await self._counts(T.c.created_at, windows, scope, by)
            return {k: (n, {}) for k, n in counts.items()}
        breaches = (
            select(
                H.c.ticket_id,
                *[
                    func.max(case((H.c.new == target, 1), else_=0)).label(short)
                    for target, (_, _, short) in DUE.items()
                ],
            )
            .where(H.c.kind == "sla_breached", H.c.at >= windows[0].start)
            # SQLite would rather walk all history in ticket order than sort these few rows
            .group_by(H.c.ticket_id if self.pg else literal_column("+history.ticket_id"))
            .subquery("b")
        )
        slot, inside = slot_of(T.c.created_at, windows)
        stmt = select(func.count()).select_from(
            T.outerjoin(breaches, breaches.c.ticket_id == T.c.id)
        )
        stmt, key = self.group(stmt, by)
        cols: list[Any] = [func.count()]
        for target, (due, met_at, short) in DUE.items():
            flagged = func.coalesce(breaches.c[short], 0) == 1
            breached = or_(
                flagged,
                and_(met_at.is_(None), due.is_not(None), due < now),
                and_(met_at.is_not(None), due.is_not(None), met_at > due),
            )
            has = [due.is_not(None), flagged]
            if sla_policies.get(target):
                has.append(T.c.sla_policy.in_(list(sla_policies[target])))
            counted = and_(T.c.status != "merged", or_(*has))
            for cond in (
                and_(counted, not_(breached), met_at.is_not(None)),
                and_(counted, breached),
                and_(counted, not_(breached), met_at.is_(None)),
            ):
                cols.append(func.sum(case((cond, 1), else_=0)))
        stmt = self.scoped(stmt, scope).where(inside)
        out: dict[Key, tuple[int, dict[str, Sla]]] = {}
        for k, v in await self._grouped(stmt, slot, key, *cols):
            sla = {
                target: Sla(*(int(x or 0) for x in v[1 + 3 * i : 4 + 3 * i]))
                for i, target in enumerate(DUE)
            }
            out[k] = (int(v[0]), sla)
        return out

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
            and_(T.c.status.in_(DONE), T.c.resolved_at >= at),
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
        """Public agent replies written in each window, per group (`agent`: the author)."""
        slot, inside = slot_of(M.c.created_at, windows)
        where = [inside, M.c.author_kind == "agent", M.c.visibility == "public"]
        if scope.assignee_id is not None:
            where.append(M.c.author_id == scope.assignee_id)  # `/report me`: what I wrote
            scope = Scope(queue=scope.queue)
        key: Any = None
        if by in (None, "agent") and not scope.queue:
            stmt = select(func.count()).select_from(M)
        else:
            stmt = select(func.count()).select_from(M.join(T, T.c.id == M.c.ticket_id))
            stmt, key = self.group(stmt, None if by == "agent" else by)
            stmt = self.scoped(stmt, scope)
        if by == "agent":
            key = M.c.author_id
        found = await self._grouped(stmt.where(*where), slot, key, func.count())
        return {k: int(v[0]) for k, v in found}

    async def agent_names(self) -> dict[str, str]:
        rows = await self.rows(select(tb.agents.c.id, tb.agents.c.name))
        return {str(r[0]): str(r[1]) for r in rows}

    # --- satisfaction ---------------------------------------------------------------------
    async def has_ratings(self) -> bool:
        """True when the ratings table exists and has a rating (CSAT shows "no ratings yet")."""
        if self.pg:
            found = select(func.to_regclass("ratings").is_not(None))
        else:
            master = table("sqlite_master", column("name"), column("type"))
            found = select(func.count() > 0).where(master.c.name == "ratings",
                                                   master.c.type == "table")  # fmt: skip
        if not (await self.rows(found))[0][0]:
            return False
        r = tb.ratings
        return bool(await self.rows(select(r.c.ticket_id).where(r.c.score.is_not(None)).limit(1)))

    async def csat(self, windows: Sequence[Window], scope: Scope) -> dict[int, Csat]:
        r = tb.ratings
        plain = not scope.queue and scope.assignee_id is None
        source = r if plain else r.join(T, T.c.id == r.c.ticket_id)
        slot, inside = slot_of(r.c.rated_at, windows)
        stmt = self.scoped(select(func.count()).select_from(source), scope)
        stmt = stmt.where(inside, r.c.score.is_not(None))
        scores: dict[int, list[int]] = {i: [0] * 5 for i in range(len(windows))}
        for (w, score), v in await self._grouped(stmt, slot, r.c.score, func.count()):
            if score is not None and 1 <= int(score) <= 5:
                scores[w][int(score) - 1] += int(v[0])
        slot, inside = slot_of(r.c.survey_sent_at, windows)
        answered = func.sum(case((r.c.score.is_not(None), 1), else_=0))
        stmt = self.scoped(select(func.count()).select_from(source), scope).where(inside)
        sent = {
            k[0]: (int(v[0]), int(v[1] or 0))
            for k, v in await self._grouped(stmt, slot, None, func.count(), answered)
        }
        return {
            i: Csat(*sent.get(i, (0, 0)), scores=(*scores[i],))  # type: ignore[arg-type]
            for i in range(len(windows))
        }

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
