"""Report satisfaction: whether any rating exists, and CSAT per window (surveys and scores)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import case, column, func, select, table

from bot.reports.figures import Csat, Scope
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import slot_of

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T = tb.tickets


async def has_ratings(repo: ReportsRepository) -> bool:
    """True when the ratings table exists and has a rating (CSAT shows "no ratings yet")."""
    if repo.pg:
        found = select(func.to_regclass("ratings").is_not(None))
    else:
        master = table("sqlite_master", column("name"), column("type"))
        found = select(func.count() > 0).where(master.c.name == "ratings",
                                               master.c.type == "table")  # fmt: skip
    if not (await repo.rows(found))[0][0]:
        return False
    r = tb.ratings
    return bool(await repo.rows(select(r.c.ticket_id).where(r.c.score.is_not(None)).limit(1)))


async def csat(repo: ReportsRepository, windows: Sequence[Window], scope: Scope) -> dict[int, Csat]:
    r = tb.ratings
    plain = not scope.queue and scope.assignee_id is None
    source = r if plain else r.join(T, T.c.id == r.c.ticket_id)
    slot, inside = slot_of(r.c.rated_at, windows)
    stmt = repo.scoped(select(func.count()).select_from(source), scope)
    stmt = stmt.where(inside, r.c.score.is_not(None))
    scores: dict[int, list[int]] = {i: [0] * 5 for i in range(len(windows))}
    for (w, score), v in await repo._grouped(stmt, slot, r.c.score, func.count()):
        if score is not None and 1 <= int(score) <= 5:
            scores[w][int(score) - 1] += int(v[0])
    slot, inside = slot_of(r.c.survey_sent_at, windows)
    answered = func.sum(case((r.c.score.is_not(None), 1), else_=0))
    stmt = repo.scoped(select(func.count()).select_from(source), scope).where(inside)
    sent = {
        k[0]: (int(v[0]), int(v[1] or 0))
        for k, v in await repo._grouped(stmt, slot, None, func.count(), answered)
    }
    return {
        i: Csat(*sent.get(i, (0, 0)), scores=(*scores[i],))  # type: ignore[arg-type]
        for i in range(len(windows))
    }
