"""Report text fits chat limits; the chart is a real PNG of chat size."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from bot.formatting import split_text
from bot.reports.chart import render_chart
from bot.reports.figures import (
    AgentRow,
    Csat,
    Day,
    GroupRow,
    Pct,
    Report,
    Scope,
    Side,
    Sla,
)
from bot.reports.periods import parse_period
from bot.reports.render import SECTION_LIMIT, duration, render_text, sections

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


def side(n: int) -> Side:
    return Side(
        created=10 * n, resolved=8 * n, closed=7 * n, reopened=n, backlog=3 * n,
        escalations=n, messages=45 * n, replies=20 * n, frt=Pct(5, 600 * n, 7200 * n),
        frt_business=Pct(5, 300 * n, 3600 * n), rt=Pct(4, 86400, 4 * 86400),
        rt_business=Pct(4, 40000, 90000), sla={"first_response": Sla(8, 1, 1)},
        channels={"slack": 6 * n, "email": 4 * n}, tags={f"tag-{i}": i for i in range(1, 9)},
        csat=Csat(10, 4, (0, 1, 0, 1, 2)),
    )  # fmt: skip


def big_report(period: str = "30d", csat: bool = True) -> Report:
    p = parse_period(period, NOW, "Europe/Zagreb")
    r = Report(p, Scope(), side(2), side(1), by="agent", csat_available=csat)
    r.backlog_ages = (1, 2, 3, 4, 5)
    r.agents = [
        AgentRow(f"agent-with-a-long-name-{i:03d}", i, 3 * i, Pct(i, 3600 * i, 7200 * i))
        for i in range(120)
    ]
    r.groups = [GroupRow(f"group-{i:03d}-long-name", side(i % 5 + 1), side(1)) for i in range(200)]
    r.days = [Day(b.label, i % 7, (i * 3) % 5, Pct(3, 1800 + 60 * i, 7200 + 600 * i))
              for i, b in enumerate(p.buckets)]  # fmt: skip
    return r


def test_every_section_fits_a_discord_message_and_a_slack_section() -> None:
    parts = sections(big_report())
    assert len(parts) >= 7
    assert all(0 < len(part) <= SECTION_LIMIT for part in parts)
    text = render_text(big_report())
    chunks = split_text(text, 2000)
    assert all(len(c) <= 2000 for c in chunks)
    assert all(len(c) <= 3000 for c in split_text(text, 2900))
    # tables are cut to fit rather than split mid-table
    assert all(c.count("```") % 2 == 0 for c in chunks)
    assert "…and" in text  # the breakdown says how many rows it left out


def test_text_names_period_scope_and_changes() -> None:
    text = render_text(big_report())
    assert "30d (2026-02-10 – 2026-03-11, until 13:00, Europe/Zagreb)" in text
    assert "created 20 (+10, +100%)" in text
    assert "backlog 6 (+3, +100%)" in text
    assert "< 1 day 1 · 1–3 days 2 · 3–7 days 3 · 7–30 days 4 · ≥ 30 days 5" in text
    assert "first response, wall: median 20m · p90 4h 00m (n=5; median +10m)" in text
    assert "first response: met 80% · breached 10% · open 10% of 10 (met +0 pts)" in text
    assert "slack 12 = 60% (+6, +100%)" in text
    assert "average 4.00 (±0.0) of 4 ratings" in text and "response rate 40% of 10 surveys" in text
    assert "messages per ticket 4.5 (±0)" in text


def test_no_ratings_yet() -> None:
    assert "Satisfaction: no ratings yet" in render_text(big_report(csat=False))


def test_my_report_has_no_agent_table() -> None:
    r = big_report()
    r.scope = Scope(assignee_id=3, agent_name="bob")
    r.by = None
    text = render_text(r)
    assert "agent bob" in text
    assert "\nAgents\n" not in text


def test_durations() -> None:
    assert [duration(s) for s in (None, 45, 60, 3599, 3600, 3660, 86399, 86400, 200000)] == [
        "–", "45s", "1m", "59m", "1h 00m", "1h 01m", "23h 59m", "1d 0h", "2d 7h",
    ]  # fmt: skip


def test_chart_is_a_chat_sized_png() -> None:
    png = render_chart(big_report())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (900, 600)
    assert len(png) > 20_000  # bars, lines, labels: not a blank canvas
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50


def test_chart_of_an_empty_or_long_period() -> None:
    empty = big_report("today")
    empty.days = [Day(d.label, 0, 0, Pct()) for d in empty.days]
    assert Image.open(io.BytesIO(render_chart(empty))).size == (900, 600)
    long = big_report("2025-01-01..2025-12-31")
    assert len(long.days) == 53
    assert len(render_chart(long)) > 20_000
