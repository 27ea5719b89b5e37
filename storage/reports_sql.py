"""SQL building blocks for reports where SQLite and PostgreSQL differ, and percentile helpers.

Percentiles follow PostgreSQL's `percentile_disc`: the value at rank ceil(p·n) of the sorted
values. PostgreSQL computes them in SQL (grouping sets: the period, each day, each agent or
group in one pass). SQLite has no percentile function; there the one duration column is read
in a single pass (fetching the column, as DESIGN.md describes) and `bot.reports.figures.rank`
picks the same row, so both databases report identical figures on the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    literal_column,
    not_,
)

from bot.reports.figures import P50, P90, Pct, rank
from bot.reports.periods import Window

Key = tuple[int, str | None]


def tag_values(pg: bool, tags_column: Any) -> Any:
    """A table-valued function with one row (column `value`) per element of a JSON array."""
    fn = func.json_array_elements_text if pg else func.json_each
    return fn(tags_column).table_valued("value").alias("tag")


def slot_of(
    column: Any, windows: Sequence[Window]
) -> tuple[ColumnElement[Any] | None, ColumnElement[bool]]:
    """(index of the window `column` falls in, condition that it falls in one of them).

    The index is None for a single window (always 0: nothing to group by). The condition is
    one range from the first start to the last end, minus the gaps between windows, so that
    both databases read one index range.
    """
    assert windows
    where = and_(column >= windows[0].start, column < windows[-1].end)
    gaps = [(a.end, b.start) for a, b in pairwise(windows) if a.end < b.start]
    for start, end in gaps:
        where = and_(where, not_(and_(column >= start, column < end)))
    if len(windows) == 1:
        return None, where
    return _search(column, windows, 0, len(windows) - 1), where


def _search(column: Any, windows: Sequence[Window], lo: int, hi: int) -> Any:
    """Nested CASE doing a binary search over window starts: a few comparisons per row even
    for a month of days (a flat CASE tests up to 31)."""
    if lo == hi:
        return literal_column(str(lo), Integer)
    mid = (lo + hi + 1) // 2
    return case(
        (column >= windows[mid].start, _search(column, windows, mid, hi)),
        else_=_search(column, windows, lo, mid - 1),
    )


SHIFT, OFFSET = 41, 1 << 40  # group code and value packed in one int64 for a single sort


def count_distinct_rows(
    row: Sequence[str | None], numeric: Sequence[bool]
) -> list[tuple[Any, ...]]:
    """(values…, count) per distinct row of columns read as concatenated strings (one SELECT
    of `concatenated` columns over the same rows): a GROUP BY counted in numpy.

    On SQLite, grouping 160,000 tickets by (outcome code, agent, channel) sorted them all in a
    temporary B-tree (~40% of the pass); reading the columns as strings and counting the
    distinct combinations here takes ~50 ms instead."""
    columns = [_codes(parse_keys(v, numeric=n), n) for v, n in zip(row, numeric, strict=True)]
    sizes = [max(len(keys), 1) for _, keys in columns]
    if not columns or not len(columns[0][0]):
        return []
    packed = np.ravel_multi_index([codes for codes, _ in columns], sizes)
    found, counts = np.unique(packed, return_counts=True)
    parts = np.unravel_index(found, sizes)
    return [
        (*(keys[int(part[i])] for part, (_, keys) in zip(parts, columns, strict=True)), int(n))
        for i, n in enumerate(counts.tolist())
    ]


def _codes(values: Sequence[Any], numeric: bool) -> tuple[np.ndarray[Any, Any], list[Any]]:
    """Small integer codes for group keys (None included) and the key of each code."""
    if numeric:  # agent ids: NO_VALUE stands for unassigned
        found, codes = np.unique(np.asarray(values, np.int64), return_inverse=True)
        return codes.astype(np.int64), [None if x == NO_VALUE else int(x) for x in found]
    # distinct keys first, then a C-level map over the values (a Python-level generator
    # per value cost ~3× as much for the 160,000 tickets of a 30-day report)
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), np.int64, len(values))
    return codes, list(index)


def _percentiles(groups: np.ndarray[Any, Any], values: np.ndarray[Any, Any]) -> dict[int, Pct]:
    """percentile_disc(0.5) and (0.9) of `values` (NO_VALUE = NULL, skipped) per group ≥ 0."""
    keep = (values != NO_VALUE) & (groups >= 0)
    packed = (groups[keep] << SHIFT) + (values[keep] + OFFSET)
    packed.sort()
    if not len(packed):
        return {}
    g = packed >> SHIFT
    v = (packed & ((1 << SHIFT) - 1)) - OFFSET
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]).tolist()
    ends = [*starts[1:], len(g)]
    out = {}
    for start, end in zip(starts, ends, strict=True):
        n = end - start
        out[int(g[start])] = Pct(
            n, int(v[start + rank(P50, n) - 1]), int(v[start + rank(P90, n) - 1])
        )
    return out


NO_VALUE = -(1 << 62)  # NULL in a concatenated number column (durations may be negative)
KEY_SEP, NO_KEY = "\x1e", "\x1f"  # separator and NULL of concatenated text keys


def concatenated(column: Any, text: bool = False) -> ColumnElement[Any]:
    """SQLite: a whole column as one string (NULL as NO_VALUE / NO_KEY). One string parses in
    milliseconds where fetching 160,000 rows into Python tuples took most of a second; the
    aggregates of one SELECT see the rows in the same order, so the columns stay aligned."""
    if text:
        return func.group_concat(func.ifnull(column, NO_KEY), KEY_SEP)
    return func.group_concat(func.ifnull(column, NO_VALUE))


def parse_numbers(value: str | None) -> np.ndarray[Any, Any]:
    """A concatenated integer column (NULL as NO_VALUE). Parsed as int64: 6× faster than as
    float64 (160,000 values: 5 ms)."""
    if not value:
        return np.zeros(0, np.int64)
    return np.fromstring(value, dtype=np.int64, sep=",")


def parse_keys(value: str | None, numeric: bool) -> Any:
    """A concatenated key column: ids as int64 (NULL as NO_VALUE, what `_codes` takes), or
    texts (NULL as None)."""
    if numeric:
        return parse_numbers(value)
    if not value:
        return []
    return [None if k == NO_KEY else k for k in value.split(KEY_SEP)]


def durations_from_columns(
    wall: np.ndarray[Any, Any],
    business: np.ndarray[Any, Any],
    key_columns: Sequence[Sequence[Any]],
    slot: np.ndarray[Any, Any],
    groups: Sequence[str],
) -> dict[str, dict[Key, tuple[Pct, Pct]]]:
    """Percentiles from the columns read (SQLite), the same definition as percentile_disc.

    Wall and business seconds per row (NO_VALUE for NULL), one key column per group other
    than "day", and each row's window: 0 the previous period, then the current one's days (or
    1, the whole period). Returns {group: {(period or day slot, key): (wall, business)}} with
    "period" always there."""
    out: dict[str, dict[Key, tuple[Pct, Pct]]] = {g: {} for g in ("period", *groups)}
    if not len(wall):
        return out
    period = (slot > 0).astype(np.int64)
    keyed = [g for g in groups if g != "day"]
    plans: list[tuple[str, np.ndarray[Any, Any], Any]] = [("period", period, None)]
    if "day" in groups:
        plans.append(("day", np.where(slot > 0, slot, -1), None))
    for i, group in enumerate(keyed):
        codes, keys = _codes(key_columns[i], numeric=group == "agent")
        plans.append((group, period * len(keys) + codes, keys))
    for group, codes, keys in plans:
        walls = _percentiles(codes, wall)
        # the chart's days show wall times only: no business sort for them
        buses = {} if group == "day" else _percentiles(codes, business)
        for code in walls.keys() | buses.keys():
            if group == "day" and code < 0:
                continue  # the previous period has no days
            if keys is None:
                key: Key = (code, None)
            else:
                value = keys[code % len(keys)]
                key = (code // len(keys), None if value is None else str(value))
            out[group][key] = (walls.get(code, Pct()), buses.get(code, Pct()))
    return out
