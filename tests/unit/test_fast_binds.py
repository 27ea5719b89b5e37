"""The hot-path binds write exactly what SQLAlchemy's own would (timestamps, JSON); SQLite
timestamps read back as the UTC instants they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite.base import DATETIME

from storage.engine import dump_json
from storage.sqlite_datetime import SqliteDateTime

DIALECT = sqlite.dialect()
FAST = SqliteDateTime(timezone=True).bind_processor(DIALECT)
STOCK = DATETIME().bind_processor(DIALECT)
FAST_READ = SqliteDateTime(timezone=True).result_processor(DIALECT, None)
STOCK_READ = DATETIME().result_processor(DIALECT, None)


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from([None, UTC, timezone(timedelta(hours=2))]),
)
def test_sqlite_timestamp_text_is_unchanged(value: datetime, tz: timezone | None) -> None:
    value = value.replace(tzinfo=tz)
    assert FAST(value) == STOCK(value)


@given(
    st.lists(
        st.sampled_from(
            [datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 11, 0, tzinfo=UTC)]
            + [datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2)))] * 2
        ),
        max_size=8,
    )
)
def test_a_repeated_timestamp_binds_to_its_own_text(values: list[datetime]) -> None:
    """The bind remembers the last value it wrote (by identity): equal instants in other zones,
    or the same object bound again after others, still get their own text."""
    bind = SqliteDateTime(timezone=True).bind_processor(DIALECT)
    assert [bind(v) for v in values] == [STOCK(v) for v in values]


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_sqlite_timestamps_read_back_as_utc(value: datetime) -> None:
    text = FAST(value)
    assert FAST_READ(text) == STOCK_READ(text).replace(tzinfo=UTC) == value.replace(tzinfo=UTC)
    assert FAST_READ(text).tzinfo is UTC


def test_sqlite_timestamps_read_back_in_any_stored_shape() -> None:
    assert FAST_READ(None) is None
    assert FAST_READ("2026-03-29 01:00:00") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert FAST_READ("2026-03-29") == datetime(2026, 3, 29, tzinfo=UTC)
    with_offset = FAST_READ("2026-03-29 01:00:00+02:00")  # as the stock reader keeps it
    assert with_offset == STOCK_READ("2026-03-29 01:00:00+02:00")
    assert with_offset.utcoffset() == timedelta(hours=2)


def test_sqlite_timestamp_keeps_none_and_dates() -> None:
    assert FAST(None) is None
    assert FAST(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "2026-03-29 01:00:00.000000"


def test_json_reads_back_like_the_standard_library() -> None:
    value = {"tags": ["vip", "čšž"], 3: None, "n": 1.5, "nested": {"ok": True}}
    assert json.loads(dump_json(value)) == json.loads(json.dumps(value))
    assert '"čšž"' in dump_json(value)  # raw UTF-8, so `tags LIKE '%"čšž"%'` finds it
