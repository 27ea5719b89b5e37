"""Business calendar: explicit dates across DST, holidays, split hours and bad settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import BusinessCalendar, NoBusinessTimeError

ZAG = ZoneInfo("Europe/Zagreb")
NY = ZoneInfo("America/New_York")
H = 3600


def zag(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZAG)


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


def cal(tz: str, hours: dict, **extra: object) -> BusinessCalendar:
    return BusinessCalendar.from_dict({"tz": tz, "hours": hours, **extra}, name="t")


OFFICE = cal("Europe/Zagreb", {"mon-fri": ["09:00-17:00"]})
LUNCH = cal("Europe/Zagreb", {"mon-fri": ["09:00-12:00", "13:00-17:00"]})
ZAG_SUNDAY = cal("Europe/Zagreb", {"sun": ["00:00-24:00"]})
NY_SUNDAY = cal("America/New_York", {"sun": ["00:00-24:00"]})
NY_OFFICE = cal("America/New_York", {"mon-fri": ["09:00-17:00"]})


def day_hours(c: BusinessCalendar, local_day: datetime) -> float:
    return c.business_seconds(local_day, local_day + timedelta(days=1, hours=2)) / H


# ---- DST ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "day", "hours"),
    [
        (ZAG_SUNDAY, zag(2026, 3, 29), 23),  # CET -> CEST
        (ZAG_SUNDAY, zag(2026, 10, 25), 25),  # CEST -> CET, 02:00-03:00 repeated
        (ZAG_SUNDAY, zag(2026, 3, 22), 24),
        (NY_SUNDAY, ny(2026, 3, 8), 23),
        (NY_SUNDAY, ny(2026, 11, 1), 25),
        (NY_SUNDAY, ny(2026, 11, 8), 24),
    ],
)
def test_full_day_calendar_sees_short_and_long_dst_days(
    c: BusinessCalendar, day: datetime, hours: int
) -> None:
    assert day_hours(c, day) == hours
    (a, b), *rest = list(c.open_intervals(day - timedelta(days=1), day + timedelta(days=2)))
    assert not rest
    assert (b - a) == timedelta(hours=hours)
    assert a.tzinfo is UTC and a == day.astimezone(UTC)


def test_nine_to_five_is_unaffected_by_dst() -> None:
    # Friday before / Monday after the Zagreb spring shift: 8h each, opening at local 09:00.
    assert OFFICE.business_seconds(zag(2026, 3, 27), zag(2026, 3, 28)) == 8 * H
    assert OFFICE.business_seconds(zag(2026, 3, 30), zag(2026, 3, 31)) == 8 * H
    assert OFFICE.next_open(zag(2026, 3, 28, 12)) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # Friday 16:00 EST + 2h over the NY spring shift = Monday 10:00 EDT (14:00 UTC).
    due = NY_OFFICE.add_business_seconds(ny(2026, 3, 6, 16), 2 * H)
    assert due == ny(2026, 3, 9, 10) == datetime(2026, 3, 9, 14, tzinfo=UTC)
    # and over the autumn shift: Friday 16:00 EDT + 2h = Monday 10:00 EST (15:00 UTC).
    due = NY_OFFICE.add_business_seconds(ny(2026, 10, 30, 16), 2 * H)
    assert due == datetime(2026, 11, 2, 15, tzinfo=UTC)


def test_gap_and_repeated_hour_neither_crash_nor_double_count() -> None:
    in_gap = cal("Europe/Zagreb", {"sun": ["02:00-03:00"]})
    assert in_gap.business_seconds(zag(2026, 3, 29), zag(2026, 3, 30)) == 0
    assert not in_gap.is_open(datetime(2026, 3, 29, 1, 0, 30, tzinfo=UTC))
    # An interval starting inside the gap starts at the transition (03:00 CEST).
    half = cal("Europe/Zagreb", {"sun": ["02:30-04:00"]})
    assert list(half.open_intervals(zag(2026, 3, 29), zag(2026, 3, 30))) == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC))
    ]
    split = cal("Europe/Zagreb", {"sun": ["01:00-02:30", "02:30-04:00"]})
    whole = cal("Europe/Zagreb", {"sun": ["01:00-04:00"]})
    for day, hours in ((zag(2026, 3, 29), 2), (zag(2026, 10, 25), 4), (zag(2026, 11, 1), 3)):
        assert split.business_seconds(day, day + timedelta(days=1)) == hours * H
        assert whole.business_seconds(day, day + timedelta(days=1)) == hours * H
    # The repeated hour is real time: an office open 02:00-03:00 that night is open 2h.
    assert (
        cal("Europe/Zagreb", {"sun": ["02:00-03:00"]}).business_seconds(
            zag(2026, 10, 25), zag(2026, 10, 26)
        )
        == 2 * H
    )
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, second occurrence
    assert whole.is_open(second_0230)


# ---- holidays ----------------------------------------------------------------------------


def test_croatian_public_holiday_is_skipped() -> None:
    hr = cal("Europe/Zagreb", {"mon-fri": ["09:00-17:00"], "sat": ["10:00-14:00"]}, country="HR")
    assert not hr.is_open(zag(2026, 6, 22, 10))  # Anti-Fascist Struggle Day, a Monday
    assert not hr.is_open(zag(2026, 5, 30, 11))  # Statehood Day, a Saturday
    assert hr.is_open(zag(2026, 5, 23, 11))  # an ordinary Saturday
    # Friday 19 June 16:00 + 2h: Sat 20 June 10:00-11:00 (1h), Mon 22 is a holiday.
    assert hr.add_business_seconds(zag(2026, 6, 19, 16), 2 * H) == zag(2026, 6, 20, 11)
    assert hr.add_business_seconds(zag(2026, 6, 19, 16), 6 * H) == zag(2026, 6, 23, 10)
    assert OFFICE.is_open(zag(2026, 6, 22, 10))  # no country: not a holiday


def test_fixed_holiday_is_skipped() -> None:
    xmas = cal("Europe/Zagreb", {"mon-fri": ["09:00-17:00"]}, holidays=["2026-12-24"])
    assert xmas.holidays == frozenset({date(2026, 12, 24)})
    assert not xmas.is_open(zag(2026, 12, 24, 10))
    assert xmas.add_business_seconds(zag(2026, 12, 23, 16), 2 * H) == zag(2026, 12, 25, 10)
    assert xmas.business_seconds(zag(2026, 12, 21), zag(2026, 12, 28)) == 4 * 8 * H


def test_toml_dates_are_accepted() -> None:
    c = cal("UTC", {"daily": "09:00-17:00"}, holidays=[date(2026, 1, 1)])
    assert not c.is_open(datetime(2026, 1, 1, 10, tzinfo=UTC))


# ---- ordinary arithmetic -----------------------------------------------------------------


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    assert OFFICE.add_business_seconds(zag(2026, 1, 16, 16), 2 * H) == zag(2026, 1, 19, 10)
    assert OFFICE.business_seconds(zag(2026, 1, 16, 16), zag(2026, 1, 19, 10)) == 2 * H


def test_lunch_break_splits_the_day() -> None:
    day = zag(2026, 1, 14)
    ivs = list(LUNCH.open_intervals(day, day + timedelta(days=1)))
    assert [(a.astimezone(ZAG).hour, b.astimezone(ZAG).hour) for a, b in ivs] == [
        (9, 12),
        (13, 17),
    ]
    assert not LUNCH.is_open(zag(2026, 1, 14, 12, 30))
    assert LUNCH.is_open(zag(2026, 1, 14, 13))
    assert not LUNCH.is_open(zag(2026, 1, 14, 17))  # half-open
    assert LUNCH.add_business_seconds(zag(2026, 1, 14, 11), 2 * H) == zag(2026, 1, 14, 14)
    assert LUNCH.add_business_seconds(zag(2026, 1, 14, 11), H) == zag(2026, 1, 14, 12)
    assert LUNCH.next_open(zag(2026, 1, 14, 12, 30)) == zag(2026, 1, 14, 13)


def test_start_outside_hours_counts_from_next_open() -> None:
    assert OFFICE.add_business_seconds(zag(2026, 1, 17, 12), H) == zag(2026, 1, 19, 10)  # Sat
    assert OFFICE.add_business_seconds(zag(2026, 1, 19, 7), 1800) == zag(2026, 1, 19, 9, 30)
    assert OFFICE.add_business_seconds(zag(2026, 1, 17, 12), 0) == zag(2026, 1, 17, 12)
    assert OFFICE.next_open(zag(2026, 1, 19, 10)) == zag(2026, 1, 19, 10)
    assert OFFICE.business_seconds(zag(2026, 1, 17), zag(2026, 1, 18)) == 0


def test_interval_ending_at_midnight_joins_the_next_day() -> None:
    night = cal("Europe/Zagreb", {"sat": ["20:00-24:00"], "sun": ["00:00-02:00"]})
    assert night.hours[5] == ((time(20), time(0)),)
    assert night.add_business_seconds(zag(2026, 1, 17, 23), 2 * H) == zag(2026, 1, 18, 1)
    assert list(night.open_intervals(zag(2026, 1, 17), zag(2026, 1, 19))) == [
        (zag(2026, 1, 17, 20), zag(2026, 1, 18, 2))
    ]
    assert night.is_open(zag(2026, 1, 17, 23, 59)) and night.is_open(zag(2026, 1, 18))


def test_pauses_do_not_count_and_may_overlap_or_stay_open() -> None:
    start, end = zag(2026, 1, 19, 9), zag(2026, 1, 19, 17)
    paused = [
        (zag(2026, 1, 19, 10), zag(2026, 1, 19, 12)),
        (zag(2026, 1, 19, 11), zag(2026, 1, 19, 13)),
    ]
    assert OFFICE.business_seconds(start, end, paused) == 5 * H
    assert OFFICE.business_seconds(start, end, [(zag(2026, 1, 19, 15), None)]) == 6 * H
    due = OFFICE.add_business_seconds(start, 2 * H, paused)
    assert due == zag(2026, 1, 19, 14)
    with pytest.raises(NoBusinessTimeError, match="paused indefinitely"):
        OFFICE.add_business_seconds(start, 2 * H, [(zag(2026, 1, 19, 10), None)])


def test_always_is_wall_clock_and_fast() -> None:
    always = BusinessCalendar.always()
    t = zag(2026, 3, 29, 1)
    # Elapsed time, not Zagreb wall time (which would be off by the DST hour).
    expected = t.astimezone(UTC) + timedelta(days=800)
    assert always.add_business_seconds(t, timedelta(days=800)) == expected
    assert expected != t + timedelta(days=800)
    assert always.business_seconds(t, zag(2026, 3, 29, 6)) == 4 * H  # 02:00-03:00 skipped
    assert always.is_open(t) and always.next_open(t) == t


def test_long_targets_loop_by_day_and_give_up_after_the_horizon() -> None:
    # 250 business days of 8h ~ one year; must be quick and land on a business instant.
    due = LUNCH.add_business_seconds(zag(2026, 1, 5, 9), timedelta(hours=7 * 250))
    assert due == zag(2026, 12, 18, 17)  # 2026-01-05 .. 2026-12-18 inclusive = 250 weekdays
    with pytest.raises(NoBusinessTimeError):
        OFFICE.add_business_seconds(zag(2026, 1, 5), timedelta(days=3650))
    closed = BusinessCalendar(name="closed")
    with pytest.raises(NoBusinessTimeError):
        closed.next_open(zag(2026, 1, 5))


def test_naive_datetimes_and_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.is_open(datetime(2026, 1, 5, 10))
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_business_seconds(zag(2026, 1, 5), -1)


# ---- construction ------------------------------------------------------------------------


def test_from_dict_shapes() -> None:
    c = BusinessCalendar.from_dict(
        {
            "name": "office",
            "tz": "Europe/Zagreb",
            "hours": {"Mon-Wed, fri": "09:00-17:00", "sat-sun": []},
        }
    )
    assert c.name == "office" and sorted(c.hours) == [0, 1, 2, 4]
    wrap = cal("UTC", {"fri-mon": ["10:00-11:00"]})
    assert sorted(wrap.hours) == [0, 4, 5, 6]
    assert c == BusinessCalendar(
        name="office",
        tz="Europe/Zagreb",
        hours={d: ((time(9), time(17)),) for d in (0, 1, 2, 4)},
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tz": "Mars/Base", "hours": {}}, "unknown time zone"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "bad day"),
        ({"hours": {"mon": ["9-17"]}}, "bad time"),
        ({"hours": {"mon": ["09:00 to 17:00"]}}, "HH:MM-HH:MM"),
        ({"hours": {"mon": ["25:00-26:00"]}}, "bad time"),
        ({"hours": {"mon": ["24:00-24:00"]}}, "bad time"),
        ({"hours": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
        ({"hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}, "overlap"),
        ({"hours": {"mon-fri": ["09:00-17:00"], "fri": ["10:00-11:00"]}}, "fri is given twice"),
        ({"hours": {"mon": 9}}, "must be a list"),
        ({"hours": ["mon"]}, "must be a table"),
        ({}, "hours.*required"),
        ({"hours": {}, "holidays": ["25.12.2026"]}, "bad holiday"),
        ({"hours": {}, "holidays": "2026-12-25"}, "must be a list"),
        ({"hours": {}, "country": "XX"}, "XX not available"),
        ({"hours": {}, "country": "US", "subdivision": "ZZ"}, "subdivision ZZ"),
        ({"hours": {}, "subdivision": "ZG"}, "without country"),
        ({"hours": {}, "timezone": "UTC"}, "unknown key"),
    ],
)
def test_bad_settings_say_what_is_wrong(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict(data, name="bad")
