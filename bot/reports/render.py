"""A report as text that fits chat: sections of at most 1,900 characters, tables in code blocks.

One section fits a Slack Block Kit section (3,000) and a Discord message (2,000), so adapters
can post the sections as they are; `split_text(text, limit)` cuts the whole text at the same
paragraph boundaries.
"""

from __future__ import annotations

from bot.formatting import split_text
from bot.reports.figures import (
    AGE_BUCKETS,
    SLA_TARGETS,
    AgentRow,
    GroupRow,
    Pct,
    Report,
    Side,
    Sla,
    change,
)

SECTION_LIMIT = 1900
TABLE_ROWS = 15


def duration(seconds: int | None) -> str:
    """Short human durations: 45s, 12m, 3h 05m, 2d 4h."""
    if seconds is None:
        return "–"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def _times(name: str, now: Pct, before: Pct) -> str:
    if not now.n:
        return f"{name}: no tickets"
    trend = _signed_duration(now.p50, before.p50)
    return (
        f"{name}: median {duration(now.p50)} · p90 {duration(now.p90)} (n={now.n}; median {trend})"
    )


def _signed_duration(now: int | None, before: int | None) -> str:
    """The change of a duration, or "–" when either period has none."""
    if now is None or before is None:
        return "–"
    delta = now - before
    if delta == 0:
        return "±0"
    return ("+" if delta > 0 else "−") + duration(abs(delta))


def _sla_line(target: str, now: Sla, before: Sla) -> str:
    label = target.replace("_", " ")
    if not now.total:
        return f"{label}: no tickets with this target"
    met_now, met_before = now.share(now.met), before.share(before.met)
    trend = "–" if met_before is None or met_now is None else f"{met_now - met_before:+.0f} pts"
    return (
        f"{label}: met {_pct(met_now)} · breached {_pct(now.share(now.breached))} · "
        f"open {_pct(now.share(now.open))} of {now.total} (met {trend.replace('-', '−')})"
    )


def _mix(now: dict[str, int], before: dict[str, int], of: int | None, limit: int) -> str:
    """ "slack 4 = 50% (+2, +100%) · …": the largest first; shares of `of` when given."""
    items = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return " · ".join(
        f"{k} {n}{f' = {100 * n / of:.0f}%' if of else ''} ({change(n, before.get(k, 0))})"
        for k, n in items
    )


def _table(header: list[str], rows: list[list[str]], limit: int = SECTION_LIMIT) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = [line(header)]
    for r in rows:
        candidate = "\n".join([*out, line(r)])
        if len(candidate) + 8 > limit:
            break
        out.append(line(r))
    return "```\n" + "\n".join(out) + "\n```"


def header(report: Report) -> str:
    return (
        f"Help desk report · {report.period.describe()} · {report.scope.describe()}\n"
        "Changes are against the previous period (same elapsed time)."
    )


def tickets_section(r: Report) -> str:
    now, before = r.current, r.previous
    ages = " · ".join(
        f"{label} {n}" for (label, _), n in zip(AGE_BUCKETS, r.backlog_ages, strict=False)
    )
    mpt_now, mpt_before = now.messages_per_ticket, before.messages_per_ticket
    mpt = "–" if mpt_now is None else f"{mpt_now:.1f}"
    mpt_change = (
        change(round(mpt_now, 1), round(mpt_before, 1))
        if mpt_now is not None and mpt_before is not None
        else "–"
    )
    return "\n".join(
        [
            "Tickets",
            f"created {now.created} ({change(now.created, before.created)}) · "
            f"resolved {now.resolved} ({change(now.resolved, before.resolved)}) · "
            f"closed {now.closed} ({change(now.closed, before.closed)}) · "
            f"reopened {now.reopened} ({change(now.reopened, before.reopened)})",
            f"backlog {now.backlog} ({change(now.backlog, before.backlog)}) — ages: {ages}",
            f"escalations {now.escalations} ({change(now.escalations, before.escalations)}) · "
            f"messages per ticket {mpt} ({mpt_change})",
        ]
    )


def times_section(r: Report) -> str:
    now, before = r.current, r.previous
    return "\n".join(
        [
            "Response times (wall clock; business hours where a calendar applies)",
            _times("first response, wall", now.frt, before.frt),
            _times("first response, business", now.frt_business, before.frt_business),
            _times("resolution, wall", now.rt, before.rt),
            _times("resolution, business", now.rt_business, before.rt_business),
        ]
    )


def sla_section(r: Report) -> str:
    lines = ["SLA compliance (tickets created in the period)"]
    for target in SLA_TARGETS:
        lines.append(
            _sla_line(target, r.current.sla.get(target, Sla()), r.previous.sla.get(target, Sla()))
        )
    return "\n".join(lines)


def mix_section(r: Report) -> str:
    now, before = r.current, r.previous
    lines = ["Channels: " + (_mix(now.channels, before.channels, now.created, 8) or "no tickets")]
    lines.append("Top tags: " + (_mix(now.tags, before.tags, None, 5) or "no tags"))
    return "\n".join(lines)


def csat_section(r: Report) -> str:
    csat_now, csat_before = r.current.csat, r.previous.csat
    if not r.csat_available or csat_now is None:
        return "Satisfaction: no ratings yet"
    avg = csat_now.average
    before_avg = csat_before.average if csat_before else None
    trend = "–" if avg is None or before_avg is None else f"{avg - before_avg:+.1f}"
    trend = "±0.0" if trend in ("+0.0", "-0.0") else trend
    dist = " · ".join(f"{i + 1}★ {n}" for i, n in reversed(list(enumerate(csat_now.scores))))
    average = "–" if avg is None else f"{avg:.2f}"
    return (
        f"Satisfaction: average {average} ({trend.replace('-', '−')}) of {csat_now.count} "
        f"ratings · response rate {_pct(csat_now.response_rate)} of {csat_now.surveys} surveys\n"
        f"{dist}"
    )


def _delta(now: float | None, before: float | None) -> str:
    """A table cell's change: "+3", "−2", "±0" (the number part of `change`)."""
    return change(now, before).split(",")[0]


def _met(side: Side) -> float | None:
    target = side.sla.get("first_response")
    return target.share(target.met) if target else None


def _pts(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    return "±0" if round(now) == round(before) else f"{now - before:+.0f}".replace("-", "−")


def agents_section(r: Report) -> str:
    if not r.agents:
        return "Agents: nothing resolved or answered in this period"

    def cells(a: AgentRow) -> list[str]:
        b = a.previous or AgentRow(a.name)
        return [
            a.name[:20], str(a.handled), _delta(a.handled, b.handled), str(a.replies),
            _delta(a.replies, b.replies), duration(a.handle.p50),
            _signed_duration(a.handle.p50, b.handle.p50),
        ]  # fmt: skip

    rows = [cells(a) for a in r.agents[:TABLE_ROWS]]
    head = ["agent", "resolved", "Δ", "replies", "Δ", "median handle", "Δ"]
    return "Agents (Δ: change against the previous period)\n" + _table(head, rows)


def breakdown_sections(r: Report) -> list[str]:
    """The `by X` breakdown as two tables with the same rows: counts, then medians and SLA;
    each figure with its change against the previous period."""
    if not r.by:
        return []
    if not r.groups:
        return [f"By {r.by}: no tickets"]
    agent = r.by == "agent"

    def counts(g: GroupRow) -> list[str]:
        now, before = g.current, g.previous
        out = [g.key[:18]]
        for a, b in [
            (now.created, before.created),
            (now.resolved, before.resolved),
            (now.backlog, before.backlog),
        ] + ([(now.replies, before.replies)] * agent):
            out += [str(a), _delta(a, b)]
        return out  # fmt: skip

    def times(g: GroupRow) -> list[str]:
        now, before = g.current, g.previous
        out = [g.key[:18]]
        for a, b in ((now.frt.p50, before.frt.p50), (now.rt.p50, before.rt.p50)):
            out += [duration(a), _signed_duration(a, b)]
        return [*out, _pct(_met(now)), _pts(_met(now), _met(before))]

    shown = r.groups[:TABLE_ROWS]
    first = [r.by, "created", "Δ", "resolved", "Δ", "backlog", "Δ"]
    first += ["replies", "Δ"] if agent else []
    second = [r.by, "1st resp", "Δ", "resolve", "Δ", "SLA met", "Δ pts"]
    tables = [_table(first, [counts(g) for g in shown]), _table(second, [times(g) for g in shown])]
    kept = min(t.count("\n") - 2 for t in tables)  # rows each table kept, header excluded
    if kept < len(shown):  # both tables show the same groups
        shown = shown[:kept]
        tables = [_table(first, [counts(g) for g in shown]),
                  _table(second, [times(g) for g in shown])]  # fmt: skip
    more = len(r.groups) - len(shown) + r.breakdown_truncated
    tail = f"\n…and {more} more (CSV has every ticket)" if more > 0 else ""
    return [
        f"By {r.by} (Δ: change against the previous period)\n" + tables[0],
        f"By {r.by}: medians and first-response SLA met\n" + tables[1] + tail,
    ]


def sections(report: Report) -> list[str]:
    """The report as chat-sized sections, in order."""
    parts = [
        header(report),
        tickets_section(report),
        times_section(report),
        sla_section(report),
        mix_section(report),
        csat_section(report),
    ]
    if report.scope.agent_name is None:
        parts.append(agents_section(report))
    parts += breakdown_sections(report)
    out: list[str] = []
    for part in parts:
        if part:
            out.extend(split_text(part, SECTION_LIMIT))
    return out


def render_text(report: Report) -> str:
    return "\n\n".join(sections(report))
