"""Pure figure definitions: percentile ranks as PostgreSQL computes them, buckets, changes."""

from __future__ import annotations

import pytest

from bot.reports.figures import (
    AGE_BUCKETS,
    DAY,
    Csat,
    Sla,
    age_bucket,
    change,
    percentile_disc,
    rank,
)
from bot.reports.request import ReportRequest, RequestError, parse_request


@pytest.mark.parametrize(
    ("p", "n", "k"),
    [(0.5, 1, 1), (0.5, 2, 1), (0.5, 7, 4), (0.5, 10, 5), (0.9, 7, 7), (0.9, 10, 9),
     (0.9, 11, 10), (0.9, 100, 90), (0.9, 101, 91), (0.5, 0, 1)],
)  # fmt: skip
def test_rank_is_ceil_of_p_times_n(p: float, n: int, k: int) -> None:
    assert rank(p, n) == k


def test_percentile_disc_picks_an_existing_value() -> None:
    values = [432000, 300, 3600, 600, 1800, 7200, 5400]
    assert percentile_disc(values, 0.5) == 3600
    assert percentile_disc(values, 0.9) == 432000
    assert percentile_disc([10, 20], 0.5) == 10  # the lower middle, never an average
    assert percentile_disc([], 0.5) is None


def test_age_buckets_have_exclusive_upper_bounds() -> None:
    assert [age_bucket(s) for s in (0, DAY - 1, DAY, 3 * DAY, 7 * DAY - 1, 30 * DAY)] == [
        0, 0, 1, 2, 2, 4,
    ]  # fmt: skip
    assert len(AGE_BUCKETS) == 5


def test_change_against_the_previous_period() -> None:
    assert change(12, 10) == "+2, +20%"
    assert change(8, 10) == "−2, −20%"
    assert change(5, 5) == "±0"
    assert change(3, 0) == "+3, new"
    assert change(2.5, 2.0) == "+0.5, +25%"
    assert change(None, 3) == "–"


def test_sla_shares_are_of_tickets_with_the_target() -> None:
    s = Sla(met=4, breached=1, open=1)
    assert s.total == 6
    assert s.share(s.met) == pytest.approx(66.666, rel=1e-3)
    assert Sla().share(0) is None
    assert s + Sla(1, 1, 0) == Sla(5, 2, 1)


def test_csat_average_and_response_rate() -> None:
    c = Csat(surveys=3, answered=2, scores=(0, 0, 1, 0, 1))
    assert c.count == 2
    assert c.average == 4.0
    assert c.response_rate == pytest.approx(66.666, rel=1e-3)
    assert Csat().average is None and Csat().response_rate is None


def test_request_parsing() -> None:
    assert parse_request("") == ReportRequest()
    assert parse_request("30d by agent queue:billing format:csv") == ReportRequest(
        "30d", "agent", "billing", "csv", False
    )
    assert parse_request("me last-month by:tags", "7d") == ReportRequest(
        "last-month", "tag", None, "chart", True
    )
    assert parse_request("BY Channel 2026-03-01..2026-03-07").by == "channel"
    assert parse_request(None, "30d").period == "30d"


@pytest.mark.parametrize(
    ("text", "message"),
    [("by colour", "Group by"), ("format:pdf", "format must"), ("30d 7d", "understand '7d'"),
     ("by", "Group by"), ("weekly", "understand")],
)  # fmt: skip
def test_bad_requests(text: str, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        parse_request(text)
