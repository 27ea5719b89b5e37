"""A ticket moves to another SLA policy or calendar (its priority or queue changed): pure maths.

Each target still running keeps the business time it has already used, measured under the rules
that were in force (the old calendar); the new policy's target then counts on from there in the
new calendar. So a ticket raised to urgent after 3 business hours with a 4 h first-response
target under `normal` and 1 h under `urgent` is 2 h overdue — not given a fresh hour. Targets
already met stay met; an alarm that already fired (warning, breach, escalation step) never fires
again for the same target; a warning whose moment has passed fires at once unless the breach is
due too (then only the breach fires).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import sla_clock as clock
from bot.domain.calendar import SEARCH_HORIZON, BusinessCalendar, NoBusinessTimeError
from bot.domain.model import Ticket
from bot.domain.sla import SlaPolicy, escalation_at
from bot.domain.status import Status

_DONE = (Status.RESOLVED, Status.CLOSED, Status.MERGED)


def rebase(
    ticket: Ticket,
    old: SlaPolicy,
    old_calendar: BusinessCalendar,
    new: SlaPolicy,
    new_calendar: BusinessCalendar,
    now: datetime,
) -> None:
    """Recompute the due times and alarms of ``ticket`` under ``new`` / ``new_calendar``."""
    if ticket.status == Status.MERGED:
        return
    # A paused clock stopped at paused_at: measure up to there; resuming shifts what is later.
    ref = ticket.paused_at or now
    for target in clock.TARGETS:
        amount = getattr(new.targets, target)
        used = _used(ticket, target, old, old_calendar, ref)
        if used is None:
            continue  # not running (met, not started, or no honest due time): leave it
        if amount is None:
            clock.clear_target(ticket, target)
            continue
        try:
            due = _at(used, amount, ref, old_calendar, new_calendar)
            warn = (
                _at(used, amount * new.warn_ratio, ref, old_calendar, new_calendar)
                if new.warn_ratio < 1
                else None
            )
        except NoBusinessTimeError:
            continue  # the new calendar has no hours ahead: keep what we had
        _set(ticket, target, due, warn, new, new_calendar, now)
    clock.refresh(ticket)


def _used(
    ticket: Ticket, target: str, old: SlaPolicy, calendar: BusinessCalendar, ref: datetime
) -> timedelta | None:
    """Business time ``target`` has used so far, or None if it is not running."""
    due = getattr(ticket, clock.due_field(target))
    if target in ("first_response", "resolution"):
        if (target == "first_response" and ticket.first_response_at is not None) or (
            target == "resolution" and ticket.status in _DONE
        ):
            return None  # met: stays met
        if due is None and getattr(old.targets, target) is not None:
            return None  # the old policy could not set one (a calendar without hours)
        # From opening, less the time the clock was paused (counted when each pause ended).
        elapsed = calendar.business_time(ticket.created_at, ref)
        return max(timedelta(0), elapsed - timedelta(seconds=ticket.paused_secs))
    previous = old.targets.next_response
    if due is not None and previous is not None:
        # The customer's wait began before anything we store: count back from its due time.
        if due >= ref:
            return previous - calendar.business_time(ref, due)
        return previous + calendar.business_time(due, ref)
    if due is None and previous is None and clock.customer_waiting(ticket):
        if ticket.status not in clock.RUNNING:
            return None  # starts when the clock runs again (see the SLA stage)
        # The old policy had no such target: count from the customer's latest message.
        assert ticket.last_customer_message_at is not None
        return calendar.business_time(ticket.last_customer_message_at, ref)
    return None


def _at(
    used: timedelta,
    amount: timedelta,
    ref: datetime,
    old_calendar: BusinessCalendar,
    new_calendar: BusinessCalendar,
) -> datetime:
    """When ``amount`` of business time is used up: ahead of ``ref`` in the new calendar, or,
    if already used up, back in the old one (the rules in force when it ran out)."""
    if amount >= used:
        return new_calendar.add_business_seconds(ref, amount - used)
    return business_before(old_calendar, ref, used - amount)


def business_before(calendar: BusinessCalendar, end: datetime, amount: timedelta) -> datetime:
    """The latest instant from which ``amount`` of business time runs until ``end``."""
    span = timedelta(days=7)
    while True:
        need = amount
        for a, b in reversed(list(calendar.open_intervals(end - span, end))):
            if b - a >= need:
                return b - need
            need -= b - a
        if span >= SEARCH_HORIZON:
            raise NoBusinessTimeError(f"calendar {calendar.name!r}: no business time before {end}")
        span = min(span * 4, SEARCH_HORIZON)


def _set(
    ticket: Ticket,
    target: str,
    due: datetime,
    warn: datetime | None,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    now: datetime,
) -> None:
    """New due time and alarms of one target; alarms that already fired stay fired (at the
    time they fired, so they never fire again and the card still shows them)."""
    prefix = target + ":"
    ref = clock.clock_time(ticket, now)
    fired = {
        k: v for k, v in ticket.sla_timers.items() if k.startswith(prefix) and clock.fired(v, ref)
    }
    timers = {k: v for k, v in ticket.sla_timers.items() if not k.startswith(prefix)}
    breach, warn_key = f"{target}:breach", f"{target}:warn"
    if warn_key in fired:
        timers[warn_key] = fired[warn_key]
    elif warn is not None and warn < due and due > ref:
        timers[warn_key] = max(warn, ref)  # passed already: warn now, the ticket is at risk
    if breach in fired:
        timers[breach] = fired[breach]
        for i, step in enumerate(policy.escalation):  # the ladder of the new policy
            key = f"{target}:esc:{i}"
            if key in fired:
                timers[key] = fired[key]
                continue
            try:
                timers[key] = escalation_at(due, step, calendar)
            except NoBusinessTimeError:
                timers[key] = due
    else:
        timers[breach] = due
    setattr(ticket, clock.due_field(target), due)
    ticket.sla_timers = timers
