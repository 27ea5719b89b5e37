"""Report durations: first-response and resolution times, wall and business, median and p90.

PostgreSQL computes percentile_disc in SQL with grouping sets (the period, each day, each
agent or group) in one pass. SQLite reads the columns once, each concatenated into one string,
and numpy picks the same ranks (storage/reports_sql.py), so both report identical figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, literal_column, select, tuple_

from bot.reports.figures import P50, P90, Pct, Scope
from bot.reports.periods import Window
from storage import tables as tb
from storage.reports_sql import (
    concatenated,
    durations_from_columns,
    julian_seconds,
    parse_keys,
    parse_numbers,
    slot_of,
    wall_seconds,
)

if TYPE_CHECKING:
    from storage.reports_repo import ReportsRepository

T = tb.tickets
Key = tuple[int, str | None]
Times = dict[str, dict[Key, tuple[Pct, Pct]]]
COLUMNS = {
    "first_response": (T.c.first_response_at, T.c.first_response_secs),
    "resolution": (T.c.resolved_at, T.c.resolution_secs),
}
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
    at, secs = COLUMNS[kind]
    slot, inside = slot_of(at, windows)
    keyed = [g for g in groups if g != "day"]
    stmt = select(func.count()).select_from(T)
    keys = []
    for g in keyed:
        stmt, key = repo.group(stmt, g)
        keys.append(key)
    stmt = repo.scoped(stmt, scope).where(inside)
    if not repo.pg:  # one pass reading the columns, each as one string; numpy picks the ranks
        text = [g != "agent" for g in keyed]
        stmt = stmt.with_only_columns(
            concatenated(julian_seconds(at)), concatenated(julian_seconds(T.c.created_at)),
            concatenated(secs), *[concatenated(k, t) for k, t in zip(keys, text, strict=True)],
            maintain_column_froms=True,
        )  # fmt: skip
        (row,) = await repo.rows(stmt)
        starts = [int(w.start.timestamp()) for w in windows]
        columns = [parse_keys(v, numeric=not t) for v, t in zip(row[3:], text, strict=True)]
        return durations_from_columns(
            parse_numbers(row[0]), parse_numbers(row[1]), parse_numbers(row[2]), columns,
            starts, groups,
        )  # fmt: skip
    stmt = stmt.with_only_columns(
        (slot if slot is not None else ZERO).label("s"),
        case((at >= windows[1].start, 1), else_=0).label("p"),
        wall_seconds(True, at, T.c.created_at).label("wall"),
        secs.label("bus"),
        *[k.label(f"k{i}") for i, k in enumerate(keys)],
        maintain_column_froms=True,
    )
    return await _pg(repo, stmt.subquery(), groups, keyed)


async def _pg(
    repo: ReportsRepository, sub: Any, groups: Sequence[str], keyed: Sequence[str]
) -> Times:
    period, days = sub.c.p, "day" in groups
    keys = [sub.c[f"k{i}"] for i in range(len(keyed))]
    sets = [tuple_(period)] + ([tuple_(sub.c.s)] if days else [])
    sets += [tuple_(period, k) for k in keys]
    cols: list[Any] = [func.grouping(period), period, sub.c.s if days else NOTHING, *keys]
    cols += [func.grouping(k) for k in keys]
    for v in (sub.c.wall, sub.c.bus):
        cols.append(func.count(v))
        cols += [func.percentile_disc(p).within_group(v) for p in (P50, P90)]
    stmt = select(*cols).group_by(func.grouping_sets(*sets))
    out: Times = {g: {} for g in ("period", *groups)}
    nk = len(keys)
    for r in await repo.rows(stmt):
        wall = Pct(int(r[3 + 2 * nk]), _int(r[4 + 2 * nk]), _int(r[5 + 2 * nk]))
        bus = Pct(int(r[6 + 2 * nk]), _int(r[7 + 2 * nk]), _int(r[8 + 2 * nk]))
        if r[0] == 1:  # grouped by day slot, not by period
            out["day"][(int(r[2]), None)] = (wall, bus)
            continue
        used = [i for i in range(nk) if r[3 + nk + i] == 0]
        value = r[3 + used[0]] if used else None
        group = keyed[used[0]] if used else "period"
        out[group][(int(r[1]), None if value is None else str(value))] = (wall, bus)
    return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
