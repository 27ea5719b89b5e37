"""Reports on SQLite and PostgreSQL: hand-computed figures from known data (reports_fixture).

Every expected number below is worked out by hand from the rows in reports_fixture.py; the
same figures must come out of both databases (percentile_disc on PostgreSQL, window ranks on
SQLite).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, text

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.model import Role
from bot.messages import CommandInvocation, Identity
from bot.reports.csv_export import COLUMNS
from bot.reports.figures import Csat, Pct, Report, Scope, Sla
from bot.reports.periods import parse_period
from bot.reports.render import render_text
from bot.reports.request import ReportRequest
from bot.reports.service import build_report
from bot.services.ports import FakeClock
from storage import tables as tb
from tests.integration import reports_fixture as fx

POLICIES_TOML = """
[[sla.policies]]
name = "std"
first_response = "1h"
resolution = "1d"

[[sla.policies]]
name = "nores"
first_response = "1h"
"""
LEAD, BOB, CUSTOMER = (Identity("console", n, n) for n in ("lee", "bob", "cy"))


async def make_app(db_url: str, tmp_path: Path, ratings: bool = True, **kw: Any) -> App:
    toml = tmp_path / "deskbot.toml"
    toml.write_text(POLICIES_TOML)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db_url, config=toml, report_timezone=fx.TZ,
        leads="console:lee", report_dir=str(tmp_path / "reports"), **kw,
    )  # fmt: skip
    app = await build_app(settings, clock=FakeClock(fx.NOW), dispatch_concurrently=False)
    for name in ("bob", "carol"):
        await app.seed_agent(name, Role.AGENT, [f"console:{name}"])
    agents: dict[str, int] = {}
    async with app.uow() as uow:
        for name in ("bob", "carol"):
            agent = await uow.agents.by_name(name)
            assert agent is not None
            agents[name] = agent.id
    app.fixture_ids = await fx.load(app.engine, agents, ratings=ratings)  # type: ignore[attr-defined]
    app.agent_ids = agents  # type: ignore[attr-defined]
    return app


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[App]:
    a = await make_app(db_url, tmp_path)
    yield a
    await a.stop()


async def report(app: App, by: str | None = None, scope: Scope = Scope()) -> Report:
    period = parse_period(fx.PERIOD, fx.NOW, fx.TZ)

    async def run(uow: Any) -> Report:
        request = ReportRequest(period=fx.PERIOD, by=by)
        return await build_report(uow.reports, request, period, scope, fx.NOW, fx.POLICIES)

    result: Report = await app.bus.query(run)
    return result


async def test_figures_match_the_hand_computed_ones(app: App) -> None:
    r = await report(app)
    now, before = r.current, r.previous
    assert (now.created, now.resolved, now.closed, now.reopened) == (8, 6, 1, 1)
    assert (before.created, before.resolved, before.closed, before.reopened) == (4, 1, 1, 0)
    assert (now.backlog, before.backlog) == (6, 5)
    assert r.backlog_ages == (1, 0, 2, 2, 1)
    assert (now.escalations, before.escalations) == (2, 1)
    assert (now.messages_per_ticket, before.messages_per_ticket) == (2.5, 2.0)
    # first response: 300 600 1800 3600 5400 7200 432000 → median rank 4, p90 rank ceil(6.3)=7
    assert now.frt == Pct(7, 3600, 432000)
    assert now.frt_business == Pct(7, 1800, 100000)
    assert before.frt == before.frt_business == Pct(2, 600, 1200)
    # resolution: 7200 10800 86400 90000 604800 1036800 → ranks 3 and ceil(5.4)=6
    assert now.rt == Pct(6, 86400, 1036800)
    assert now.rt_business == Pct(6, 5000, 500000)
    assert before.rt == Pct(1, 3600, 3600)
    # next response: T6 met (recorded reply in time), T3 breached, T4 waiting now
    assert now.sla == {"first_response": Sla(4, 1, 1), "resolution": Sla(2, 2, 1),
                       "next_response": Sla(1, 1, 1)}  # fmt: skip
    assert before.sla == {"first_response": Sla(2, 2, 0), "resolution": Sla(1, 1, 1),
                          "next_response": Sla(0, 2, 0)}  # fmt: skip
    assert now.channels == {"slack": 4, "email": 3, "discord": 1}
    assert before.channels == {"slack": 2, "email": 1, "discord": 1}
    assert now.tags == {"billing": 2, "refund": 2, "login": 2}
    assert before.tags == {"billing": 1, "refund": 1}
    assert (now.replies, before.replies) == (9, 2)
    assert r.csat_available
    assert now.csat == Csat(surveys=3, answered=2, scores=(0, 0, 1, 0, 1))
    assert before.csat == Csat(surveys=1, answered=1, scores=(0, 0, 0, 1, 0))
    agents = [(a.name, a.handled, a.replies, a.handle.p50) for a in r.agents]
    assert agents == [("bob", 4, 5, 86400), ("carol", 2, 4, 10800)]
    # before: bob resolved T9 (1 h) and answered it; carol only answered T10
    before_agents = [
        (p.handled, p.replies, p.handle.p50) for a in r.agents if (p := a.previous) is not None
    ]
    assert before_agents == [(1, 1, 3600), (0, 1, None)]
    # local days in Zagreb: T1 (23:30Z on 03-01) is on 03-02, T5 (23:30Z on 03-04) on 03-05
    assert [d.created for d in r.days] == [2, 1, 1, 1, 1, 1, 1]
    assert [d.resolved for d in r.days] == [1, 3, 1, 0, 0, 1, 0]
    assert [(d.frt.p50, d.frt.p90) for d in r.days] == [
        (1800, 432000), (3600, 3600), (7200, 7200), (None, None), (300, 300), (None, None),
        (5400, 5400),
    ]  # fmt: skip


def rows(r: Report) -> dict[str, tuple[Any, ...]]:
    return {
        g.key: (
            g.current.created, g.previous.created, g.current.resolved, g.current.backlog,
            g.current.frt.p50, g.current.rt.p50, g.current.sla["first_response"],
        )
        for g in r.groups
    }  # fmt: skip


BREAKDOWNS: dict[str, dict[str, tuple[Any, ...]]] = {
    "agent": {
        "bob": (3, 2, 4, 1, 600, 86400, Sla(3, 0, 0)),
        "carol": (3, 1, 2, 3, 5400, 10800, Sla(1, 1, 0)),
        "unassigned": (2, 1, 0, 2, None, None, Sla(0, 0, 1)),
    },
    "queue": {
        "billing": (4, 2, 3, 1, 600, 86400, Sla(3, 0, 0)),
        "general": (4, 2, 3, 5, 5400, 604800, Sla(1, 1, 1)),
    },
    "channel": {
        "slack": (4, 2, 4, 1, 600, 86400, Sla(3, 0, 0)),
        "email": (3, 1, 2, 3, 5400, 10800, Sla(1, 1, 0)),
        "discord": (1, 1, 0, 2, None, None, Sla(0, 0, 1)),
    },
    "priority": {
        "normal": (5, 3, 5, 3, 1800, 90000, Sla(2, 1, 0)),
        "high": (1, 1, 1, 1, 600, 7200, Sla(1, 0, 0)),
        "low": (1, 0, 0, 1, None, None, Sla(0, 0, 1)),
        "urgent": (1, 0, 0, 1, 7200, None, Sla(1, 0, 0)),
    },
    "tag": {
        "billing": (2, 1, 2, 0, 600, 7200, Sla(2, 0, 0)),
        "refund": (2, 1, 2, 1, 300, 7200, Sla(2, 0, 0)),
        "login": (2, 0, 0, 2, 7200, None, Sla(1, 0, 1)),
    },
}


@pytest.mark.parametrize("by", list(BREAKDOWNS))
async def test_breakdowns(app: App, by: str) -> None:
    r = await report(app, by)
    assert rows(r) == BREAKDOWNS[by]
    assert [g.key for g in r.groups] == list(BREAKDOWNS[by])  # most tickets first
    if by == "agent":
        assert {g.key: g.current.replies for g in r.groups} == {"bob": 5, "carol": 4,
                                                              "unassigned": 0}  # fmt: skip


# the previous period per agent: created, resolved, backlog at its end, first response and
# resolution medians, replies, first-response SLA (T9 met, T10 met, T11 and T12 breached)
BEFORE_BY_AGENT = {
    "bob": (2, 1, 2, 1200, 3600, 1, Sla(1, 1, 0), Sla(0, 2, 0)),
    "carol": (1, 0, 2, 600, None, 1, Sla(1, 0, 0), Sla()),
    "unassigned": (1, 0, 1, None, None, 0, Sla(0, 1, 0), Sla()),
}


async def test_by_agent_has_the_previous_period_and_changes(app: App) -> None:
    r = await report(app, "agent")
    before = {
        g.key: (
            g.previous.created, g.previous.resolved, g.previous.backlog, g.previous.frt.p50,
            g.previous.rt.p50, g.previous.replies, g.previous.sla.get("first_response"),
            g.previous.sla.get("next_response", Sla()),
        )
        for g in r.groups
    }  # fmt: skip
    assert before == BEFORE_BY_AGENT
    carol = next(g for g in r.groups if g.key == "carol")
    assert carol.current.sla["next_response"] == Sla(0, 1, 1)  # T3 breached, T4 waiting
    bob = next(g for g in r.groups if g.key == "bob")
    assert bob.current.sla["next_response"] == Sla(1, 0, 0)  # T6: answered in time
    text = render_text(r)
    # counts with their changes: created, resolved, backlog, replies
    assert "bob               3  +1         4  +3        1  −1        5  +4" in text
    assert "carol             3  +2         2  +2        3  +1        4  +3" in text
    assert "unassigned        2  +1         0  ±0        2  +1        0  ±0" in text
    # medians and first-response SLA met with their changes (– where a period has none)
    assert "bob              10m     −10m    1d 0h  +23h 00m     100%    +50" in text
    assert "carol         1h 30m  +1h 20m   3h 00m         –      50%    −50" in text
    # the agents' productivity table: resolved, replies, median handle, each with its change
    assert "bob           4  +3        5  +4          1d 0h  +23h 00m" in text
    assert "carol         2  +2        4  +3         3h 00m         –" in text
    # T6 met, T3 breached, T4 waiting; before: T9 breached, T11 overdue
    assert "next response: met 33% · breached 33% · open 33% of 3 (met +33 pts)" in text


async def test_my_report_is_about_my_tickets(app: App) -> None:
    bob = app.agent_ids["bob"]  # type: ignore[attr-defined]
    r = await report(app, scope=Scope(assignee_id=bob, agent_name="bob"))
    assert (r.current.created, r.current.resolved, r.current.backlog) == (3, 4, 1)
    assert r.current.replies == 5  # what bob wrote, on any ticket
    assert r.current.frt == Pct(4, 600, 432000)
    assert r.agents == []


async def test_messages_per_ticket_when_ids_are_not_in_creation_order(app: App) -> None:
    # T14 (created 02-20) has a larger id than T1–T12: the id-range shortcut must notice
    period = parse_period("2026-02-20..2026-03-08", fx.NOW, fx.TZ)

    async def run(uow: Any) -> Report:
        request = ReportRequest(period=period.label)
        return await build_report(uow.reports, request, period, Scope(), fx.NOW, fx.POLICIES)

    r: Report = await app.bus.query(run)
    assert (r.current.created, r.current.messages) == (13, 30)  # T1–T12 (28) + T14 (2)


async def test_queue_filter(app: App) -> None:
    r = await report(app, scope=Scope(queue="billing"))
    assert (r.current.created, r.current.resolved, r.previous.created) == (4, 3, 2)
    assert r.current.replies == 4  # bob on T1, T2 and twice on T6


async def test_lead_runs_report_with_chart_and_csv(app: App) -> None:
    gw = app.gateway
    reply = await gw.execute(CommandInvocation("console", LEAD, f"report {fx.PERIOD} by agent"))
    assert reply.ok, reply.text
    assert "created 8 (+4, +100%)" in reply.text
    assert "first response: met 67% · breached 17% · open 17% of 6 (met +17 pts)" in reply.text
    assert all(len(s) <= 1900 for s in reply.data["sections"])
    [chart] = reply.files
    assert chart.content_type == "image/png" and chart.filename.endswith(".png")
    assert Image.open(io.BytesIO(chart.data)).size == (900, 600)
    assert len(chart.data) > 20_000

    reply = await gw.execute(CommandInvocation("console", LEAD, f"report {fx.PERIOD} format:csv"))
    [export] = reply.files
    assert export.content_type == "text/csv"
    table = list(csv.reader(io.StringIO(export.data.decode())))
    assert tuple(table[0]) == COLUMNS
    body = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in table[1:]}
    # created T1–T8, first answered T11, resolved T10 and T14 in the period
    refs = {app.core.policy.refs.format(i): n for n, i in app.fixture_ids.items()}  # type: ignore[attr-defined]
    assert sorted(refs[k] for k in body) == sorted(
        ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T10", "T11", "T14"]
    )
    by_name = {refs[k]: v for k, v in body.items()}
    assert by_name["T1"]["created_at"] == "2026-03-02T00:30:00+01:00"  # the lead's time zone
    assert by_name["T1"]["first_response_wall_secs"] == "600"
    assert by_name["T3"]["first_response_sla"] == "breached"
    assert by_name["T4"]["resolution_sla"] == "breached"  # due passed, unmet
    assert by_name["T5"]["first_response_sla"] == "open"
    assert (by_name["T6"]["first_response_sla"], by_name["T6"]["resolution_sla"]) == ("met", "")
    assert by_name["T8"]["first_response_sla"] == ""  # no SLA
    assert (by_name["T1"]["csat"], by_name["T3"]["messages"]) == ("5", "4")
    assert "CSV: 11 tickets" in reply.text

    reply = await gw.execute(CommandInvocation("console", LEAD, "report yesterday format:text"))
    assert reply.ok and reply.files == ()


async def test_agents_see_only_their_own_and_customers_nothing(app: App) -> None:
    gw = app.gateway
    refused = await gw.execute(CommandInvocation("console", BOB, "report 30d"))
    assert not refused.ok and "only for leads and admins" in refused.text
    mine = await gw.execute(CommandInvocation("console", BOB, f"report me {fx.PERIOD}"))
    assert mine.ok, mine.text
    assert "agent bob" in mine.text and "created 3 (+1, +50%)" in mine.text
    customer = await gw.execute(CommandInvocation("console", CUSTOMER, "report me"))
    assert not customer.ok and "only for agents" in customer.text
    bad = await gw.execute(CommandInvocation("console", LEAD, "report by colour"))
    assert not bad.ok and "Usage: /report" in bad.text


async def test_no_ratings_yet(db_url: str, tmp_path: Path) -> None:
    app = await make_app(db_url, tmp_path, ratings=False)
    try:
        r = await report(app)
        assert not r.csat_available
        reply = await app.gateway.execute(CommandInvocation("console", LEAD, "report 30d"))
        assert "Satisfaction: no ratings yet" in reply.text
        async with app.engine.begin() as conn:  # a database from before CSAT existed
            await conn.execute(text("DROP TABLE ratings"))
        r = await report(app)
        assert not r.csat_available and r.current.created == 8
    finally:
        await app.stop()


async def test_weekly_digest_is_posted_once_by_the_scheduler(db_url: str, tmp_path: Path) -> None:
    app = await make_app(db_url, tmp_path, report_digest_channel="console:leads",
                         report_digest_day="wed", report_digest_time="13:00")  # fmt: skip
    clock = app.core.clock
    assert isinstance(clock, FakeClock)
    try:
        clock.set(fx.NOW.replace(hour=11, minute=59))  # 12:59 in Zagreb
        await app.scheduler.sweep()
        clock.set(fx.NOW)
        await app.scheduler.sweep()
        await app.scheduler.sweep()
        async with app.engine.connect() as conn:
            found = (
                await conn.execute(select(tb.outbox).where(tb.outbox.c.kind == "report"))
            ).all()
        assert len(found) == 1
        row = found[0]._mapping
        assert (row["audience"], row["conversation_key"]) == ("agents", "console:leads:")
        assert row["text"].startswith("Weekly digest\n\nHelp desk report · last-week")
        assert "created 8 (+4, +100%)" in row["text"]  # last week is the fixture's period
    finally:
        await app.stop()


async def test_console_writes_the_attachments(sqlite_url: str, tmp_path: Path) -> None:
    from tests.e2e.dialogue import run_dialogue

    out_dir = tmp_path / "out"
    deliveries, code = await run_dialogue(
        """
        :lead lee
        ann: my invoice is wrong
        lee: /report today by queue
        """,
        sqlite_url,
        report_dir=str(out_dir),
    )
    assert code == 0
    [result] = [d for d in deliveries if d["to"] == "lee" and d["kind"] == "result"]
    assert "created 1" in result["text"]
    path = Path(result["text"].rsplit("📎 ", 1)[1])
    assert path.parent == out_dir and path.suffix == ".png" and path.stat().st_size > 20_000
