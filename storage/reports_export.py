"""The ticket rows behind a report, for its CSV export: one streamed select."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, literal, null, or_, select

from bot.reports.figures import Scope
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_db import as_datetime

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T, M, H = tb.tickets, tb.messages, tb.history
TIMES = ("created_at", "first_response_at", "resolved_at", "closed_at", "first_response_due",
         "resolution_due")  # fmt: skip


async def export_rows(
    repo: ReportsRepository, window: Window, scope: Scope, limit: int, with_ratings: bool
) -> AsyncIterator[dict[str, Any]]:
    """Tickets created, first answered, resolved or closed in the window, oldest first, with
    their message count, breached SLA targets and rating (`with_ratings`: the table exists)."""
    inside = or_(
        *[and_(c >= window.start, c < window.end) for c in
          (T.c.created_at, T.c.first_response_at, T.c.resolved_at, T.c.closed_at)]
    )  # fmt: skip
    n_messages = (
        select(func.count()).where(M.c.ticket_id == T.c.id).scalar_subquery().label("messages")
    )
    r = tb.ratings
    score = (
        select(r.c.score).where(r.c.ticket_id == T.c.id).scalar_subquery().label("csat")
        if with_ratings
        else null().label("csat")
    )
    joined = func.string_agg(H.c.new, literal(" ")) if repo.pg else func.group_concat(H.c.new, " ")
    breached = (
        select(joined)
        .where(H.c.ticket_id == T.c.id, H.c.kind == "sla_breached")
        .scalar_subquery()
        .label("breached")
    )
    stmt = repo.scoped(
        select(
            T.c.id, T.c.subject, T.c.status, T.c.priority, T.c.queue, T.c.origin,
            tb.agents.c.name.label("assignee"), T.c.tags, T.c.sla_policy, T.c.created_at,
            T.c.first_response_at, T.c.resolved_at, T.c.closed_at,
            T.c.first_response_secs, T.c.resolution_secs, T.c.first_response_due,
            T.c.resolution_due, breached, n_messages, score,
        ).select_from(T.outerjoin(tb.agents, tb.agents.c.id == T.c.assignee_id)),
        scope,
    ).where(inside).order_by(T.c.created_at, T.c.id).limit(limit)  # fmt: skip
    names = [c.name for c in stmt.selected_columns]
    async for values in repo.reader.stream(stmt):
        row = dict(zip(names, values, strict=True))
        for name in TIMES:
            row[name] = as_datetime(row[name])
        if isinstance(row["tags"], str):  # SQLite: JSON text
            row["tags"] = json.loads(row["tags"])
        yield row
