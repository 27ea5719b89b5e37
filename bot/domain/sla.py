"""SLA policies and deadline maths: which policy applies, when a target is due, warned, breached."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, get_args

from bot.domain.calendar import BusinessCalendar, NoBusinessTimeError, Pause

Action = Literal[
    "notify_assignee", "notify_leads", "raise_priority", "reassign_queue", "reassign_agent"
]
ACTIONS: frozenset[str] = frozenset(get_args(Action))
_DURATION_RE = re.compile(
    r"^(?:(\d+)w)?\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$", re.IGNORECASE
)


def parse_duration(value: str | timedelta) -> timedelta:
    """Parse "90s", "30m", "4h", "2d", "1w", "1h30m" (units w d h m s, largest first).

    Durations are business time: "2d" is 48 business hours, not two working days.
    """
    if isinstance(value, timedelta):
        return value
    m = _DURATION_RE.match(value.strip()) if isinstance(value, str) else None
    if not m or not any(m.groups()):
        raise ValueError(
            f'bad duration {value!r}: use a number with a unit, e.g. "90s", "30m", "4h", '
            '"2d" or "1h30m"'
        )
    w, d, h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)


@dataclass(frozen=True)
class SlaTargets:
    """Business-time targets; None means the policy sets no such target."""

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass(frozen=True)
class EscalationStep:
    """An action taken ``after`` this much business time past a target's breach.

    ``target`` names the queue (reassign_queue, required) or agent (reassign_agent;
    None lets routing choose); for notify_* it optionally names who to notify.
    """

    after: timedelta
    action: Action
    target: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(
                f"unknown escalation action {self.action!r}; use one of {sorted(ACTIONS)}"
            )
        if self.after < timedelta(0):
            raise ValueError(f"escalation 'after' must not be negative, got {self.after}")
        if self.action == "reassign_queue" and not self.target:
            raise ValueError("escalation action reassign_queue needs a target queue")


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for the tickets it matches. A match field of None matches anything; a set
    matches (case-insensitively) any of its values. ``calendar`` names a BusinessCalendar
    ("always" = 24/7 wall time)."""

    name: str
    targets: SlaTargets = SlaTargets()
    calendar: str = "always"
    priorities: frozenset[str] | None = None
    queues: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    domains: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    warn_ratio: float = 0.8
    escalation: tuple[EscalationStep, ...] = field(default=())

    def __post_init__(self) -> None:
        if not 0 < self.warn_ratio <= 1:
            raise ValueError(
                f"policy {self.name!r}: warn ratio must be in (0, 1], got {self.warn_ratio}"
            )
        for attr in ("priorities", "queues", "tiers", "domains", "channels"):
            values = getattr(self, attr)
            if values is not None:
                object.__setattr__(self, attr, frozenset(v.lower() for v in values))
        object.__setattr__(
            self, "escalation", tuple(sorted(self.escalation, key=lambda s: s.after))
        )

    def matches(
        self,
        *,
        priority: str | None = None,
        queue: str | None = None,
        tier: str | None = None,
        domain: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Whether a ticket with these attributes falls under this policy."""
        if domain and "@" in domain:
            domain = domain.rsplit("@", 1)[1]
        checks = (
            (self.priorities, priority),
            (self.queues, queue),
            (self.tiers, tier),
            (self.channels, channel),
        )
        if any(allowed is not None and (v or "").lower() not in allowed for allowed, v in checks):
            return False
        if self.domains is None:
            return True
        d = (domain or "").lower().rstrip(".")
        # A policy domain also covers its subdomains (support.example.com under example.com).
        return bool(d) and any(d == p or d.endswith("." + p) for p in self.domains)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build from settings; see module tests for the accepted shape."""
        return _policy_from_dict(cls, data)


def select_policy(
    policies: Iterable[SlaPolicy],
    *,
    priority: str | None = None,
    queue: str | None = None,
    tier: str | None = None,
    domain: str | None = None,
    channel: str | None = None,
) -> SlaPolicy | None:
    """The first policy matching the ticket, or None."""
    for policy in policies:
        if policy.matches(
            priority=priority, queue=queue, tier=tier, domain=domain, channel=channel
        ):
            return policy
    return None


def compute_due(
    start: datetime,
    target: timedelta | None,
    calendar: BusinessCalendar,
    paused: Iterable[Pause] = (),
) -> datetime | None:
    """When ``target`` business time after ``start`` runs out, not counting paused time.

    Every pause (pending / on hold) pushes the due time back by exactly the business time it
    covers, so resuming never breaches at once. Returns None if there is no target, or if an
    open-ended pause (end None, still on hold) stops the clock before the target is reached:
    recompute on resume.
    """
    if target is None:
        return None
    pauses = list(paused)
    closed = [(a, b) for a, b in pauses if b is not None]
    stopped_from = min((a for a, b in pauses if b is None), default=None)
    try:
        due = calendar.add_business_seconds(start, target, closed)
    except NoBusinessTimeError:
        if stopped_from is not None:
            return None
        raise
    if stopped_from is not None and stopped_from < due:
        return None
    return due


def warn_at(
    start: datetime,
    due: datetime,
    calendar: BusinessCalendar,
    warn_ratio: float,
    paused: Iterable[Pause] = (),
) -> datetime:
    """The instant when ``warn_ratio`` of the business time between start and due has elapsed."""
    if not 0 <= warn_ratio <= 1:
        raise ValueError(f"warn ratio must be in [0, 1], got {warn_ratio}")
    pauses = list(paused)
    total = calendar.business_time(start, due, pauses)
    return calendar.add_business_seconds(start, total * warn_ratio, pauses)


def escalation_at(
    due: datetime, step: EscalationStep, calendar: BusinessCalendar, paused: Iterable[Pause] = ()
) -> datetime:
    """When ``step`` fires: ``step.after`` business time past the breach at ``due``."""
    return calendar.add_business_seconds(due, step.after, paused)


class TargetState(StrEnum):
    """Where one SLA target stands."""

    OPEN = "open"  # not met, not yet due (or clock stopped / no target)
    AT_RISK = "at_risk"  # not met, past the warning instant
    MET = "met"  # met on time
    BREACHED = "breached"  # past due unmet, or met late


def target_state(
    due: datetime | None,
    *,
    now: datetime,
    met_at: datetime | None = None,
    warn: datetime | None = None,
) -> TargetState:
    """Classify a target from its due time, when it was met (if it was) and ``now``."""
    if met_at is not None:
        return TargetState.MET if due is None or met_at <= due else TargetState.BREACHED
    if due is None:
        return TargetState.OPEN
    if now >= due:
        return TargetState.BREACHED
    if warn is not None and now >= warn:
        return TargetState.AT_RISK
    return TargetState.OPEN


# ---- settings parsing ----------------------------------------------------------------------

_MATCH_KEYS = {
    "priority": "priorities",
    "priorities": "priorities",
    "queue": "queues",
    "queues": "queues",
    "tier": "tiers",
    "tiers": "tiers",
    "domain": "domains",
    "domains": "domains",
    "channel": "channels",
    "channels": "channels",
    "platform": "channels",
    "platforms": "channels",
}
_POLICY_KEYS = {
    "name", "match", "first_response", "next_response", "resolution", "calendar", "warn_at",
    "escalate",
}  # fmt: skip


def _policy_from_dict(cls: type[SlaPolicy], data: Mapping[str, Any]) -> SlaPolicy:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise ValueError(f"SLA policy needs a table with a string 'name', got {data!r}")
    name = data["name"]
    if unknown := set(data) - _POLICY_KEYS:
        raise ValueError(
            f"policy {name!r}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_POLICY_KEYS)}"
        )
    try:
        match = _parse_match(data.get("match", {}))
        targets = SlaTargets(
            *(
                None if data.get(k) is None else parse_duration(data[k])
                for k in ("first_response", "next_response", "resolution")
            )
        )
        steps = data.get("escalate", [])
        if not isinstance(steps, Sequence) or isinstance(steps, str):
            raise ValueError("'escalate' must be a list of {after, action, target} tables")
        escalation = tuple(_parse_step(s) for s in steps)
        ratio = data.get("warn_at", 0.8)
        if isinstance(ratio, bool) or not isinstance(ratio, int | float):
            raise ValueError(f"'warn_at' must be a number in (0, 1], got {ratio!r}")
        return cls(
            name=name,
            targets=targets,
            calendar=str(data.get("calendar", "always")),
            warn_ratio=float(ratio),
            escalation=escalation,
            **match,
        )
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("policy ") else f"policy {name!r}: {msg}") from None


def _parse_match(raw: Any) -> dict[str, frozenset[str]]:
    if not isinstance(raw, Mapping):
        raise ValueError("'match' must be a table, e.g. {priority = ['urgent']}")
    out: dict[str, frozenset[str]] = {}
    for key, value in raw.items():
        if key not in _MATCH_KEYS:
            raise ValueError(f"unknown match key {key!r}; allowed: {sorted(_MATCH_KEYS)}")
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"match {key!r} must be a string or a list of strings")
        out[_MATCH_KEYS[key]] = out.get(_MATCH_KEYS[key], frozenset()) | frozenset(values)
    return out


def _parse_step(raw: Any) -> EscalationStep:
    if not isinstance(raw, Mapping) or "after" not in raw or "action" not in raw:
        raise ValueError(f"escalation step needs 'after' and 'action', got {raw!r}")
    if unknown := set(raw) - {"after", "action", "target"}:
        raise ValueError(f"escalation step: unknown key(s) {sorted(unknown)}")
    return EscalationStep(parse_duration(raw["after"]), raw["action"], raw.get("target"))
