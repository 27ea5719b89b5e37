"""CSV export of the ticket rows behind a report, times in the lead's time zone."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

COLUMNS = (
    "ref", "subject", "status", "priority", "queue", "channel", "assignee", "tags", "sla_policy",
    "created_at", "first_response_at", "resolved_at", "closed_at", "first_response_wall_secs",
    "first_response_business_secs", "resolution_wall_secs", "resolution_business_secs",
    "first_response_sla", "resolution_sla", "messages", "csat",
)  # fmt: skip


TARGETS = (("first_response", "first_response_at"), ("resolution", "resolved_at"))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def export_csv(
    rows: AsyncIterator[dict[str, Any]],
    tz: str,
    now: datetime,
    ref: Callable[[int], str],
    sla_policies: Mapping[str, Sequence[str]],
) -> tuple[bytes, int]:
    """(CSV bytes, number of ticket rows). SLA columns follow the aggregates' definition."""
    zone = ZoneInfo(tz)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(COLUMNS)
    count = 0

    def ts(v: Any) -> str:
        a = _aware(v)
        return a.astimezone(zone).isoformat(timespec="seconds") if a else ""

    def secs(later: Any, earlier: Any) -> str:
        a, b = _aware(later), _aware(earlier)
        if a is None or b is None:
            return ""
        return str(int(a.replace(microsecond=0).timestamp() - b.replace(microsecond=0).timestamp()))

    async for r in rows:
        breached = set((r.get("breached") or "").split())
        outcomes = [
            _outcome(
                r[f"{target}_due"],
                r[met_column],
                target in breached,
                r["sla_policy"] in sla_policies.get(target, ()),
                r["status"] == "merged",
                now,
            )
            for target, met_column in TARGETS
        ]
        out.writerow(
            [
                ref(r["id"]), r["subject"], r["status"], r["priority"], r["queue"], r["origin"],
                r["assignee"] or "", " ".join(r["tags"] or []), r["sla_policy"] or "",
                ts(r["created_at"]), ts(r["first_response_at"]), ts(r["resolved_at"]),
                ts(r["closed_at"]), secs(r["first_response_at"], r["created_at"]),
                _num(r["first_response_secs"]), secs(r["resolved_at"], r["created_at"]),
                _num(r["resolution_secs"]), *outcomes, r["messages"], _num(r["csat"]),
            ]
        )  # fmt: skip
        count += 1
    return buf.getvalue().encode("utf-8"), count


def _num(value: Any) -> str:
    return "" if value is None else str(value)


def _outcome(
    due: Any, met_at: Any, breached: bool, policy_target: bool, merged: bool, now: datetime
) -> str:
    """met / breached / open, or "" when the ticket has no such target (figures.py)."""
    d, m = _aware(due), _aware(met_at)
    if merged or not (d is not None or breached or policy_target):
        return ""
    if breached or (d is not None and ((m is None and d < now) or (m is not None and m > d))):
        return "breached"
    return "met" if m is not None else "open"
