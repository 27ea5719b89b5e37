"""Tickets created per window: counts, channel mix and SLA outcomes in one pass; plain counts.

One statement reads the period's and the previous period's tickets once and groups them by
(one integer: window and outcome code per SLA target, group key, channel): the period's
totals, the channel mix, the `by X` breakdown and SLA compliance all come from its few hundred
rows. A second statement starts from the tickets with an SLA record (~12 %: a breach, or a
next response met) and moves them to their recorded outcome, so that the first joins nothing.
Outcomes are a small CASE per ticket (figures.py has the definitions), not a sum per outcome
and target. Per-day counts for the chart are index range counts (`window_counts`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, cast, func, literal_column, or_, select

from bot.reports.figures import Scope, Sla
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import concatenated, count_distinct_rows, slot_of

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
    per target unless `sla_policies` is None (then counts only, e.g. for the top tags).

    Two statements: every ticket as if it had no SLA records, and the few tickets with one
    (breached, or a next response met), each with both outcome codes; the second moves
    those tickets from the first code to the second. Joining every ticket to its records
    cost a lookup per ticket (~20% of this pass on SQLite)."""
    slot, inside = slot_of(T.c.created_at, windows)
    w = slot * WINDOW if slot is not None else ZERO
    plain = _code(w, now, sla_policies, None)
    passes = [_count(repo, T, by, scope, inside, channels, plain)]
    if sla_policies is not None:
        b = _breaches(repo, windows[0].start)
        source = b.join(T, T.c.id == b.c.ticket_id)  # the records, then each one's ticket
        recorded = _code(w, now, sla_policies, b)
        passes.append(_count(repo, source, by, scope, inside, channels, recorded, plain))
    found, *moves = await asyncio.gather(*passes)  # independent: two read connections
    counts = {tuple(r[:-1]): int(r[-1]) for r in found}
    for moved, *rest, n in moves[0] if moves else []:
        counts[tuple(rest)] -= int(n)
        counts[(moved, *rest[1:])] = counts.get((moved, *rest[1:]), 0) + int(n)
    out: dict[Key, Created] = {}
    for (code, k, channel), n in counts.items():
        if not n:
            continue
        entry = out.setdefault((int(code) // WINDOW, None if k is None else str(k)), Created())
        entry.n += n
        if channels:
            entry.channels[channel or "?"] = entry.channels.get(channel or "?", 0) + n
        if sla_policies is not None:
            for i, target in enumerate(TARGETS):
                outcome = [0, 0, 0, 0]
                outcome[int(code) // 4**i % 4] = n
                entry.sla[target] = entry.sla.get(target, Sla()) + Sla(*outcome[1:])
    return out


WINDOW = 64  # a ticket's code: window × 64 + outcome codes (0–3) of the targets, base 4


def _code(
    window: Any,
    now: datetime,
    sla_policies: Mapping[str, Sequence[str]] | None,
    records: Any,
) -> Any:
    """One integer per ticket: its window and its outcome per target (none without
    `sla_policies`); `records` are the SLA records (_breaches), None for tickets without."""
    code = window
    if sla_policies is None:
        return code
    for i, (target, short) in enumerate(TARGETS.items()):
        flag = records.c[short] if records is not None else None
        met = records.c[NEXT_MET] if records is not None and target == "next_response" else None
        code = code + _outcome(target, flag, now, sla_policies, met) * 4**i
    return code


async def _count(
    repo: ReportsRepository,
    source: Any,
    by: str | None,
    scope: Scope,
    inside: Any,
    channels: bool,
    *codes: Any,
) -> list[tuple[Any, ...]]:
    """Rows (codes…, group key, channel, tickets) over the tickets created in the windows."""
    stmt = select(ZERO).select_from(source)
    key: Any = None
    if by == "tag" and repo.pg:
        # a set-returning function in the select list (ProjectSet) is twice as fast as a
        # lateral join on PostgreSQL; tickets without tags give no row either way
        key = func.json_array_elements_text(T.c.tags)
    elif by is not None:
        stmt, key = repo.group(stmt, by)
    if by == "tag":
        stmt = stmt.where(cast(T.c.tags, String) != "[]")  # a third of tickets: skip early
    cols = [
        *codes,
        key if key is not None else NOTHING,
        repo.group(stmt, "channel")[1] if channels else NOTHING,
    ]
    labelled = [c.label(f"g{i}") for i, c in enumerate(cols)]
    inner = repo.scoped(stmt, scope).where(inside)
    sub = inner.with_only_columns(*labelled, maintain_column_froms=True).subquery("t")
    groups = [sub.c[c.name] for c in labelled]
    if repo.pg:  # a hash aggregate
        return await repo.rows(select(*groups, func.count()).group_by(*groups))
    # SQLite sorts to group: read the columns instead and count in numpy (reports_sql.py);
    # the constant NULL columns (no key, no channels) are not read
    numeric = [*(True for _ in codes), by == "agent", False]
    read = [i for i, c in enumerate(cols) if c is not NOTHING]
    concat = [concatenated(groups[i], text=not numeric[i]) for i in read]
    (row,) = await repo.rows(select(*concat))
    out = []
    for found in count_distinct_rows(row, [numeric[i] for i in read]):
        values: list[Any] = [None] * len(cols)
        for i, value in zip(read, found, strict=False):
            values[i] = value
        out.append((*values, found[-1]))
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
    # flag: a breach record (1) or none (0, NULL); None when the ticket has no SLA record
    flagged = [] if flag is None else [func.coalesce(flag, 0) == 1]
    merged = T.c.status == "merged"
    if target == "next_response":  # any cycle breached; else one waiting now; else one met
        due = NEXT[0]
        whens = [(merged, NONE), (or_(*flagged, due < now), BREACHED), (due.is_not(None), OPEN)]
        if met_flag is not None:
            whens.append((func.coalesce(met_flag, 0) == 1, MET))
        return case(*whens, else_=NONE)
    due, met_at, _ = DUE[target]
    has = [due.is_not(None)]
    if sla_policies.get(target):
        has.append(T.c.sla_policy.in_(list(sla_policies[target])))
    # NULLs make a condition unknown, which CASE treats as false: the order below is the
    # definition (breached first, then met or open for tickets that have the target)
    return case(
        (merged, NONE),
        (or_(*flagged, and_(met_at.is_(None), due < now), met_at > due), BREACHED),
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
