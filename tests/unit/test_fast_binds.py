"""The hot-path binds write exactly what SQLAlchemy's own would (timestamps, JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite.base import DATETIME

from storage.engine import dump_json
from storage.tables import _SqliteDateTime

DIALECT = sqlite.dialect()
FAST = _SqliteDateTime(timezone=True).bind_processor(DIALECT)
STOCK = DATETIME().bind_processor(DIALECT)


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from([None, UTC, timezone(timedelta(hours=2))]),
)
def test_sqlite_timestamp_text_is_unchanged(value: datetime, tz: timezone | None) -> None:
    value = value.replace(tzinfo=tz)
    assert FAST(value) == STOCK(value)


def test_sqlite_timestamp_keeps_none_and_dates() -> None:
    assert FAST(None) is None
    assert FAST(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "2026-03-29 01:00:00.000000"


def test_json_reads_back_like_the_standard_library() -> None:
    value = {"tags": ["vip", "čšž"], 3: None, "n": 1.5, "nested": {"ok": True}}
    assert json.loads(dump_json(value)) == json.loads(json.dumps(value))
    assert '"čšž"' in dump_json(value)  # raw UTF-8, so `tags LIKE '%"čšž"%'` finds it
