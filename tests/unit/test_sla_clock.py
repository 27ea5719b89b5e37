"""A ticket's SLA clock (pause, resume, alarms) and the SLA settings, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import sla_clock as clock
from bot.domain.calendar import BusinessCalendar
from bot.domain.model import Ticket
from bot.domain.sla import SlaPolicy
from bot.domain.status import Status
from bot.services.sla_config import SlaConfig, optional_duration, sla_config_from

OFFICE = BusinessCalendar.from_dict(
    {"tz": "Europe/Zagreb", "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]}, "country": "HR"},
    name="office",
)
POLICY = SlaPolicy.from_dict(
    {
        "name": "p",
        "first_response": "2h",
        "resolution": "1d",
        "calendar": "office",
        "escalate": [{"after": "30m", "action": "notify_leads"}],
    }
)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Zagreb
H = timedelta(hours=1)


def ticket(at: datetime = START) -> Ticket:
    return Ticket(1, "T-1", "s", 1, "console:a:", "console", at, status=Status.OPEN)


def test_start_sets_due_warning_and_planned_alarms() -> None:
    t = ticket()
    clock.start_target(t, "first_response", POLICY, OFFICE, START)
    assert t.first_response_due == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert t.warn_at == datetime(2026, 3, 2, 9, 36, tzinfo=UTC)  # 80% of 2h
    assert t.sla_timers == {
        "first_response:warn": t.warn_at,
        "first_response:breach": t.first_response_due,
    }
    assert t.sla_due_at == t.first_response_due
    clock.clear_target(t, "first_response")
    assert t.first_response_due is None and t.warn_at is None and not t.sla_timers


def test_an_alarm_counts_as_fired_once_its_time_passes_and_escalation_follows_the_breach() -> None:
    t = ticket()
    clock.start_target(t, "first_response", POLICY, OFFICE, START)
    warn, breach = t.sla_timers["first_response:warn"], t.sla_timers["first_response:breach"]
    assert warn is not None and breach is not None
    assert clock.state(t, warn - timedelta(seconds=1)) is None
    assert clock.state(t, warn) == "at_risk"
    assert clock.state(t, breach) == "breached"
    # a pending row fires only while the ticket still plans that alarm at that time
    assert clock.fires(t, "first_response:breach", breach)
    assert not clock.fires(t, "first_response:breach", breach + timedelta(minutes=1))
    assert not clock.fires(t, "first_response:esc:0", breach)
    ladder = clock.schedule_escalation(t, "first_response", POLICY, OFFICE, breach)
    step = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert ladder == [(step, "first_response:esc:0")]
    assert t.sla_timers["first_response:esc:0"] == step and clock.fires(t, *ladder[0][::-1])
    clock.clear_target(t, "first_response")  # met (late): every row left behind is stale
    assert not clock.fires(t, "first_response:esc:0", step)
    assert clock.state(t, step) is None


def test_an_alarm_marked_null_by_the_old_schema_stays_fired() -> None:
    t = ticket()
    clock.start_target(t, "first_response", POLICY, OFFICE, START)
    t.sla_timers["first_response:breach"] = None  # before migration 0013
    assert clock.state(t, START) == "breached"


def test_paused_ticket_fires_nothing_and_resume_shifts_by_the_paused_business_time() -> None:
    t = ticket()
    clock.start_target(t, "first_response", POLICY, OFFICE, START)
    breach = t.sla_timers["first_response:breach"]
    assert breach is not None
    clock.pause(t, START + timedelta(minutes=30))  # 09:30 local
    assert t.sla_due_at is None and t.warn_at is None
    assert not clock.fires(t, "first_response:breach", breach)
    assert clock.state(t, START + timedelta(days=5)) == "paused"
    # resume the next day at 10:00 local: the pause covered 09:30-12:00, 13:00-17:00, 09:00-10:00
    resumed = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    clock.resume(t, OFFICE, resumed)
    assert t.paused_secs == int(timedelta(hours=7, minutes=30).total_seconds())
    # 1h30m of the target was left: 10:00 + 1h30m = 11:30 local
    assert t.first_response_due == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    assert t.sla_timers["first_response:breach"] == t.first_response_due  # a new row's time
    assert not clock.fires(t, "first_response:breach", breach)  # the old row is stale
    assert clock.business_seconds(t, OFFICE, resumed) == 30 * 60


@settings(max_examples=100, deadline=None)
@given(
    pause_at=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    pause_for=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
)
def test_resume_moves_due_by_exactly_the_paused_business_time(
    pause_at: timedelta, pause_for: timedelta
) -> None:
    t = ticket()
    clock.start_target(t, "resolution", POLICY, OFFICE, START)
    due = t.resolution_due
    assert due is not None
    paused, resumed = START + pause_at, START + pause_at + pause_for
    clock.pause(t, paused)
    clock.resume(t, OFFICE, resumed)
    assert t.resolution_due is not None
    if due < paused:
        assert t.resolution_due == due  # breached before the pause: stays breached
    else:
        moved = OFFICE.business_time(due, t.resolution_due)
        assert moved == OFFICE.business_time(paused, resumed)
        assert t.resolution_due >= resumed  # resuming never breaches at once


def settings_ns(**kw: str) -> SimpleNamespace:
    base = {
        "first_response_target": "4h",
        "pending_remind_after": "2d",
        "pending_auto_resolve_after": "7d",
        "resolved_auto_close_after": "off",
        "timezone": "UTC",
    }
    return SimpleNamespace(**{**base, **kw})


def test_config_from_settings_file_with_queue_timers_and_fallback() -> None:
    data = {
        "sla": {
            "calendar": "office",
            "calendars": {"office": {"tz": "Europe/Zagreb", "hours": {"mon-fri": "09:00-17:00"}}},
            "policies": [
                {"name": "vip", "match": {"tier": "gold"}, "first_response": "30m"},
                {"name": "night", "first_response": "8h", "calendar": "always"},
            ],
            "default_policy": "night",
        },
        "queues": [{"name": "billing", "settings": {"claim_timeout": "5m", "remind_after": "0"}}],
    }
    cfg = sla_config_from(settings_ns(), data)
    assert [p.name for p in cfg.policies] == ["vip"] and cfg.fallback.name == "night"
    vip = cfg.select(priority="normal", queue="general", tier="gold", domain=None, channel=None)
    assert vip.name == "vip" and cfg.calendar_for(vip, "general").name == "office"
    other = cfg.select(priority="normal", queue="general", tier=None, domain=None, channel=None)
    assert other.name == "night" and cfg.calendar_for(other, "general").name == "always"
    billing = cfg.queue("billing")
    assert billing.claim_set and billing.claim_timeout == timedelta(minutes=5)
    assert billing.remind_after is None and billing.auto_resolve_after == timedelta(days=7)
    assert cfg.queue("general").auto_close_after is None and not cfg.queue("general").claim_set


def test_stored_overrides_replace_reorder_and_skip_invalid() -> None:
    cfg = SlaConfig(file_policies=[{"name": "a", "first_response": "1h"}, {"name": "b"}])
    cfg.apply_overrides(
        [
            ("b", 1, {"name": "b", "first_response": "2h"}),
            ("c", None, {"name": "c", "calendar": "mars"}),  # calendar gone: skipped
        ]
    )
    assert [p.name for p in cfg.policies] == ["b", "a"]
    assert cfg.named("b").targets.first_response == timedelta(hours=2)  # type: ignore[union-attr]
    assert cfg.named("c") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sla": {"calendar": "nowhere"}}, "not defined"),
        ({"sla": {"default_policy": "x"}}, "not in [[sla.policies]]"),
        ({"queues": [{"name": "q", "settings": {"remind_after": "soon"}}]}, "queue 'q'"),
        ({"sla": {"policies": [{"name": "p", "calendar": "mars"}]}}, None),
    ],
)
def test_bad_settings_say_what_is_wrong(data: dict, message: str | None) -> None:
    if message is None:  # a policy naming an unknown calendar is skipped with a warning
        assert sla_config_from(settings_ns(), data).policies == []
        return
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sla_config_from(settings_ns(), data)


def test_optional_duration() -> None:
    assert optional_duration("off") is None and optional_duration("0s") is None
    assert optional_duration("90m") == timedelta(minutes=90)


def test_example_settings_file_builds() -> None:
    import tomllib

    from tests.conftest import REPO

    data = tomllib.loads((REPO / "deskbot.example.toml").read_text())
    cfg = sla_config_from(settings_ns(), data)
    assert [p.name for p in cfg.policies] == ["urgent", "standard"]
    assert cfg.calendar_for(cfg.policies[0], "billing").name == "always"
    assert cfg.calendar_for(cfg.policies[1], "billing").name == "office"
    assert cfg.queue("billing").leads == ("lee",)


def test_sla_due_at_is_the_earliest_due_time_while_the_clock_runs() -> None:
    """The column "breaching soon" reads: the earliest target, breached ones kept, none while
    paused or once the ticket stops running."""
    t = ticket()
    clock.start_target(t, "first_response", POLICY, OFFICE, START)
    clock.start_target(t, "resolution", POLICY, OFFICE, START)
    assert t.sla_due_at == t.first_response_due == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert clock.state(t, START + 2 * H) == "breached"
    assert t.sla_due_at == t.first_response_due  # breached: still "due", now overdue
    clock.pause(t, START + timedelta(hours=3))
    assert t.sla_due_at is None
    clock.resume(t, OFFICE, START + timedelta(hours=4))
    assert t.sla_due_at == t.first_response_due
    clock.clear_target(t, "first_response")  # answered: resolution is what is due next
    assert t.sla_due_at == t.resolution_due is not None
    t.status = Status.RESOLVED
    clock.refresh(t)
    assert t.sla_due_at is None
