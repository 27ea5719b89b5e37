"""SLA maths: business-time properties (hypothesis), pause semantics, policies and parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import BusinessCalendar
from bot.domain.sla import (
    EscalationStep,
    SlaPolicy,
    SlaTargets,
    TargetState,
    compute_due,
    escalation_at,
    parse_duration,
    select_policy,
    target_state,
    warn_at,
)

ZAG = ZoneInfo("Europe/Zagreb")
US = timedelta(microseconds=1)

OFFICE = BusinessCalendar.from_dict(
    {
        "tz": "Europe/Zagreb",
        "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-14:00"]},
        "holidays": ["2026-12-24", "2027-12-24"],
        "country": "HR",
    },
    name="office",
)
CALENDARS = [
    OFFICE,
    BusinessCalendar.from_dict(
        {"tz": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}, "country": "US"}
    ),
    BusinessCalendar.from_dict({"tz": "Europe/Zagreb", "hours": {"sun": "00:00-24:00"}}),
    BusinessCalendar.from_dict(  # intervals touching the DST gap and the repeated hour
        {
            "tz": "Europe/Zagreb",
            "hours": {"sun": ["01:00-02:30", "02:30-04:00"], "sat": "22:00-24:00"},
        }
    ),
    BusinessCalendar.always(),
]

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
positive = st.timedeltas(min_value=US, max_value=timedelta(days=20))
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)
fast = settings(max_examples=150, deadline=None)


@fast
@given(calendars, instants, amounts)
def test_business_time_up_to_the_due_instant_is_the_target(
    cal: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    due = cal.add_business_seconds(start, amount)
    assert cal.business_time(start, due) == amount
    assert cal.business_seconds(start, due) == amount.total_seconds()
    if amount:
        # Earliest such instant, and the last microsecond before it was business time.
        assert cal.business_time(start, due - US) == amount - US
        assert cal.is_open(due - US)


@fast
@given(calendars, instants, positive, fractions, st.timedeltas(timedelta(0), timedelta(days=9)))
def test_a_pause_moves_due_by_exactly_its_business_time(
    cal: BusinessCalendar, start: datetime, target: timedelta, frac: float, length: timedelta
) -> None:
    due = compute_due(start, target, cal)
    assert due is not None
    pause_start = start + (due - start) * frac
    if pause_start >= due:
        pause_start = due - US
    pause = (pause_start, pause_start + length)
    paused_due = compute_due(start, target, cal, [pause])
    assert paused_due is not None
    assert cal.business_time(due, paused_due) == cal.business_time(*pause)
    # Resuming leaves exactly the business time that was left when the pause began:
    # the known peer bug (instant breach on resume) cannot happen.
    assert pause[1] <= paused_due
    assert cal.business_time(pause[1], paused_due) == cal.business_time(pause_start, due)


@fast
@given(calendars, instants, instants, amounts, amounts)
def test_add_is_monotonic_in_start_and_amount(
    cal: BusinessCalendar, s1: datetime, s2: datetime, a1: timedelta, a2: timedelta
) -> None:
    s1, s2 = sorted((s1, s2))
    a1, a2 = sorted((a1, a2))
    assert cal.add_business_seconds(s1, a1) <= cal.add_business_seconds(s2, a1)
    assert cal.add_business_seconds(s1, a1) <= cal.add_business_seconds(s1, a2)


@fast
@given(calendars, instants, st.timedeltas(timedelta(0), timedelta(days=30)), fractions)
def test_business_time_is_additive_and_agrees_with_is_open(
    cal: BusinessCalendar, start: datetime, span: timedelta, frac: float
) -> None:
    end = start + span
    mid = start + span * frac
    whole = cal.business_time(start, end)
    assert cal.business_time(start, mid) + cal.business_time(mid, end) == whole
    assert whole == sum((b - a for a, b in cal.open_intervals(start, end)), timedelta(0))
    assert cal.is_open(mid) == (cal.business_time(mid, mid + US) == US)


@fast
@given(instants, amounts)
def test_always_equals_wall_clock_addition(start: datetime, amount: timedelta) -> None:
    always = BusinessCalendar.always()
    assert always.add_business_seconds(start, amount) == start + amount
    local = start.astimezone(ZAG)  # the answer does not depend on the caller's zone
    assert always.add_business_seconds(local, amount) == start + amount
    assert always.business_time(local, start + amount) == amount


@fast
@given(calendars, instants, positive, fractions)
def test_warn_at_is_the_ratio_of_business_time(
    cal: BusinessCalendar, start: datetime, target: timedelta, ratio: float
) -> None:
    due = compute_due(start, target, cal)
    assert due is not None
    warn = warn_at(start, due, cal, ratio)
    assert start <= warn <= due
    assert abs(cal.business_time(start, warn) - target * ratio) <= US


# ---- pause semantics, explicit -----------------------------------------------------------


def zag(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZAG)


def test_on_hold_for_two_days_does_not_breach_on_resume() -> None:
    opened = zag(2026, 1, 19, 9)  # Monday
    assert compute_due(opened, timedelta(hours=7), OFFICE) == zag(2026, 1, 19, 17)
    hold = (zag(2026, 1, 19, 13), zag(2026, 1, 21, 13))  # Mon 13:00 .. Wed 13:00
    # 3h used before the hold; 4h remain after resuming Wednesday 13:00.
    assert compute_due(opened, timedelta(hours=7), OFFICE, [hold]) == zag(2026, 1, 21, 17)
    # Still on hold: the clock is stopped, there is no due time until resume.
    assert compute_due(opened, timedelta(hours=7), OFFICE, [(hold[0], None)]) is None
    # A pause that starts after the due time changes nothing.
    late = [(zag(2026, 1, 19, 17), None)]
    assert compute_due(opened, timedelta(hours=7), OFFICE, late) == zag(2026, 1, 19, 17)
    assert compute_due(opened, None, OFFICE) is None
    # Paused time outside hours costs nothing: the weekend is not business time anyway.
    weekend = [(zag(2026, 1, 17, 15), zag(2026, 1, 19, 8))]
    assert compute_due(zag(2026, 1, 16, 16), timedelta(hours=2), OFFICE, weekend) == zag(
        2026, 1, 17, 11
    )


def test_warn_and_escalation_instants() -> None:
    opened, due = zag(2026, 1, 19, 9), zag(2026, 1, 19, 17)
    assert warn_at(opened, due, OFFICE, 0.5) == zag(2026, 1, 19, 13, 30)  # 3.5h of 7h, lunch
    step = EscalationStep(timedelta(minutes=30), "raise_priority")
    assert escalation_at(due, step, OFFICE) == zag(2026, 1, 20, 9, 30)
    assert escalation_at(due, EscalationStep(timedelta(0), "notify_leads"), OFFICE) == due


def test_target_state() -> None:
    due, warn = zag(2026, 1, 19, 17), zag(2026, 1, 19, 15)
    assert target_state(due, now=zag(2026, 1, 19, 10), warn=warn) is TargetState.OPEN
    assert target_state(due, now=zag(2026, 1, 19, 16), warn=warn) is TargetState.AT_RISK
    assert target_state(due, now=due) is TargetState.BREACHED
    assert target_state(due, now=due, met_at=zag(2026, 1, 19, 16)) is TargetState.MET
    assert target_state(due, now=due, met_at=zag(2026, 1, 19, 18)) is TargetState.BREACHED
    assert target_state(None, now=due) is TargetState.OPEN  # clock stopped or no target


# ---- policies ----------------------------------------------------------------------------

URGENT = {
    "name": "urgent",
    "match": {"priority": ["urgent"]},
    "first_response": "1h",
    "next_response": "4h",
    "resolution": "8h",
    "calendar": "office",
    "warn_at": 0.8,
    "escalate": [
        {"after": "30m", "action": "raise_priority"},
        {"after": "0m", "action": "notify_leads"},
    ],
}


def test_policy_from_dict() -> None:
    p = SlaPolicy.from_dict(URGENT)
    assert p.targets == SlaTargets(timedelta(hours=1), timedelta(hours=4), timedelta(hours=8))
    assert p.calendar == "office" and p.warn_ratio == 0.8
    assert p.priorities == frozenset({"urgent"}) and p.queues is None
    assert [s.action for s in p.escalation] == ["notify_leads", "raise_priority"]  # by after
    default = SlaPolicy.from_dict({"name": "default", "resolution": "2d"})
    assert default.calendar == "always" and default.targets.first_response is None
    assert default.targets.resolution == timedelta(days=2)


def test_select_policy_first_match_wins() -> None:
    policies = [
        SlaPolicy.from_dict(URGENT),
        SlaPolicy.from_dict(
            {
                "name": "vip",
                "match": {"tier": "gold", "domain": ["example.com"]},
                "resolution": "1d",
            }
        ),
        SlaPolicy.from_dict(
            {"name": "email", "match": {"platform": "email", "queue": ["billing", "Sales"]}}
        ),
        SlaPolicy.from_dict({"name": "default", "resolution": "3d"}),
    ]

    def pick(**kw: str | None) -> str | None:
        p = select_policy(policies, **kw)
        return p.name if p else None

    assert pick(priority="URGENT", tier="gold", domain="example.com") == "urgent"
    assert pick(priority="high", tier="gold", domain="support.example.com") == "vip"
    assert pick(priority="high", tier="gold", domain="ann@Example.com") == "vip"
    assert pick(priority="high", tier="gold", domain="badexample.com") == "default"
    assert pick(tier="gold") == "default"  # domain required but unknown
    assert pick(channel="email", queue="sales") == "email"
    assert pick(channel="slack", queue="sales") == "default"
    assert select_policy(policies[:1], priority="low") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1w", timedelta(weeks=1)),
        ("0m", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "4", "h", "4 hours", "30m1h", "-1h", "1.5h", 4])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first_response": "soon"}, "policy 'urgent': bad duration 'soon'"),
        ({"warn_at": 1.5}, "warn ratio must be in"),
        ({"warn_at": "80%"}, "'warn_at' must be a number"),
        ({"escalate": [{"after": "1h", "action": "panic"}]}, "unknown escalation action 'panic'"),
        ({"escalate": [{"after": "1h", "action": "reassign_queue"}]}, "needs a target queue"),
        ({"escalate": [{"action": "notify_leads"}]}, "needs 'after' and 'action'"),
        ({"escalate": "notify_leads"}, "must be a list"),
        ({"match": {"colour": "red"}}, "unknown match key 'colour'"),
        ({"match": {"priority": 1}}, "string or a list of strings"),
        ({"deadline": "1h"}, "unknown key"),
    ],
)
def test_bad_policies_say_what_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaPolicy.from_dict(URGENT | change)
