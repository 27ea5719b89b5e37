"""Automation settings (issue 7) in one object: rules, assignment, CSAT, KB, webhooks, locale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.calendar import BusinessCalendar
from bot.domain.routing import Rule, parse_rules
from bot.domain.sla import parse_duration

STRATEGIES = ("manual", "round_robin", "least_loaded", "skills")
WEBHOOK_EVENTS = (
    "ticket.created", "ticket.assigned", "ticket.replied", "ticket.status_changed",
    "ticket.closed", "ticket.rated", "ticket.sla_warning", "ticket.sla_breach",
)  # fmt: skip


@dataclass(frozen=True)
class CustomerProfile:
    """A settings entry that gives customers of a domain or address a tier and tags."""

    match: str
    tier: str | None = None
    tags: tuple[str, ...] = ()
    locale: str | None = None

    def applies(self, email: str | None) -> bool:
        if not email:
            return False
        email = email.lower()
        want = self.match.lower().lstrip("@")
        return email == want if "@" in want else email.rsplit("@", 1)[-1] == want


@dataclass
class AutomationConfig:
    """Defaults keep deskbot's behaviour without automation: manual claims, no rules."""

    rules: list[Rule] = field(default_factory=list)
    rule_problems: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    assign_strategy: str = "manual"
    first_responder: bool = False
    customers: list[CustomerProfile] = field(default_factory=list)
    agent_hours: dict[str, BusinessCalendar] = field(default_factory=dict)
    default_locale: str = "en"
    first_response: timedelta = timedelta(hours=4)
    csat_enabled: bool = True
    csat_throttle: timedelta = timedelta(hours=24)
    csat_window: timedelta = timedelta(days=7)
    kb_suggestions: int = 3
    webhook_urls: tuple[str, ...] = ()
    webhook_events: frozenset[str] = frozenset(WEBHOOK_EVENTS)

    def profile(self, email: str | None) -> CustomerProfile | None:
        return next((p for p in self.customers if p.applies(email)), None)

    def agent_on_shift(self, name: str, at: datetime) -> bool:
        """Agents with working hours in settings are assignable only within them."""
        calendar = self.agent_hours.get(name.lower())
        return calendar is None or calendar.is_open(at)

    def queue_strategy(self, queue_settings: Mapping[str, Any] | None) -> str:
        value = (queue_settings or {}).get("assign", self.assign_strategy)
        return value if value in STRATEGIES else "manual"

    def queue_first_responder(self, queue_settings: Mapping[str, Any] | None) -> bool:
        return bool((queue_settings or {}).get("first_responder", self.first_responder))


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def automation_from(settings: Any, data: Mapping[str, Any]) -> AutomationConfig:
    """Build from Settings and the TOML file's contents (`[[rules]]`, `[[customers]]`, people)."""
    rules, problems = parse_rules(data.get("rules", []), tz=settings.timezone)
    hours: dict[str, BusinessCalendar] = {}
    for person in data.get("people", []):
        if person.get("hours"):
            spec = person["hours"]
            table = spec if "hours" in spec else {"hours": spec}
            table = {"tz": settings.timezone, **table}
            hours[str(person["name"]).lower()] = BusinessCalendar.from_dict(
                table, name=f"{person['name']} hours"
            )
    events = frozenset(
        e if e.startswith("ticket.") else f"ticket.{e}" for e in _split(settings.webhook_events)
    )
    return AutomationConfig(
        rules=rules,
        rule_problems=problems,
        timezone=settings.timezone,
        assign_strategy=settings.assign_strategy
        if settings.assign_strategy in STRATEGIES
        else "manual",
        first_responder=settings.first_responder,
        customers=[
            CustomerProfile(
                str(c["match"]), c.get("tier"), tuple(c.get("tags", ())), c.get("locale")
            )
            for c in data.get("customers", [])
        ],
        agent_hours=hours,
        default_locale=settings.default_locale,
        first_response=parse_duration(settings.first_response_target),
        csat_enabled=settings.csat_enabled,
        csat_throttle=parse_duration(settings.csat_throttle),
        csat_window=parse_duration(settings.csat_window),
        kb_suggestions=settings.kb_suggestions,
        webhook_urls=tuple(_split(settings.webhook_urls)),
        webhook_events=events or frozenset(WEBHOOK_EVENTS),
    )
