"""A ticket's SLA clock: start, pause, resume and meet targets; which alarms are due (pure).

Each target (first response, next response, resolution) has a due time column and alarms in
``ticket.sla_timers``: ``"<target>:warn"``, ``"<target>:breach"`` and, after a breach,
``"<target>:esc:<step>"``. That map is the plan: an alarm fires at its time while the clock
runs, and one whose time the clock has passed has fired (null marks one fired before
migration 0013), so firing changes nothing here and the card can still say "breached". Meeting
a target removes its alarms. The storage keeps a row per planned alarm, keyed by time, for the
scheduler (storage/alarms_repo.py). The earliest due time of a running ticket is
``sla_due_at``, the one column "breaching soon" asks about.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.calendar import BusinessCalendar, NoBusinessTimeError
from bot.domain.model import Ticket
from bot.domain.sla import SlaPolicy, compute_due, escalation_at
from bot.domain.status import Status

TARGETS = ("first_response", "next_response", "resolution")
Alarm = tuple[datetime, str]
"""A planned alarm: its time and its key, e.g. (…, "first_response:breach")."""
RUNNING = frozenset({Status.NEW, Status.OPEN})
"""Statuses in which the SLA clock runs; every other status pauses it."""


def customer_waiting(ticket: Ticket) -> bool:
    """Answered before, and the customer wrote after our last answer."""
    last_in, last_out = ticket.last_customer_message_at, ticket.last_agent_message_at
    return (
        ticket.first_response_at is not None
        and last_in is not None
        and (last_out is None or last_in > last_out)
    )


def due_field(target: str) -> str:
    return f"{target}_due"


def start_target(
    ticket: Ticket, target: str, policy: SlaPolicy, calendar: BusinessCalendar, start: datetime
) -> datetime | None:
    """Set ``target``'s due time and alarms counting from ``start``; None if it has no target."""
    _drop(ticket, target)
    amount = getattr(policy.targets, target)
    due = warn = None
    if amount is not None:
        try:
            due = compute_due(start, amount, calendar)
            # Equal to sla.warn_at(start, due, ...): with no pause yet, start..due is `amount`.
            if policy.warn_ratio < 1:
                warn = calendar.add_business_seconds(start, amount * policy.warn_ratio)
        except NoBusinessTimeError:
            due = warn = None  # a calendar without hours: no honest due time exists
    setattr(ticket, due_field(target), due)
    if due is not None:
        if warn is not None and warn < due:
            ticket.sla_timers[f"{target}:warn"] = warn
        ticket.sla_timers[f"{target}:breach"] = due
    refresh(ticket)
    return due


def clear_target(ticket: Ticket, target: str) -> None:
    """Forget a target's due time and all of its alarms (it was met or no longer applies)."""
    setattr(ticket, due_field(target), None)
    _drop(ticket, target)
    refresh(ticket)


def _drop(ticket: Ticket, target: str) -> None:
    prefix = target + ":"
    if any(k.startswith(prefix) for k in ticket.sla_timers):
        ticket.sla_timers = {k: v for k, v in ticket.sla_timers.items() if not k.startswith(prefix)}


def clear_all(ticket: Ticket) -> None:
    for target in TARGETS:
        clear_target(ticket, target)
    ticket.paused_at = None
    refresh(ticket)


def business_seconds(ticket: Ticket, calendar: BusinessCalendar, at: datetime) -> int:
    """Business seconds from opening to ``at``, not counting paused time."""
    total = calendar.business_seconds(ticket.created_at, at)
    paused = ticket.paused_secs
    if ticket.paused_at is not None and at > ticket.paused_at:
        paused += int(calendar.business_seconds(ticket.paused_at, at))
    return max(0, int(total) - paused)


def pause(ticket: Ticket, at: datetime) -> None:
    """The clock stops (pending, on hold, resolved): nothing fires until it resumes."""
    if ticket.paused_at is None:
        ticket.paused_at = at
    refresh(ticket)


def resume(ticket: Ticket, calendar: BusinessCalendar, at: datetime) -> None:
    """The clock runs again: every due time and alarm still ahead of the pause moves later by
    exactly the business time the pause covered, so resuming never breaches at once."""
    paused_from = ticket.paused_at
    if paused_from is None:
        return
    if at > paused_from:

        def shift(value: datetime | None) -> datetime | None:
            if value is None or value < paused_from:
                return value  # reached before the pause: it fired (or was due) then
            left = calendar.business_time(paused_from, value)
            return calendar.add_business_seconds(at, left)

        try:
            for target in TARGETS:
                name = due_field(target)
                setattr(ticket, name, shift(getattr(ticket, name)))
            ticket.sla_timers = {k: shift(v) for k, v in ticket.sla_timers.items()}
            ticket.paused_secs += int(calendar.business_seconds(paused_from, at))
        except NoBusinessTimeError:
            pass  # no business hours ahead: leave the times as they were
    ticket.paused_at = None
    refresh(ticket)


def clock_time(ticket: Ticket, now: datetime) -> datetime:
    """Where the clock stands at ``now``: a paused clock stopped when the pause began."""
    return ticket.paused_at or now


def fired(at: datetime | None, clock_at: datetime) -> bool:
    """Has an alarm planned at ``at`` fired once the clock stands at ``clock_at``?"""
    return at is None or at <= clock_at


def fires(ticket: Ticket, key: str, at: datetime) -> bool:
    """Does a pending alarm row (``at``, ``key``) fire now: the clock runs and the ticket still
    plans that alarm at that time? Otherwise the row is stale (the target was met or moved,
    the clock paused or stopped) and is dropped unfired."""
    return (
        ticket.status in RUNNING and ticket.paused_at is None and ticket.sla_timers.get(key) == at
    )


def schedule_escalation(
    ticket: Ticket, target: str, policy: SlaPolicy, calendar: BusinessCalendar, due: datetime
) -> list[Alarm]:
    """After a breach: one alarm per ladder step, ``step.after`` business time past ``due``;
    returns them as (time, key)."""
    steps: list[Alarm] = []
    for i, step in enumerate(policy.escalation):
        try:
            at = escalation_at(due, step, calendar)
        except NoBusinessTimeError:
            at = due
        ticket.sla_timers[f"{target}:esc:{i}"] = at
        steps.append((at, f"{target}:esc:{i}"))
    return steps


def refresh(ticket: Ticket) -> None:
    """Recompute the derived columns: sla_due_at (the earliest due time, breached ones
    included: "breaching soon") and warn_at (the earliest planned warning), both only while
    the clock runs."""
    if ticket.status not in RUNNING or ticket.paused_at is not None:
        ticket.warn_at = ticket.sla_due_at = None
        return
    earliest = earliest_due(ticket)
    ticket.sla_due_at = earliest[1] if earliest is not None else None
    warn = None
    for key, at in ticket.sla_timers.items():
        if at is not None and key.endswith(":warn") and (warn is None or at < warn):
            warn = at
    ticket.warn_at = warn


_DUE_FIELDS = tuple((f"{t}_due", t) for t in TARGETS)


def earliest_due(ticket: Ticket) -> tuple[str, datetime] | None:
    """The target due first and its due time, for cards and lists (ties: TARGETS order)."""
    best: tuple[str, datetime] | None = None
    for name, target in _DUE_FIELDS:  # every card edit asks, twice: kept cheap
        due = getattr(ticket, name)
        if due is not None and (best is None or due < best[1]):
            best = (target, due)
    return best


def state(ticket: Ticket, now: datetime) -> str | None:
    """The card's SLA state at ``now``: breached, at_risk, paused, or None (on track or no
    SLA)."""
    if earliest_due(ticket) is None:
        return None
    if ticket.paused_at is not None:
        return "paused"
    passed = {k.split(":")[1] for k, v in ticket.sla_timers.items() if fired(v, now)}
    if "breach" in passed:
        return "breached"
    if "warn" in passed:
        return "at_risk"
    return None
