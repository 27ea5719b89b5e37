"""Report durations: first-response and resolution times, wall and business, median and p90.

Both read the wall-clock and business seconds stored with each ticket (columns written with
the event) from the event's covering index. PostgreSQL computes percentile_disc in SQL with
grouping sets (the period, each day, each agent or group) in one pass. SQLite reads the
columns once, each concatenated into one string in event-time order, plus the row count of
each window, and numpy picks the same ranks (storage/reports_sql.py), so both report
identical figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import case, func, literal_column, select, tuple_

from bot.reports.figures import P50, P90, Pct, Scope
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import (
    concatenated,
    durations_from_columns,
    parse_keys,
    parse_numbers,
    slot_of,
)

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T = tb.tickets
Key = tuple[int, str | None]
Times = dict[str, dict[Key, tuple[Pct, Pct]]]
COLUMNS = {  # event time, wall seconds since creation, business seconds
    "first_response": (T.c.first_response_at, T.c.first_response_wall_secs,
                       T.c.first_response_secs),
    "resolution": (T.c.resolved_at, T.c.resolution_wall_secs, T.c.resolution_secs),
}  # fmt: skip
ZERO: Any = literal_column("0")
NOTHING: Any = literal_column("NULL")


async def durations(
    repo: ReportsRepository,
    kind: str,
    windows: Sequence[Window],
    scope: Scope,
    groups: Sequence[str],
) -> Times:
    """`kind` is "first_response" or "resolution"; the tickets are those answered (resolved)
    in each window, so n of wall is their count.

    `windows` are the previous period (slot 0) then the current one, whole or day by day.
    Returns {"period": {(0 or 1, None): (wall, business)}} and, per entry of `groups`,
    "day" → {(slot, None): …} or a grouping ("agent", "queue", …) → {(0 or 1, key): …}.
    """
    at, wall, secs = COLUMNS[kind]
    slot, inside = slot_of(at, windows)
    keyed = [g for g in groups if g != "day"]
    stmt = select(func.count()).select_from(T)
    keys = []
    for g in keyed:
        stmt, key = repo.group(stmt, g)
        keys.append(key)
    stmt = repo.scoped(stmt, scope)
    if not repo.pg:
        return await _sqlite(repo, stmt, (at, wall, secs), keys, windows, groups)
    stmt = stmt.where(inside).with_only_columns(
        (slot if slot is not None else ZERO).label("s"),
        case((at >= windows[1].start, 1), else_=0).label("p"),
        wall.label("wall"),
        secs.label("bus"),
        *[k.label(f"k{i}") for i, k in enumerate(keys)],
        maintain_column_froms=True,
    )
    return await _pg(repo, stmt.subquery(), groups, keyed)


async def _sqlite(
    repo: ReportsRepository,
    stmt: Any,
    event: tuple[Any, Any, Any],
    keys: Sequence[Any],
    windows: Sequence[Window],
    groups: Sequence[str],
) -> Times:
    """One statement: the columns concatenated in event-time order, and each window's row
    count. The windows are in time order and disjoint, so row i is in the window where the
    running count passes i: no per-row timestamp work in SQL (that was most of the time).

    SQLite keeps a FROM subquery's ORDER BY when the outer query is an aggregate: its query
    flattener leaves such a subquery alone so that group_concat() sees the order (SQLite
    ticket #2942, kept by its test suite)."""
    at, wall, secs = event
    assert all(a.end <= b.start for a, b in pairwise(windows))
    _, inside = slot_of(at, windows)
    text = [g != "agent" for g in groups if g != "day"]
    rows = stmt.where(inside).with_only_columns(
        *[c.label(f"c{i}") for i, c in enumerate([wall, secs, *keys])],
        maintain_column_froms=True,
    )
    sub = rows.order_by(at).subquery("d")
    concat = [concatenated(c, t) for c, t in zip(sub.c, [False, False, *text], strict=True)]
    counts = [stmt.where(at >= w.start, at < w.end).scalar_subquery() for w in windows]
    (row,) = await repo.rows(select(*concat, *counts))
    walls, business = parse_numbers(row[0]), parse_numbers(row[1])
    columns = [parse_keys(v, numeric=not t) for v, t in zip(row[2:], text, strict=False)]
    slots = np.repeat(np.arange(len(windows)), [int(n) for n in row[len(concat) :]])
    assert len(slots) == len(walls), "one statement: the counts and the rows agree"
    return durations_from_columns(walls, business, columns, slots, groups)


async def _pg(
    repo: ReportsRepository, sub: Any, groups: Sequence[str], keyed: Sequence[str]
) -> Times:
    """Two statements at once: the period and its groups (wall and business times, grouping
    sets), and the chart's days (wall only: a day's business percentiles are never shown, and
    they cost a sort per day)."""
    period = sub.c.p
    keys = [sub.c[f"k{i}"] for i in range(len(keyed))]
    sets = [tuple_(period)] + [tuple_(period, k) for k in keys]
    cols: list[Any] = [period, *keys, *(func.grouping(k) for k in keys)]
    for v in (sub.c.wall, sub.c.bus):
        cols += _percentiles_of(v)
    statements = [select(*cols).group_by(func.grouping_sets(*sets))]
    if "day" in groups:
        day = select(sub.c.s, *_percentiles_of(sub.c.wall)).where(sub.c.s > 0)
        statements.append(day.group_by(sub.c.s))
    found, *by_day = await asyncio.gather(*(repo.rows(stmt) for stmt in statements))
    out: Times = {g: {} for g in ("period", *groups)}
    nk = len(keys)
    for r in found:
        wall = Pct(int(r[1 + 2 * nk]), _int(r[2 + 2 * nk]), _int(r[3 + 2 * nk]))
        bus = Pct(int(r[4 + 2 * nk]), _int(r[5 + 2 * nk]), _int(r[6 + 2 * nk]))
        used = [i for i in range(nk) if r[1 + nk + i] == 0]
        value = r[1 + used[0]] if used else None
        group = keyed[used[0]] if used else "period"
        out[group][(int(r[0]), None if value is None else str(value))] = (wall, bus)
    for r in by_day[0] if by_day else []:
        out["day"][(int(r[0]), None)] = (Pct(int(r[1]), _int(r[2]), _int(r[3])), Pct())
    return out


def _percentiles_of(value: Any) -> list[Any]:
    """count, median and p90 (percentile_disc) of a duration column."""
    return [func.count(value)] + [func.percentile_disc(p).within_group(value) for p in (P50, P90)]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
