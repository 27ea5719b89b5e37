"""Routing rules: conditions on a new ticket's facts and the actions they set (pure, no I/O).

A rule is `{name, when = {…}, then = {…}}` from the settings file or `rules add`. Every
condition in `when` must hold; list values match when any item does. Rules are evaluated in
order and all matching rules apply (later ones override queue/priority/SLA/assignee; tags and
canned replies add up) until one says `stop = true`. A rule that cannot be parsed or evaluated
is reported and skipped: routing never blocks intake.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.calendar import BusinessCalendar
from bot.domain.status import Priority

log = logging.getLogger(__name__)

CONDITIONS = (
    "platform", "channel", "mailbox", "conversation", "customer_domain", "customer_tier",
    "customer_tag", "keywords", "subject_keywords", "regex", "subject_regex", "language",
    "hours", "outside_hours", "timezone",
)  # fmt: skip
ACTIONS = ("queue", "priority", "tags", "sla", "assign", "reply", "stop")


class RuleError(ValueError):
    """A rule definition that cannot be used; the message names the rule and the problem."""


@dataclass(frozen=True)
class Facts:
    """What routing may look at for one ticket."""

    platform: str
    conversation: str
    subject: str
    body: str = ""
    customer_email: str | None = None
    customer_tier: str | None = None
    customer_tags: tuple[str, ...] = ()
    language: str | None = None
    at: datetime | None = None

    @property
    def channel(self) -> str:
        parts = self.conversation.split(":", 2)
        return parts[1] if len(parts) > 1 else ""

    @property
    def customer_domain(self) -> str | None:
        if not self.customer_email or "@" not in self.customer_email:
            return None
        return self.customer_email.rsplit("@", 1)[1].lower()


@dataclass(frozen=True)
class Rule:
    """One parsed rule. `when`/`then` keep the source form for listing and storage."""

    name: str
    when: Mapping[str, Any]
    then: Mapping[str, Any]
    source: str = "settings"
    _regex: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    _subject_regex: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    _hours: BusinessCalendar | None = field(default=None, compare=False, repr=False)
    _outside: BusinessCalendar | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        def fmt(d: Mapping[str, Any]) -> str:
            return " ".join(f"{k}:{_show(v)}" for k, v in d.items()) or "always"

        return f"{self.name} ({self.source}): when {fmt(self.when)} → {fmt(self.then)}"


@dataclass
class Decision:
    """The combined effect of the rules that matched, in order."""

    rules: list[str] = field(default_factory=list)
    queue: str | None = None
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    sla: str | None = None
    assign: str | None = None
    replies: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rules


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ";".join(f"{k}={_show(v)}" for k, v in value.items())
    return str(value)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise RuleError(f"{what} must be a string or a list of strings")
    return tuple(i.strip() for i in items if i.strip())


def _calendar(value: Any, tz: str, what: str) -> BusinessCalendar:
    hours = {"daily": value} if isinstance(value, str | list) else value
    try:
        return BusinessCalendar.from_dict({"tz": tz, "hours": hours}, name=what)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


def parse_rule(data: Mapping[str, Any], *, source: str = "settings", tz: str = "UTC") -> Rule:
    """Validate a rule definition; raises RuleError with a message fit for an admin."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise RuleError("a rule needs a name")
    unknown = set(data) - {"name", "when", "then"}
    when, then = data.get("when") or {}, data.get("then") or {}
    if unknown or not isinstance(when, Mapping) or not isinstance(then, Mapping):
        raise RuleError(f"rule {name!r}: use name, when = {{…}} and then = {{…}}")
    if bad := sorted(set(when) - set(CONDITIONS)):
        raise RuleError(f"rule {name!r}: unknown condition {bad}; known: {', '.join(CONDITIONS)}")
    if bad := sorted(set(then) - set(ACTIONS)):
        raise RuleError(f"rule {name!r}: unknown action {bad}; known: {', '.join(ACTIONS)}")
    if not then:
        raise RuleError(f"rule {name!r}: no actions")
    for key, value in when.items():
        if key not in ("hours", "outside_hours", "timezone"):
            _strings(value, f"rule {name!r}: {key}")
    if "priority" in then and then["priority"] not in {p.value for p in Priority}:
        raise RuleError(f"rule {name!r}: priority must be one of low, normal, high, urgent")
    if "tags" in then:
        _strings(then["tags"], f"rule {name!r}: tags")
    extra: dict[str, Any] = {}
    try:
        for key in ("regex", "subject_regex"):
            if key in when:
                extra[f"_{key}"] = tuple(re.compile(p) for p in _strings(when[key], key))
    except re.error as exc:
        raise RuleError(f"rule {name!r}: bad regular expression: {exc}") from None
    zone = str(when.get("timezone") or tz)
    if "hours" in when:
        extra["_hours"] = _calendar(when["hours"], zone, f"rule {name} hours")
    if "outside_hours" in when:
        extra["_outside"] = _calendar(when["outside_hours"], zone, f"rule {name} outside_hours")
    return Rule(name, dict(when), dict(then), source, **extra)


def parse_rules(
    items: Iterable[Mapping[str, Any]], *, source: str = "settings", tz: str = "UTC"
) -> tuple[list[Rule], list[str]]:
    """Parse many; broken ones are left out and their problems returned (and logged)."""
    rules, problems = [], []
    for item in items:
        try:
            rules.append(parse_rule(item, source=source, tz=tz))
        except RuleError as exc:
            log.warning("routing rule skipped: %s", exc)
            problems.append(str(exc))
    return rules, problems


def _words(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?<!\w){re.escape(p)}(?!\w)" for p in patterns), re.IGNORECASE)


def _any_of(value: Any, candidates: Iterable[str | None]) -> bool:
    wanted = {s.casefold() for s in _strings(value, "condition")}
    return any(c is not None and c.casefold() in wanted for c in candidates)


def matches(rule: Rule, facts: Facts) -> bool:
    """Whether every condition of `rule` holds for `facts`. May raise on a broken rule."""
    w = rule.when
    text = f"{facts.subject}\n{facts.body}"
    checks = {
        "platform": lambda v: _any_of(v, [facts.platform]),
        "channel": lambda v: _any_of(v, [facts.channel]),
        "mailbox": lambda v: facts.platform == "email" and _any_of(v, [facts.channel]),
        "conversation": lambda v: any(
            fnmatch.fnmatchcase(facts.conversation, p) for p in _strings(v, "conversation")
        ),
        "customer_domain": lambda v: _any_of(v, [facts.customer_domain]),
        "customer_tier": lambda v: _any_of(v, [facts.customer_tier]),
        "customer_tag": lambda v: _any_of(v, facts.customer_tags),
        "keywords": lambda v: bool(_words(_strings(v, "keywords")).search(text)),
        "subject_keywords": lambda v: bool(_words(_strings(v, "kw")).search(facts.subject)),
        "regex": lambda v: any(p.search(text) for p in rule._regex),
        "subject_regex": lambda v: any(p.search(facts.subject) for p in rule._subject_regex),
        "language": lambda v: _any_of(v, [(facts.language or "").split("-")[0].split("_")[0]]),
        "hours": lambda v: bool(rule._hours and facts.at and rule._hours.is_open(facts.at)),
        "outside_hours": lambda v: bool(
            rule._outside and facts.at and not rule._outside.is_open(facts.at)
        ),
        "timezone": lambda v: True,
    }  # fmt: skip
    return all(checks[key](value) for key, value in w.items())


def evaluate(rules: Iterable[Rule], facts: Facts) -> Decision:
    """Apply matching rules in order. A rule that raises is logged and skipped."""
    decision = Decision()
    for rule in rules:
        try:
            if not matches(rule, facts):
                continue
        except Exception:
            log.exception("routing rule %r failed to evaluate; skipped", rule.name)
            continue
        then = rule.then
        decision.rules.append(rule.name)
        decision.queue = then.get("queue", decision.queue)
        decision.priority = then.get("priority", decision.priority)
        decision.sla = then.get("sla", decision.sla)
        decision.assign = then.get("assign", decision.assign)
        for tag in _strings(then.get("tags", ()), "tags"):
            if tag not in decision.tags:
                decision.tags.append(tag)
        if then.get("reply"):
            decision.replies.append(str(then["reply"]))
        if then.get("stop"):
            break
    return decision


def parse_command(text: str) -> dict[str, Any]:
    """`NAME when key:value … then key:value …` (lists comma-separated) → a rule definition."""
    words = text.split()
    if not words:
        raise RuleError("name the rule: rules add NAME when keywords:refund then queue:billing")
    name, rest = words[0], words[1:]
    when: dict[str, Any] = {}
    then: dict[str, Any] = {}
    target = when
    for word in rest:
        low = word.lower()
        if low in ("when", "if"):
            target = when
            continue
        if low in ("then", "=>", "->"):
            target = then
            continue
        key, sep, value = word.partition(":")
        if not sep or not value:
            raise RuleError(f"expected key:value, got {word!r}")
        key = key.lower()
        if key == "stop":
            then["stop"] = value.lower() in ("1", "true", "yes")
        elif key == "tag":
            then.setdefault("tags", []).extend(v for v in value.split(",") if v)
        elif key in ("hours", "outside_hours", "regex", "subject_regex", "queue", "priority",
                     "sla", "assign", "reply", "timezone"):  # fmt: skip
            target[key] = value
        else:
            target.setdefault(key, []).extend(v for v in value.split(",") if v)
    return {"name": name, "when": when, "then": then}
