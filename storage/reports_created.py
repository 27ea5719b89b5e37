"""Tickets created per window: counts, channel mix and SLA outcomes in one pass; plain counts.

One statement reads the period's and the previous period's tickets once and groups them by
(window, group key, channel, one outcome code per SLA target): the period's totals, the channel
mix, the `by X` breakdown and SLA compliance all come from its few hundred rows. Outcomes are
computed once per ticket as a small CASE (figures.py has the definitions), not as a sum per
outcome and target. Per-day counts for the chart are index range counts (`window_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, cast, func, literal_column, or_, select

from bot.reports.figures import Scope, Sla
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import slot_of

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T, H = tb.tickets, tb.history
DUE = {
    "first_response": (T.c.first_response_due, T.c.first_response_at, "fr"),
    "resolution": (T.c.resolution_due, T.c.resolved_at, "rs"),
}
NEXT = (T.c.next_response_due, "nr")  # restarts per customer message; met is a history row
NEXT_MET = "nr_met"
TARGETS = {"first_response": "fr", "resolution": "rs", "next_response": "nr"}
# outcome codes: 0 no such target, then the fields of Sla
NONE, MET, BREACHED, OPEN = 0, 1, 2, 3
Key = tuple[int, str | None]
ZERO: Any = literal_column("0")
NOTHING: Any = literal_column("NULL")


class Created:
    """Tickets created in one window (and group): how many, per channel, SLA per target."""

    __slots__ = ("channels", "n", "sla")

    def __init__(self) -> None:
        self.n = 0
        self.channels: dict[str, int] = {}
        self.sla: dict[str, Sla] = {}


async def created(
    repo: ReportsRepository,
    windows: Sequence[Window],
    scope: Scope,
    by: str | None,
    now: datetime,
    sla_policies: Mapping[str, Sequence[str]] | None,
    channels: bool = False,
) -> dict[Key, Created]:
    """Per (window, group key): tickets created, per channel when `channels`, and SLA outcomes
    per target unless `sla_policies` is None (then counts only, e.g. for the top tags)."""
    slot, inside = slot_of(T.c.created_at, windows)
    stmt = select(ZERO).select_from(T)
    key: Any = None
    if by == "tag" and repo.pg:
        # a set-returning function in the select list (ProjectSet) is twice as fast as a
        # lateral join on PostgreSQL; tickets without tags give no row either way
        key = func.json_array_elements_text(T.c.tags)
    elif by is not None:
        stmt, key = repo.group(stmt, by)
    if by == "tag":
        stmt = stmt.where(cast(T.c.tags, String) != "[]")  # a third of tickets: skip early
    cols: list[Any] = [
        (slot if slot is not None else ZERO).label("s"),
        (key if key is not None else NOTHING).label("k"),
        (repo.group(stmt, "channel")[1] if channels else NOTHING).label("c"),
    ]
    if sla_policies is not None:
        breaches = _breaches(repo, windows[0].start)
        stmt = stmt.outerjoin(breaches, breaches.c.ticket_id == T.c.id)
        for target, short in TARGETS.items():
            met = breaches.c[NEXT_MET] if target == "next_response" else None
            cols.append(_outcome(target, breaches.c[short], now, sla_policies, met).label(short))
    inner = repo.scoped(stmt, scope).where(inside)
    sub = inner.with_only_columns(*cols, maintain_column_froms=True).subquery("t")
    groups = [sub.c[c.name] for c in cols]
    found = await repo.rows(select(*groups, func.count()).group_by(*groups))
    out: dict[Key, Created] = {}
    for s, k, channel, *rest in found:
        n = int(rest[-1])
        entry = out.setdefault((int(s), None if k is None else str(k)), Created())
        entry.n += n
        if channels:
            entry.channels[channel or "?"] = entry.channels.get(channel or "?", 0) + n
        for target, code in zip(TARGETS, rest[:-1], strict=False):
            counts = [0, 0, 0, 0]
            counts[int(code or 0)] = n
            entry.sla[target] = entry.sla.get(target, Sla()) + Sla(*counts[1:])
    return out


def _breaches(repo: ReportsRepository, since: datetime) -> Any:
    """Per ticket with an SLA record since `since`: 1 or 0 per target breached, and whether a
    next-response cycle was met (the only target whose "met" is a record, not a timestamp)."""
    breached = H.c.kind == "sla_breached"
    flags = [
        func.max(case((and_(breached, H.c.new == target), 1), else_=0)).label(short)
        for target, short in TARGETS.items()
    ]
    met = and_(H.c.kind == "sla_met", H.c.new == "next_response")
    flags.append(func.max(case((met, 1), else_=0)).label(NEXT_MET))
    # SQLite would rather walk all history in ticket order than sort these few rows
    ticket = H.c.ticket_id if repo.pg else literal_column("+history.ticket_id")
    return (
        select(H.c.ticket_id, *flags)
        .where(H.c.kind.in_(["sla_breached", "sla_met"]), H.c.new.in_(list(TARGETS)))
        .where(H.c.at >= since)
        .group_by(ticket)
        .subquery("b")
    )


def _outcome(
    target: str,
    flag: Any,
    now: datetime,
    sla_policies: Mapping[str, Sequence[str]],
    met_flag: Any = None,
) -> Any:
    """The ticket's outcome code for `target` (figures.py): merged tickets count for none."""
    flagged = func.coalesce(flag, 0) == 1
    merged = T.c.status == "merged"
    if target == "next_response":  # any cycle breached; else one waiting now; else one met
        due, met = NEXT[0], func.coalesce(met_flag, 0) == 1
        return case(
            (merged, NONE), (or_(flagged, due < now), BREACHED), (due.is_not(None), OPEN),
            (met, MET), else_=NONE,
        )  # fmt: skip
    due, met_at, _ = DUE[target]
    has = [due.is_not(None)]
    if sla_policies.get(target):
        has.append(T.c.sla_policy.in_(list(sla_policies[target])))
    # NULLs make a condition unknown, which CASE treats as false: the order below is the
    # definition (breached first, then met or open for tickets that have the target)
    return case(
        (merged, NONE),
        (or_(flagged, and_(met_at.is_(None), due < now), met_at > due), BREACHED),
        (and_(or_(*has), met_at.is_not(None)), MET),
        (or_(*has), OPEN),
        else_=NONE,
    )


async def window_counts(
    repo: ReportsRepository, column: Any, windows: Sequence[Window], scope: Scope
) -> list[int]:
    """Rows of tickets whose `column` falls in each window: one index range count each (the
    chart's days), rather than a CASE per row and a sort to group them."""
    if not windows:
        return []
    counts = [
        repo.scoped(
            select(func.count()).select_from(T).where(column >= w.start, column < w.end), scope
        ).scalar_subquery()
        for w in windows
    ]
    return [int(n or 0) for n in (await repo.rows(select(*counts)))[0]]
