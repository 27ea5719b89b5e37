"""SLA settings: calendars, policies (settings file, then `/sla set` rows), the fallback policy,
and per-queue timers (claim timeout, pending reminder, auto-resolve, auto-close).

Settings file shape::

    [sla]
    default_policy = "standard"      # used when no policy matches (else a built-in "default")
    calendar = "office"              # for policies that name none

    [sla.calendars.office]
    tz = "Europe/Zagreb"
    hours = { "mon-fri" = ["09:00-17:00"] }
    country = "HR"

    [[sla.policies]]
    name = "urgent"
    match = { priority = ["urgent"] }
    first_response = "1h"
    escalate = [{ after = "0m", action = "notify_leads" }]

    [[queues]]
    name = "billing"
    settings = { claim_timeout = "10m", remind_after = "12h", auto_resolve_after = "3d",
                 auto_close_after = "2d", calendar = "office", leads = ["lee"] }
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy, parse_duration, select_policy

log = logging.getLogger(__name__)

ALWAYS = "always"
_OFF = {"", "0", "off", "none", "never", "no"}


def optional_duration(value: Any) -> timedelta | None:
    """A duration setting where "0", "off" or "none" switches the timer off (None)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _OFF):
        return None
    delta = parse_duration(value)
    return delta if delta > timedelta(0) else None


@dataclass(frozen=True)
class QueueTimers:
    """Timed automation for one queue; ``claim_timeout`` None with ``claim_set`` False means
    "the global claim timeout applies"."""

    remind_after: timedelta | None = timedelta(days=2)
    auto_resolve_after: timedelta | None = timedelta(days=7)
    auto_close_after: timedelta | None = timedelta(days=4)
    claim_timeout: timedelta | None = None
    claim_set: bool = False
    calendar: str | None = None
    leads: tuple[str, ...] = ()


@dataclass
class SlaConfig:
    """What the SLA stage, the timers and `/sla` read. Overrides come from the database."""

    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    file_policies: list[dict[str, Any]] = field(default_factory=list)
    fallback_data: dict[str, Any] = field(
        default_factory=lambda: {"name": "default", "first_response": "4h"}
    )
    default_calendar: str = ALWAYS
    timezone: str = "UTC"
    defaults: QueueTimers = QueueTimers()
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: list[SlaPolicy] = field(default_factory=list)
    fallback: SlaPolicy = field(init=False)
    _data: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # parsed QueueTimers by queue name: the timers and the SLA stage ask for every ticket
    _timers: dict[str, QueueTimers] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.calendars.setdefault(ALWAYS, BusinessCalendar.always())
        if self.default_calendar not in self.calendars:
            raise ValueError(f"[sla] calendar {self.default_calendar!r} is not defined")
        self.apply_overrides([])

    # ---- policies ------------------------------------------------------------------------

    def build(self, data: Mapping[str, Any]) -> SlaPolicy:
        """A policy from its settings shape; the calendar must exist. Raises ValueError."""
        filled = {"calendar": self.default_calendar, **data}
        policy = SlaPolicy.from_dict(filled)
        if policy.calendar not in self.calendars:
            known = ", ".join(sorted(self.calendars))
            raise ValueError(f"policy {policy.name!r}: no calendar {policy.calendar!r} ({known})")
        return policy

    def apply_overrides(self, rows: Iterable[tuple[str, int | None, Mapping[str, Any]]]) -> None:
        """Effective policies: the file's, each replaced or placed by a stored (name, position,
        data) row. A stored row that no longer validates is skipped with a warning."""
        ordered = [dict(d) for d in self.file_policies]
        for name, position, data in rows:
            at = next((i for i, d in enumerate(ordered) if d.get("name") == name), None)
            if at is not None:
                ordered.pop(at)
            index = position - 1 if position else (at if at is not None else len(ordered))
            ordered.insert(max(0, min(index, len(ordered))), {**data, "name": name})
        policies: list[SlaPolicy] = []
        self._data = {}
        for data in ordered:
            try:
                policies.append(self.build(data))
                self._data[data["name"]] = data
            except ValueError as exc:
                log.warning("SLA policy skipped: %s", exc)
        self.policies = policies
        self._timers = {}
        fallback_name = self.fallback_data["name"]
        stored = self._data.get(fallback_name)
        self.fallback = self.build(stored or self.fallback_data)
        self._data.setdefault(fallback_name, dict(self.fallback_data))

    def data_of(self, name: str) -> dict[str, Any]:
        """The settings-shaped dict of a policy (a new one starts empty)."""
        return dict(self._data.get(name, {"name": name}))

    def position_of(self, name: str) -> int | None:
        names = [p.name for p in self.policies]
        return names.index(name) + 1 if name in names else None

    def select(
        self,
        *,
        priority: str | None,
        queue: str | None,
        tier: str | None,
        domain: str | None,
        channel: str | None,
    ) -> SlaPolicy:
        found = select_policy(
            self.policies, priority=priority, queue=queue, tier=tier, domain=domain, channel=channel
        )
        return found or self.fallback

    def named(self, name: str | None) -> SlaPolicy | None:
        if name is None:
            return None
        if name == self.fallback.name:
            return self.fallback
        return next((p for p in self.policies if p.name == name), None)

    # ---- calendars and queues --------------------------------------------------------------

    def calendar_for(self, policy: SlaPolicy, queue: str | None) -> BusinessCalendar:
        """The policy's own calendar if it names one, else the queue's, else the default."""
        explicit = "calendar" in self._data.get(policy.name, {})
        name = policy.calendar if explicit else None
        name = name or self.queue(queue).calendar or policy.calendar
        return self.calendars.get(name) or self.calendars[ALWAYS]

    def queue(self, name: str | None) -> QueueTimers:
        """The queue's timers: its settings, else the global defaults."""
        known = self._timers.get(name or "")
        if known is None:
            known = self._timers[name or ""] = self._parse_queue(name or "")
        return known

    def _parse_queue(self, name: str) -> QueueTimers:
        raw = self.queues.get(name, {})
        d = self.defaults

        def pick(key: str, default: timedelta | None) -> timedelta | None:
            return optional_duration(raw[key]) if key in raw else default

        return QueueTimers(
            remind_after=pick("remind_after", d.remind_after),
            auto_resolve_after=pick("auto_resolve_after", d.auto_resolve_after),
            auto_close_after=pick("auto_close_after", d.auto_close_after),
            claim_timeout=pick("claim_timeout", None),
            claim_set="claim_timeout" in raw,
            calendar=raw.get("calendar"),
            leads=tuple(raw.get("leads", ())),
        )


def sla_config_from(settings: Any, data: Mapping[str, Any]) -> SlaConfig:
    """Build from Settings (flat defaults) and the TOML file's contents. Raises ValueError
    with the offending name on a bad calendar, policy or queue timer."""
    sla = data.get("sla", {}) or {}
    calendars = {
        name: BusinessCalendar.from_dict(spec, name=name)
        for name, spec in (sla.get("calendars", {}) or {}).items()
    }
    policies = [dict(p) for p in sla.get("policies", []) or []]
    fallback_name = sla.get("default_policy")
    fallback: dict[str, Any]
    if fallback_name:
        fallback = next((p for p in policies if p.get("name") == fallback_name), {})
        if not fallback:
            raise ValueError(f"[sla] default_policy {fallback_name!r} is not in [[sla.policies]]")
        policies = [p for p in policies if p is not fallback]
    else:
        fallback = {"name": "default", "first_response": settings.first_response_target}
        if optional_duration(settings.first_response_target) is None:
            fallback = {"name": "default"}
    queues = {str(q["name"]): dict(q.get("settings") or {}) for q in data.get("queues", []) or []}
    for name, raw in queues.items():
        for key in ("remind_after", "auto_resolve_after", "auto_close_after", "claim_timeout"):
            if key in raw:
                try:
                    optional_duration(raw[key])
                except ValueError as exc:
                    raise ValueError(f"queue {name!r} setting {key}: {exc}") from None
    config = SlaConfig(
        calendars=calendars,
        file_policies=policies,
        fallback_data=fallback,
        default_calendar=str(sla.get("calendar", ALWAYS)),
        timezone=settings.timezone,
        defaults=QueueTimers(
            remind_after=optional_duration(settings.pending_remind_after),
            auto_resolve_after=optional_duration(settings.pending_auto_resolve_after),
            auto_close_after=optional_duration(settings.resolved_auto_close_after),
        ),
        queues=queues,
    )
    for name, raw in queues.items():
        cal = raw.get("calendar")
        if cal is not None and cal not in config.calendars:
            raise ValueError(f"queue {name!r}: no calendar {cal!r} in [sla.calendars]")
    return config
