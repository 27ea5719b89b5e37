"""Moving a ticket to another SLA policy or calendar keeps the business time already used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import sla_clock as clock
from bot.domain.calendar import BusinessCalendar
from bot.domain.model import Ticket
from bot.domain.sla import SlaPolicy
from bot.domain.sla_rebase import business_before, rebase
from bot.domain.status import Status

ALWAYS = BusinessCalendar.always()
OFFICE = BusinessCalendar.from_dict(
    {"tz": "Europe/Zagreb", "hours": {"mon-fri": ["09:00-17:00"]}}, name="office"
)
NORMAL = SlaPolicy.from_dict(
    {"name": "normal", "first_response": "4h", "next_response": "4h", "resolution": "2d"}
)
URGENT = SlaPolicy.from_dict(
    {
        "name": "urgent",
        "first_response": "1h",
        "next_response": "30m",
        "resolution": "8h",
        "escalate": [{"after": "15m", "action": "notify_leads"}],
    }
)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Zagreb
H = timedelta(hours=1)


def opened(policy: SlaPolicy = NORMAL, calendar: BusinessCalendar = ALWAYS) -> Ticket:
    t = Ticket(1, "T-1", "s", 1, "console:a:", "console", START, status=Status.OPEN)
    for target in ("first_response", "resolution"):
        clock.start_target(t, target, policy, calendar, START)
    return t


def test_more_urgent_policy_counts_the_time_already_used() -> None:
    t = opened()
    rebase(t, NORMAL, ALWAYS, URGENT, ALWAYS, START + 3 * H)
    # 3h used of a 1h target: missed two hours ago, not a fresh hour from now
    assert t.first_response_due == START + H
    assert t.resolution_due == START + 8 * H
    assert t.sla_timers["first_response:breach"] == START + H
    # the breach is due already: no warning right before it
    assert "first_response:warn" not in t.sla_timers
    assert clock.fires(t, "first_response:breach", START + H)  # a new row, due at once
    # resolution (8h, 3h used): its warning at 80% is still ahead
    assert t.sla_timers["resolution:warn"] == START + timedelta(minutes=384)


def test_more_lenient_policy_moves_due_later_and_a_fired_alarm_stays_fired() -> None:
    t = opened(URGENT)
    warned = START + 48 * timedelta(minutes=1)  # 80 % of an hour: fired by now
    assert t.sla_timers["first_response:warn"] == warned
    rebase(t, URGENT, ALWAYS, NORMAL, ALWAYS, START + 50 * timedelta(minutes=1))
    assert t.first_response_due == START + 4 * H
    assert t.sla_timers["first_response:warn"] == warned  # fired once, never again
    assert t.sla_timers["first_response:breach"] == START + 4 * H
    assert clock.state(t, START + 50 * timedelta(minutes=1)) == "at_risk"


def test_warning_moment_already_passed_warns_now() -> None:
    t = opened()  # 4h first response, warning at 3h12m
    now = START + 2 * H
    quick = SlaPolicy.from_dict({"name": "quick", "first_response": "150m"})
    rebase(t, NORMAL, ALWAYS, quick, ALWAYS, now)
    # 2h used of 2h30m: the 80% mark (2h) is now; the breach in 30 minutes
    assert t.sla_timers["first_response:warn"] == now
    assert t.first_response_due == now + timedelta(minutes=30)
    assert t.resolution_due is None  # the new policy sets no resolution target
    assert not any(k.startswith("resolution:") for k in t.sla_timers)


def test_met_targets_stay_met() -> None:
    t = opened()
    t.first_response_at = START + H
    t.first_response_secs = 3600
    clock.clear_target(t, "first_response")
    rebase(t, NORMAL, ALWAYS, URGENT, ALWAYS, START + 2 * H)
    assert t.first_response_due is None
    assert not any(k.startswith("first_response:") for k in t.sla_timers)
    assert t.resolution_due == START + 8 * H


def test_breached_target_keeps_its_breach_and_follows_the_new_ladder() -> None:
    t = opened()  # breached at 4h under `normal`, an hour before the change
    rebase(t, NORMAL, ALWAYS, URGENT, ALWAYS, START + 5 * H)
    assert t.sla_timers["first_response:breach"] == START + 4 * H  # fired then: stays
    assert t.first_response_due == START + H
    # urgent's ladder: notify leads 15 min after the (new) due time; it is due now
    step = START + H + timedelta(minutes=15)
    assert t.sla_timers["first_response:esc:0"] == step
    assert clock.fires(t, "first_response:esc:0", step)


def test_paused_ticket_counts_up_to_the_pause_and_resumes_without_breaching() -> None:
    t = opened()
    clock.pause(t, START + 30 * timedelta(minutes=1))
    t.status = Status.PENDING
    rebase(t, NORMAL, ALWAYS, URGENT, ALWAYS, START + 10 * H)
    # 30 min used before the pause: 30 min left, counted from the pause
    assert t.first_response_due == START + H
    breach = t.sla_timers["first_response:breach"]
    assert breach is not None and not clock.fires(t, "first_response:breach", breach)
    t.status = Status.OPEN
    clock.resume(t, ALWAYS, START + 10 * H)
    assert t.first_response_due == START + 10 * H + 30 * timedelta(minutes=1)


def test_next_response_keeps_the_wait_already_used() -> None:
    t = opened()
    t.first_response_at = START + H
    clock.clear_target(t, "first_response")
    t.last_agent_message_at = START + H
    t.last_customer_message_at = START + 2 * H
    clock.start_target(t, "next_response", NORMAL, ALWAYS, START + 2 * H)  # 4h: due at 6h
    rebase(t, NORMAL, ALWAYS, URGENT, ALWAYS, START + 2 * H + timedelta(minutes=10))
    # 10 minutes waited of 30: due 20 minutes from now
    assert t.next_response_due == START + 2 * H + timedelta(minutes=30)


def test_calendar_change_counts_used_time_in_the_old_and_the_rest_in_the_new() -> None:
    t = opened(NORMAL, OFFICE)  # Monday 09:00 Zagreb, 4 business hours: due 13:00 local
    assert t.first_response_due == START + 4 * H
    now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 15:00 local: 6 office hours used
    rebase(t, NORMAL, OFFICE, URGENT, ALWAYS, now)
    # 1h target, 6h used: it ran out at 10:00 local (the office hours then in force)
    assert t.first_response_due == START + H
    lenient = SlaPolicy.from_dict({"name": "slow", "first_response": "8h"})
    t2 = opened(NORMAL, OFFICE)
    rebase(t2, NORMAL, OFFICE, lenient, ALWAYS, now)
    # 2h left, counted on the 24/7 calendar from now
    assert t2.first_response_due == now + 2 * H


def test_business_before_walks_back_over_closed_hours() -> None:
    monday_10 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Zagreb
    # 3 business hours before Monday 10:00: Friday 15:00 local
    assert business_before(OFFICE, monday_10, 3 * H) == datetime(2026, 2, 27, 14, 0, tzinfo=UTC)
    assert business_before(ALWAYS, monday_10, 3 * H) == monday_10 - 3 * H
