"""Which planned SLA alarms need a row: new ones and moved ones, never fired or unchanged ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.alarms_repo import planned

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_a_new_plan_needs_a_row_per_alarm() -> None:
    plan = {"first_response:warn": T0, "first_response:breach": T0 + H}
    assert sorted(planned({}, plan)) == [
        (T0, "first_response:warn"),
        (T0 + H, "first_response:breach"),
    ]


def test_an_unchanged_plan_needs_nothing() -> None:
    plan = {"first_response:breach": T0}
    assert planned(plan, dict(plan)) == []


def test_only_moved_and_added_alarms_need_rows() -> None:
    before = {"first_response:warn": T0, "first_response:breach": T0 + H}
    after = {
        "first_response:warn": T0,  # fired or not, it is where it was: its row (if any) stands
        "first_response:breach": T0 + 2 * H,  # moved: the old row is stale, a new one is due
        "first_response:esc:0": T0 + 3 * H,  # the ladder after a breach
    }
    assert sorted(planned(before, after)) == [
        (T0 + 2 * H, "first_response:breach"),
        (T0 + 3 * H, "first_response:esc:0"),
    ]


def test_an_alarm_marked_null_by_the_old_schema_needs_no_row() -> None:
    assert planned({}, {"first_response:breach": None}) == []
