"""Builds a Report from the repository's aggregates: one read-only unit of work, all in SQL.

Windows: slot 0 is the previous period; the current period is slot 1 as a whole, or slots
1… day by day (or week by week) where the chart needs it, summed for the period's figures.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ParamSpec

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
P = ParamSpec("P")


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


def _reading(build: Callable[P, Awaitable[Report]]) -> Callable[P, Awaitable[Report]]:
    """The aggregates share the repository's (first argument's) read connections for the
    whole report (storage/reports_db.py `Reader.session`)."""

    @functools.wraps(build)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Report:
        repo: Any = args[0]
        async with repo.reading():
            return await build(*args, **kwargs)

    return run


@_reading
async def build_report(
    repo: Any,
    request: ReportRequest,
    period: Period,
    scope: Scope,
    now: datetime,
    sla_policies: SlaPolicies,
    days_ready: Callable[[list[Day]], None] | None = None,
) -> Report:
    """Every figure of `request` for `period`, each for the period and the previous one.

    `days_ready` is called with the chart's days as soon as they are known, while the other
    aggregates still run (the runner draws the chart meanwhile)."""
    windows = [period.previous, period.current]
    days = [b.window for b in period.buckets]
    daily = [period.previous, *days]
    sides = [Side(), Side()]
    report = Report(period, scope, sides[CURRENT], sides[PREVIOUS], by=request.by)
    by = request.by if request.by != "tag" else None  # tags need their own pass
    mine = scope.agent_name is not None
    fr_groups, rs_groups = ["day"], []  # the chart's days: first-response percentiles
    if not mine:
        rs_groups.append("agent")  # agent productivity: resolved and handle time
    if by:
        fr_groups.append(by)
        if by not in rs_groups:
            rs_groups.append(by)
    # One pass over the tickets created in both periods gives the totals, the channel mix,
    # SLA compliance and the `by X` rows; tags (a row per tag) need a pass of their own.
    if request.by == "tag":  # a row per tag with its SLA outcomes
        tag_pass = repo.created(windows, scope, "tag", now, sla_policies)
    else:  # counts only: index ranges of the ticket_tags rows
        tag_pass = repo.tag_counts(windows, scope, now)
    extra: list[Any] = []
    if request.by:  # the breakdown's own aggregates (times come with the ones above)
        extra = [
            repo.backlog(period.current.end, scope, request.by, False),
            repo.backlog(period.previous.end, scope, request.by, False),
        ]
        if request.by == "tag":  # a ticket counts once per tag: a pass of its own
            extra += [repo.durations(kind, windows, scope, ["tag"]) for kind in TIMES]

    # Independent aggregates run at once, each on its own read connection (storage). They
    # take the connections in the order started: the longest first, then the chart's, so
    # that the chart can be drawn while the rest run.
    started = [
        asyncio.ensure_future(repo.created(windows, scope, by, now, sla_policies, channels=True)),
        asyncio.ensure_future(repo.durations("first_response", daily, scope, fr_groups)),
        asyncio.ensure_future(repo.window_counts("created_at", days, scope)),
        asyncio.ensure_future(repo.window_counts("resolved_at", days, scope)),
    ]

    async def chart_days() -> tuple[Any, list[Day]]:
        fr_times, created_days, resolved_days = await asyncio.gather(*started[1:])
        frt_days = fr_times.get("day", {})
        found = [
            Day(b.label, created_days[i], resolved_days[i],
                frt_days.get((i + 1, None), (Pct(), Pct()))[0])
            for i, b in enumerate(period.buckets)
        ]  # fmt: skip
        if days_ready is not None:
            days_ready(found)
        return fr_times, found

    (
        created, (fr_times, report.days), rs_times, tags, messages, closed,
        reopened, escalations, backlog_now, backlog_before, names, replies, has_ratings,
        *by_results,
    ) = await asyncio.gather(
        started[0],
        chart_days(),
        repo.durations("resolution", windows, scope, rs_groups),
        tag_pass,
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
    for (w, _), found in created.items():  # per group when `by`: summed for the period
        side = sides[w]
        side.created += found.n
        for channel, n in found.channels.items():
            side.channels[channel] = side.channels.get(channel, 0) + n
        for target, value in found.sla.items():
            side.sla[target] = side.sla.get(target, Sla()) + value
    for (w, tag), found in tags.items():
        if tag is not None:
            sides[w].tags[tag] = found.n
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

    if request.by:
        if request.by == "tag":
            times = dict(zip(TIMES, by_results[2:], strict=True))
        by_created = tags if request.by == "tag" else created
        _breakdown(report, names, times, replies, by_created, *by_results[:2])
    return report


def _agents(
    handled: dict[Any, tuple[Pct, Pct]], names: dict[str, str], replies: dict[Any, int]
) -> list[AgentRow]:
    """Agents who resolved or answered in the period, each with its previous-period figures."""
    rows: dict[tuple[int, str], AgentRow] = {}

    def row(w: int, agent: str) -> AgentRow:
        if (w, agent) not in rows:
            rows[(w, agent)] = AgentRow(names.get(agent, f"#{agent}"))
        return rows[(w, agent)]

    for (w, agent), (wall, _) in handled.items():
        if agent is not None:
            found = row(w, agent)
            found.handled, found.handle = wall.n, wall
    for (w, agent), n in replies.items():
        if agent is not None:
            row(w, agent).replies = n
    current = []
    for (w, agent), found in rows.items():
        if w == CURRENT:
            found.previous = rows.get((PREVIOUS, agent), AgentRow(found.name))
            current.append(found)
    return sorted(current, key=lambda a: (-a.handled, -a.replies, a.name))


def _breakdown(
    report: Report,
    names: dict[str, str],
    times: dict[str, dict[str, dict[Any, tuple[Pct, Pct]]]],
    replies: dict[Any, int],
    created: dict[Any, Any],
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

    for (w, key), found in created.items():  # storage.reports_created.Created
        side = _side(row(key), w)
        side.created, side.sla = found.n, found.sla
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
