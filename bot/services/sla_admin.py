"""`/sla show` and `/sla set`: see the SLA policies, calendars and timers; change a policy.

A change is stored as the whole policy (settings-file shape) in `sla_policies`, applied to this
process at once and picked up by other workers at their next sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from bot.commands import SLA_KEYS
from bot.domain import commands as c
from bot.domain.durations import humanize
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.domain.sla import SlaPolicy
from bot.messages import Reply
from bot.services.context import Core
from bot.services.sla_config import SlaConfig
from bot.services.unit_of_work import UnitOfWork

SET_KEYS = SLA_KEYS
_NONE = {"none", "off", "-", "any"}


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _span(a: time, b: time) -> str:
    return f"{a:%H:%M}-{'24:00' if b == time(0) else format(b, '%H:%M')}"


def _hours(hours: Mapping[int, tuple[tuple[time, time], ...]]) -> str:
    """`mon-fri 09:00-17:00; sat 10:00-14:00`: runs of days with the same hours together."""
    runs: list[tuple[int, int, str]] = []
    for day in range(7):
        spans = ",".join(_span(a, b) for a, b in hours.get(day, ()))
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], day, spans)
        else:
            runs.append((day, day, spans))
    return "; ".join(
        f"{DAYS[a]}{'-' + DAYS[b] if b > a else ''} {spans}" for a, b, spans in runs if spans
    )


def describe(policy: SlaPolicy) -> str:
    """One line: match, targets, calendar, warning share, ladder."""
    match = [
        f"{key}={','.join(sorted(values))}"
        for key, values in (
            ("priority", policy.priorities),
            ("queue", policy.queues),
            ("tier", policy.tiers),
            ("domain", policy.domains),
            ("channel", policy.channels),
        )
        if values is not None
    ]
    t = policy.targets
    targets = [
        f"{label} {humanize(v)}"
        for label, v in (
            ("first response", t.first_response),
            ("next response", t.next_response),
            ("resolution", t.resolution),
        )
        if v is not None
    ]
    ladder = ", ".join(
        f"+{humanize(s.after) if s.after else '0m'} {s.action}{':' + s.target if s.target else ''}"
        for s in policy.escalation
    )
    parts = [
        "match " + (" ".join(match) or "any"),
        " · ".join(targets) or "no targets",
        f"calendar {policy.calendar}",
        f"warn at {round(policy.warn_ratio * 100)}%",
    ]
    if ladder:
        parts.append("escalate " + ladder)
    return " · ".join(parts)


def show(cfg: SlaConfig) -> Reply:
    lines = ["SLA policies (first match wins):"]
    for i, policy in enumerate(cfg.policies, 1):
        lines.append(f"  {i}. {policy.name}: {describe(policy)}")
    lines.append(f"  otherwise {cfg.fallback.name}: {describe(cfg.fallback)}")
    lines.append("Calendars:")
    for name, cal in sorted(cfg.calendars.items()):
        if name == "always":
            lines.append("  always: 24/7")
            continue
        hours = _hours(cal.hours)
        extra = f"; holidays {cal.country}" if cal.country else ""
        extra += f" + {len(cal.holidays)} dates" if cal.holidays else ""
        lines.append(f"  {name}: {cal.tz}; {hours}{extra}")
    d = cfg.defaults

    def h(v: Any) -> str:
        return humanize(v) if v else "off"

    lines.append(
        f"Timers: pending reminder {h(d.remind_after)} · auto-resolve {h(d.auto_resolve_after)}"
        f" · auto-close {h(d.auto_close_after)}"
    )
    for name in sorted(cfg.queues):
        q = cfg.queue(name)
        claim = f" · claim timeout {h(q.claim_timeout)}" if q.claim_set else ""
        lines.append(
            f"  queue {name}: reminder {h(q.remind_after)} · auto-resolve "
            f"{h(q.auto_resolve_after)} · auto-close {h(q.auto_close_after)}{claim}"
        )
    return Reply(True, "\n".join(lines))


def _parse(data: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    """``data`` with ``key`` set from a command-line ``value`` (settings-file shape)."""
    v = value.strip()
    off = v.lower() in _NONE
    out = dict(data)
    if key in ("first_response", "next_response", "resolution", "calendar"):
        if off:
            out.pop(key, None)
        else:
            out[key] = v
    elif key == "warn_at":
        ratio = float(v.rstrip("%")) / (100 if v.endswith("%") else 1)
        out["warn_at"] = ratio
    elif key == "match":
        match: dict[str, list[str]] = {}
        for part in [] if off else v.split():
            name, sep, values = part.partition("=")
            if not sep or not values:
                raise ValueError(f"match {part!r}: use key=value[,value], e.g. priority=urgent")
            match.setdefault(name, []).extend(values.split(","))
        out["match"] = match
    elif key == "escalate":
        steps = []
        for part in [] if off else v.split(","):
            words = part.split()
            if len(words) != 2:
                raise ValueError(f"escalation {part.strip()!r}: use AFTER ACTION[:TARGET]")
            action, _, target = words[1].partition(":")
            step = {"after": words[0], "action": action}
            steps.append({**step, "target": target} if target else step)
        out["escalate"] = steps
    return out


async def set_policy(cmd: c.SetSlaPolicy, uow: UnitOfWork, core: Core) -> Reply:
    """`/sla set NAME KEY VALUE` (admin)."""
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(Role.ADMIN)
    cfg = core.policy.sla
    key = cmd.key.lower()
    if key not in SET_KEYS:
        raise DomainError(f"Unknown SLA setting {cmd.key}; use one of: {', '.join(SET_KEYS)}.")
    rows = await uow.sla_policies.list()
    stored = {name: (pos, data) for name, pos, data in rows}
    position, data = stored.get(cmd.name, (None, cfg.data_of(cmd.name)))
    try:
        if key == "position":
            position = int(cmd.value)
            if position < 1:
                raise ValueError("position counts from 1")
        else:
            data = _parse(data, key, cmd.value)
        cfg.build({**data, "name": cmd.name})
    except ValueError as exc:
        raise DomainError(f"Not changed: {exc}") from None
    await uow.sla_policies.put(cmd.name, position, data, agent.name, core.clock.now())
    stored[cmd.name] = (position, data)
    cfg.apply_overrides([(n, p, d) for n, (p, d) in stored.items()])
    policy = cfg.named(cmd.name)
    where = cfg.position_of(cmd.name)
    place = f" (policy {where} of {len(cfg.policies)})" if where else ""
    text = describe(policy) if policy else "saved"
    return Reply(True, f"SLA policy {cmd.name}{place}: {text}. New tickets use it.")
