"""Report replies: public agent replies written in each window, per group or per author.

SQLite counts per author with one index range per agent and window (sorting the period's
replies to group them cost more); PostgreSQL keeps its hash aggregate over the (kind, time)
index range, which EXPLAIN ANALYZE showed faster there than a hundred ranges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal, select

from bot.reports.figures import Scope
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import slot_of

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T, M = tb.tickets, tb.messages
Key = tuple[int, str | None]


async def replies(
    repo: ReportsRepository, windows: Sequence[Window], scope: Scope, by: str | None
) -> dict[Key, int]:
    """Public agent replies written in each window, per group (`agent`: the author)."""
    if by == "agent" and not scope.queue and scope.assignee_id is None and not repo.pg:
        return await _by_author(repo, windows)
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
        stmt, key = repo.group(stmt, None if by == "agent" else by)
        stmt = repo.scoped(stmt, scope)
    if by == "agent":
        key = M.c.author_id
    found = await repo._grouped(stmt.where(*where), slot, key, func.count())
    return {k: int(v[0]) for k, v in found}


async def _by_author(repo: ReportsRepository, windows: Sequence[Window]) -> dict[Key, int]:
    """Per agent and window, one range of the (kind, visibility, author, time) index each —
    no sort of the period's replies to group them. Replies whose author is not an agent row
    (none are written) are the total's remainder, under None."""
    A = tb.agents

    def count(w: Window, *where: Any) -> Any:
        return (
            select(func.count())
            .select_from(M)
            .where(M.c.author_kind == "agent", *where)
            .where(M.c.created_at >= w.start, M.c.created_at < w.end)
            .scalar_subquery()
        )

    public = M.c.visibility == "public"
    per_agent = select(A.c.id, *[count(w, public, M.c.author_id == A.c.id) for w in windows])
    # totals: the (kind, time) range; SQLite would pick the per-author index without
    # `+visibility` and read every public reply ever written
    anywhere = repo._unindexed(M.c.visibility) == literal("public")
    totals = select(*[count(w, anywhere) for w in windows])
    found, [total] = await asyncio.gather(repo.rows(per_agent), repo.rows(totals))
    out: dict[Key, int] = {}
    for agent, *counts in found:
        for i, n in enumerate(counts):
            if n:
                out[(i, str(agent))] = int(n)
    for i, n in enumerate(total):
        rest = int(n) - sum(v for (w, _), v in out.items() if w == i)
        if rest:
            out[(i, None)] = rest
    return out
