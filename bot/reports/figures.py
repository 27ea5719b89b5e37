"""What a report's figures mean: pure definitions and the values the repository fills in.

Definitions (the SQL in storage/reports_repo.py implements exactly these):

- created / resolved / closed: tickets whose created_at / resolved_at / closed_at is in the
  window; reopened: status changes resolved|closed → open in the window; escalations: SLA
  escalation steps that ran in the window.
- backlog at an instant T: tickets created before T that were not resolved by T (and not merged);
  its ages are T − created_at, in AGE_BUCKETS.
- first-response time: for tickets first answered in the window; resolution time: for tickets
  resolved in the window. "wall" is whole seconds between the timestamps (each truncated to the
  second); "business" is the SLA engine's business seconds (calendar hours, pauses excluded).
  Median and p90 are PostgreSQL's percentile_disc: the smallest value whose rank k satisfies
  k/n ≥ p, i.e. k = ceil(p·n) in double precision (see `rank`).
- SLA per target, for tickets created in the window that have the target: breached when a
  breach was recorded (or the due time passed unmet); met when the target was reached without
  a breach; open otherwise. Shares are of all tickets with the target.
- next response (a target that restarts whenever the customer writes again), per ticket:
  breached when a next-response breach was recorded or its running due time has passed; open
  when it is waiting on a reply now, due later; met when a reply came in time (the SLA engine
  records `sla_met` for each cycle met) and none of the above.
- messages per ticket: messages on tickets created in the window / tickets created in it.
- agent productivity: tickets an agent resolved (as assignee) in the window, their public
  replies in the window, and the median wall resolution time of the tickets they resolved.
- CSAT: ratings given in the window (average, 1–5 distribution); response rate: share of
  surveys sent in the window that were answered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.reports.periods import Period

DAY = 86_400
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("< 1 day", DAY),
    ("1–3 days", 3 * DAY),
    ("3–7 days", 7 * DAY),
    ("7–30 days", 30 * DAY),
    ("≥ 30 days", None),
)
"""Backlog age buckets: (label, exclusive upper bound in seconds; None = no bound)."""

P50, P90 = 0.5, 0.9
SLA_TARGETS = ("first_response", "next_response", "resolution")
GROUPINGS = ("agent", "queue", "channel", "priority", "tag")


def rank(p: float, n: int) -> int:
    """The 1-based rank percentile_disc picks among n sorted values: ceil(p·n), at least 1.

    Computed in double precision exactly as PostgreSQL does, so SQLite (which compares row
    numbers with the same expression) and PostgreSQL pick the same row.
    """
    return max(1, math.ceil(p * n))


def percentile_disc(values: Sequence[int], p: float) -> int | None:
    """The reference definition (used by tests): sorted values, the value at `rank(p, n)`."""
    ordered = sorted(values)
    return ordered[rank(p, len(ordered)) - 1] if ordered else None


def age_bucket(seconds: float) -> int:
    """Index in AGE_BUCKETS of a backlog ticket's age."""
    for i, (_, upper) in enumerate(AGE_BUCKETS):
        if upper is None or seconds < upper:
            return i
    return len(AGE_BUCKETS) - 1


@dataclass(frozen=True)
class Scope:
    """Which tickets a report is about: one queue, one agent's (`/report me`), or all."""

    queue: str | None = None
    assignee_id: int | None = None
    agent_name: str | None = None

    def describe(self) -> str:
        parts = [f"queue {self.queue}"] if self.queue else []
        if self.agent_name:
            parts.append(f"agent {self.agent_name}")
        return ", ".join(parts) or "all queues"


@dataclass(frozen=True)
class Pct:
    """Median and p90 of a duration in seconds over `n` tickets (None when n is 0)."""

    n: int = 0
    p50: int | None = None
    p90: int | None = None


@dataclass(frozen=True)
class Sla:
    """Tickets with an SLA target, by outcome."""

    met: int = 0
    breached: int = 0
    open: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached + self.open

    def share(self, part: int) -> float | None:
        """`part` as a percentage of the tickets with the target."""
        return 100.0 * part / self.total if self.total else None

    def __add__(self, other: Sla) -> Sla:
        return Sla(self.met + other.met, self.breached + other.breached, self.open + other.open)


@dataclass(frozen=True)
class Csat:
    """Satisfaction: ratings given in the window and surveys sent in it."""

    surveys: int = 0
    answered: int = 0
    scores: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def count(self) -> int:
        return sum(self.scores)

    @property
    def average(self) -> float | None:
        total = sum((i + 1) * n for i, n in enumerate(self.scores))
        return total / self.count if self.count else None

    @property
    def response_rate(self) -> float | None:
        return 100.0 * self.answered / self.surveys if self.surveys else None


@dataclass
class Side:
    """Every figure of one window (the period, or the previous one); groups fill a subset."""

    created: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0
    backlog: int = 0
    escalations: int = 0
    messages: int = 0
    replies: int = 0
    frt: Pct = Pct()
    frt_business: Pct = Pct()
    rt: Pct = Pct()
    rt_business: Pct = Pct()
    sla: dict[str, Sla] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    csat: Csat | None = None

    @property
    def messages_per_ticket(self) -> float | None:
        return self.messages / self.created if self.created else None


@dataclass
class AgentRow:
    """One agent's productivity in the period; `previous` is the same in the previous one."""

    name: str
    handled: int = 0
    replies: int = 0
    handle: Pct = Pct()
    previous: AgentRow | None = None


@dataclass
class GroupRow:
    """One row of a `by X` breakdown: the group's figures now and in the previous period."""

    key: str
    current: Side
    previous: Side


@dataclass(frozen=True)
class Day:
    """One bar of the chart: tickets created and resolved, and first-response percentiles."""

    label: str
    created: int
    resolved: int
    frt: Pct


@dataclass
class Report:
    """A whole report: the period, whom it is about, and its figures."""

    period: Period
    scope: Scope
    current: Side
    previous: Side
    backlog_ages: tuple[int, ...] = ()
    agents: list[AgentRow] = field(default_factory=list)
    by: str | None = None
    groups: list[GroupRow] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    csat_available: bool = False
    breakdown_truncated: int = 0


def change(current: float | None, previous: float | None) -> str:
    """A figure's change against the previous period: "+3, +25%", "−2, −10%", "±0", "+1, new"."""
    if current is None or previous is None:
        return "–"
    delta = current - previous
    if delta == 0:
        return "±0"
    number = f"{delta:+.0f}" if float(delta).is_integer() else f"{delta:+.1f}"
    number = number.replace("-", "−")
    if previous == 0:
        return f"{number}, new"
    pct = 100.0 * delta / abs(previous)
    return f"{number}, {pct:+.0f}%".replace("-", "−")
