"""Report replies: public agent replies written in each window, per group or per author.

Per author, both databases count one index range per author and window (`_by_author`):
cheaper than sorting (SQLite) or hashing (PostgreSQL) the period's replies to group them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select

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
    if by == "agent" and not scope.queue and scope.assignee_id is None:
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
    """Per author and window, one range of the (kind, visibility, author, time) index each —
    no sort or hash of the period's replies to group them. The authors are the index's own
    distinct values, a step at a time (a recursive query: one index seek per author), so
    replies by an author who is not an agent row (none are written) are counted too, under
    None. SQLite 68 → 29 ms, PostgreSQL 108 → 65 ms on the 1M-ticket bench data."""
    replies = and_(M.c.author_kind == "agent", M.c.visibility == "public")
    first = select(func.min(M.c.author_id).label("id")).where(replies)
    authors = first.cte("authors", recursive=True)
    after = select(func.min(M.c.author_id)).where(replies, M.c.author_id > authors.c.id)
    authors = authors.union_all(select(after.scalar_subquery()).where(authors.c.id.is_not(None)))

    def count(w: Window) -> Any:
        return (
            select(func.count())
            .select_from(M)
            .where(replies, M.c.author_id == authors.c.id)
            .where(M.c.created_at >= w.start, M.c.created_at < w.end)
            .scalar_subquery()
        )

    is_agent = exists().where(tb.agents.c.id == authors.c.id)
    stmt = select(authors.c.id, is_agent, *[count(w) for w in windows])
    out: dict[Key, int] = {}
    for author, agent, *counts in await repo.rows(stmt.where(authors.c.id.is_not(None))):
        for i, n in enumerate(counts):
            if n:
                key = (i, str(author) if agent else None)
                out[key] = out.get(key, 0) + int(n)
    return out
