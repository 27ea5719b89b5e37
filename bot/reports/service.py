"""Builds a Report from the repository's aggregates: one read-only unit of work, all in SQL.

Windows: slot 0 is the previous period; the current period is slot 1 as a whole, or slots
1… day by day (or week by week) where the chart needs it, summed for the period's figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.reports.figures import (
    AGE_BUCKETS,
    AgentRow,
    Day,
    GroupRow,
    Pct,
    Report,
    Scope,
    Side,
    Sla,
)
from bot.reports.periods import Period
from bot.reports.request import ReportRequest

PREVIOUS, CURRENT = 0, 1
GROUP_LIMIT = 50  # breakdown rows kept (sorted by tickets created); the rest are counted
UNSET = {"agent": "unassigned", "tag": "(none)"}
TIMES = {"first_response": ("frt", "frt_business"), "resolution": ("rt", "rt_business")}

SlaPolicies = Mapping[str, Sequence[str]]


def sla_policies_of(sla_config: Any) -> dict[str, list[str]]:
    """Per SLA target, the names of the policies that set it (from bot.services.sla_config)."""
    out: dict[str, list[str]] = {"first_response": [], "resolution": []}
    policies = [*getattr(sla_config, "policies", []), getattr(sla_config, "fallback", None)]
    for policy in policies:
        if policy is None:
            continue
        for target, names in out.items():
            if getattr(policy.targets, target, None) is not None:
                names.append(policy.name)
    return out


async def build_report(
    repo: Any,
    request: ReportRequest,
    period: Period,
    scope: Scope,
    now: datetime,
    sla_policies: SlaPolicies,
) -> Report:
    """Every figure of `request` for `period`, each for the period and the previous one."""
    windows = [period.previous, period.current]
    daily = [period.previous, *(b.window for b in period.buckets)]
    sides = [Side(), Side()]
    report = Report(period, scope, sides[CURRENT], sides[PREVIOUS], by=request.by)
    by = request.by if request.by != "tag" else None  # tags need their own pass
    mine = scope.agent_name is not None
    fr_groups, rs_groups = ["day"], ["day"]
    if not mine:
        rs_groups.append("agent")  # agent productivity: resolved and handle time
    if by:
        fr_groups.append(by)
        if by not in rs_groups:
            rs_groups.append(by)
    extra: list[Any] = []
    if request.by:  # the breakdown's own aggregates (times come with the ones above)
        extra = [
            repo.created(windows, scope, request.by, now, sla_policies),
            repo.backlog(period.current.end, scope, request.by, False),
            repo.backlog(period.previous.end, scope, request.by, False),
        ]
        if request.by == "tag":  # a ticket counts once per tag: a pass of its own
            extra += [repo.durations(kind, windows, scope, ["tag"]) for kind in TIMES]
    # Independent aggregates run at once, each on its own read connection (storage).
    (
        rs_times, fr_times, created, tags, messages, closed, reopened, escalations,
        backlog_now, backlog_before, names, replies, has_ratings, *by_results,
    ) = await asyncio.gather(
        repo.durations("resolution", daily, scope, rs_groups),
        repo.durations("first_response", daily, scope, fr_groups),
        repo.created(daily, scope, "channel", now, sla_policies),
        repo.created(windows, scope, "tag", now, None),
        repo.messages(windows, scope),
        repo.closed(windows, scope, None),
        repo.reopened(windows, scope, None),
        repo.history_counts("sla_escalated", windows, scope, None),
        repo.backlog(period.current.end, scope, None, True),
        repo.backlog(period.previous.end, scope, None, False),
        repo.agent_names(),
        repo.replies(windows, scope, "agent"),
        repo.has_ratings(),
        *extra,
    )  # fmt: skip
    times = {"first_response": fr_times, "resolution": rs_times}
    per_day = [0] * len(period.buckets)
    for (slot, channel), (n, sla) in created.items():  # slot 0: previous; 1…: days
        side = sides[CURRENT if slot else PREVIOUS]
        if slot:
            per_day[slot - 1] += n
        side.created += n
        side.channels[channel or "?"] = side.channels.get(channel or "?", 0) + n
        for target, value in sla.items():
            side.sla[target] = side.sla.get(target, Sla()) + value
    for (w, tag), (n, _) in tags.items():
        if tag is not None:
            sides[w].tags[tag] = n
    for w, n in messages.items():
        sides[w].messages = n
    for counts, name in ((closed, "closed"), (reopened, "reopened"), (escalations, "escalations")):
        for (w, _), n in counts.items():
            setattr(sides[w], name, n)
    for kind, (wall_name, business_name) in TIMES.items():
        for (w, _), (wall, business) in times[kind].get("period", {}).items():
            setattr(sides[w], wall_name, wall)
            setattr(sides[w], business_name, business)
    for side in sides:
        side.resolved = side.rt.n

    ages = [0] * len(AGE_BUCKETS)
    for (bucket, _), n in backlog_now.items():
        ages[bucket] += n
    report.backlog_ages = tuple(ages)
    sides[CURRENT].backlog = sum(ages)
    sides[PREVIOUS].backlog = sum(backlog_before.values())
    for (w, _), n in replies.items():
        sides[w].replies += n
    if not mine:
        report.agents = _agents(times["resolution"].get("agent", {}), names, replies)
    report.csat_available = has_ratings
    if has_ratings:
        for w, value in (await repo.csat(windows, scope)).items():
            sides[w].csat = value

    frt_days = times["first_response"].get("day", {})
    rt_days = times["resolution"].get("day", {})
    report.days = [
        Day(
            b.label,
            per_day[i],
            rt_days.get((i + 1, None), (Pct(), Pct()))[0].n,
            frt_days.get((i + 1, None), (Pct(), Pct()))[0],
        )
        for i, b in enumerate(period.buckets)
    ]
    if request.by:
        if request.by == "tag":
            times = dict(zip(TIMES, by_results[3:], strict=True))
        _breakdown(report, names, times, replies, *by_results[:3])
    return report


def _agents(
    handled: dict[Any, tuple[Pct, Pct]], names: dict[str, str], replies: dict[Any, int]
) -> list[AgentRow]:
    rows: dict[str, AgentRow] = {}
    for (w, agent), (wall, _) in handled.items():
        if w == CURRENT and agent is not None:
            rows[agent] = AgentRow(names.get(agent, f"#{agent}"), wall.n, 0, wall)
    for (w, agent), n in replies.items():
        if w == CURRENT and agent is not None:
            rows.setdefault(agent, AgentRow(names.get(agent, f"#{agent}"))).replies = n
    return sorted(rows.values(), key=lambda a: (-a.handled, -a.replies, a.name))


def _breakdown(
    report: Report,
    names: dict[str, str],
    times: dict[str, dict[str, dict[Any, tuple[Pct, Pct]]]],
    replies: dict[Any, int],
    created: dict[Any, tuple[int, dict[str, Sla]]],
    backlog_now: dict[Any, int],
    backlog_before: dict[Any, int],
) -> None:
    by = report.by
    assert by is not None
    groups: dict[str | None, GroupRow] = {}

    def row(key: str | None) -> GroupRow:
        if key not in groups:
            groups[key] = GroupRow(_label(by, key, names), Side(), Side())
        return groups[key]

    for (w, key), (n, sla) in created.items():
        side = _side(row(key), w)
        side.created, side.sla = n, sla
    for kind, (wall_name, business_name) in TIMES.items():
        for (w, key), (wall, business) in times[kind].get(by, {}).items():
            side = _side(row(key), w)
            setattr(side, wall_name, wall)
            setattr(side, business_name, business)
            if kind == "resolution":
                side.resolved = wall.n
    for backlog, w in ((backlog_now, CURRENT), (backlog_before, PREVIOUS)):
        for (_, key), n in backlog.items():
            _side(row(key), w).backlog = n
    if by == "agent":
        for (w, key), n in replies.items():
            _side(row(key), w).replies = n
    ordered = sorted(
        groups.values(), key=lambda g: (-g.current.created, -g.current.resolved, g.key)
    )
    report.groups = ordered[:GROUP_LIMIT]
    report.breakdown_truncated = max(0, len(ordered) - GROUP_LIMIT)


def _side(group: GroupRow, w: int) -> Side:
    return group.current if w == CURRENT else group.previous


def _label(by: str | None, key: str | None, names: dict[str, str]) -> str:
    if key is None:
        return UNSET.get(by or "", "(none)")
    if by == "agent":
        return names.get(key, f"#{key}")
    return key
