"""SLA engine and timed automation, end to end: console scripts with a fake clock, on SQLite and
PostgreSQL. Each scenario checks what people were told, the history, and the stored columns."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage import tables as t
from storage.engine import create_engine
from storage.rows import aware
from tests.e2e.dialogue import run_dialogue, to

TEAM = """
:admin ada
:lead lee
:agent bob
:agent carol
"""

LADDER = """
[sla.calendars.office]
tz = "Europe/Zagreb"
hours = { "mon-fri" = ["09:00-17:00"] }
country = "HR"

[[sla.policies]]
name = "standard"
first_response = "1h"
next_response = "2h"
resolution = "8h"
escalate = [
  { after = "0m", action = "notify_assignee" },
  { after = "30m", action = "notify_leads" },
  { after = "1h", action = "raise_priority" },
  { after = "2h", action = "reassign_queue", target = "tier2" },
]

[[queues]]
name = "tier2"

[[queues]]
name = "billing"
[queues.settings]
claim_timeout = "10m"
remind_after = "24h"
auto_resolve_after = "3d"
auto_close_after = "2d"
"""

OFFICE = """
[sla]
calendar = "office"

[sla.calendars.office]
tz = "Europe/Zagreb"
hours = { "mon-fri" = ["09:00-17:00"] }
country = "HR"

[[sla.policies]]
name = "office"
first_response = "2h"
"""


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deskbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def ticket_row(db_url: str, ticket_id: int = 1) -> dict[str, Any]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(t.tickets).where(t.tickets.c.id == ticket_id))).one()
            return {k: aware(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()}
    finally:
        await engine.dispose()


async def pending_alarms(db_url: str, ticket_id: int = 1) -> list[tuple[datetime, str]]:
    """The ticket's SLA alarm rows not taken by the scheduler yet (storage/alarms_repo.py)."""
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            a = t.sla_alarms.c
            rows = await conn.execute(select(a.at, a.alarm).where(a.ticket_id == ticket_id))
            return [(aware(at), key) for at, key in rows]  # type: ignore[misc]
    finally:
        await engine.dispose()


async def history_kinds(db_url: str, ticket_id: int = 1) -> list[tuple[str, str | None]]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(t.history.c.kind, t.history.c.new)
                .where(t.history.c.ticket_id == ticket_id)
                .order_by(t.history.c.id)
            )
            return [(r.kind, r.new) for r in rows]
    finally:
        await engine.dispose()


def sla_texts(out: list[dict[str, Any]], who: str = "agents") -> list[str]:
    return [d["text"] for d in to(out, who, "sla")]


async def test_warning_then_breach_then_escalation_ladder(db_url: str, tmp_path: Path) -> None:
    out, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: my printer is on fire
        bob@T-1: /claim
        :advance 47m
        :advance 2m
        :advance 12m
        :advance 4h
        :advance 2d
        """,
        db_url,
        config=config(tmp_path, LADDER),
        claim_timeout="0s",
    )
    assert code == 0
    # the warning (80% of 1h = 48 min) goes to the assignee, not before it is due
    warned = [d for d in to(out, "bob", "sla") if d["text"].startswith("⏰ T-1 first")]
    assert len(warned) == 1 and "first response is due Mon 2 Mar 10:00" in warned[0]["text"]
    team = sla_texts(out)
    assert sum("missed its first response target" in x for x in team) == 1
    ladder = [x.split(": ", 1)[1] for x in team if "(first response breached)" in x]
    assert ladder == [
        "leads, please look. my printer is on fire",
        "priority normal → high",
        "moved to queue tier2",
    ]
    # leads heard directly (lee is a lead, ada an admin); bob as assignee
    assert any("escalated" in d["text"] for d in to(out, "lee", "sla"))
    kinds = [k for k, _ in await history_kinds(db_url) if k.startswith("sla_")]
    first = kinds[: kinds.index("sla_escalated") + 4]
    assert first == ["sla_warned", "sla_breached"] + ["sla_escalated"] * 4
    # resolution (8h) then breached too, on its own ladder; every alarm exactly once
    history = await history_kinds(db_url)
    assert history.count(("sla_warned", "first_response")) == 1
    assert history.count(("sla_breached", "first_response")) == 1
    assert history.count(("sla_breached", "resolution")) == 1
    assert history.count(("sla_escalated", "raise_priority")) == 2  # once per target
    cards = [d["text"] for d in to(out, "agents", "card")]
    assert any("⏰ at risk" in c for c in cards[: cards.index(next(c for c in cards if "🔥" in c))])
    assert "🔥 breached" in cards[-1] and "priority urgent" in cards[-1]
    row = await ticket_row(db_url)
    plan = {k: datetime.fromisoformat(v) for k, v in row["sla_timers"].items() if v}
    # ladder done: no row left that the ticket still plans, so nothing left to fire
    assert not [(at, key) for at, key in await pending_alarms(db_url) if plan.get(key) == at]
    assert row["first_response_due"] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def test_answer_before_warning_means_no_warning(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: cannot log in
        :advance 30m
        bob@T-1: try resetting your password
        :advance 6h
        """,
        db_url,
        config=config(tmp_path, LADDER),
    )
    kinds = await history_kinds(db_url)
    assert ("sla_warned", "first_response") not in kinds
    assert ("sla_breached", "first_response") not in kinds
    assert not [x for x in sla_texts(out) + sla_texts(out, "bob") if "first response" in x]
    row = await ticket_row(db_url)
    assert row["first_response_secs"] == 1800 and row["first_response_due"] is None
    # the resolution target still runs: warned at 80% of 8h
    assert ("sla_warned", "resolution") in kinds


async def test_pending_pauses_the_clock_and_resuming_does_not_breach(
    db_url: str, tmp_path: Path
) -> None:
    _, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: the app crashes
        :advance 10m
        bob@T-1: which version?
        bob@T-1: /status pending
        :advance 20h
        alice: version 2.1
        :advance 1m
        bob@T-1: /show
        :advance 100m
        """,
        db_url,
        config=config(tmp_path, LADDER),
    )
    assert code == 0
    row = await ticket_row(db_url)
    # 20h pending (its business time is wall time on the 24/7 calendar) moved resolution
    # from 17:00 to 13:00 the next day; nothing fired during or right after the pause
    assert row["resolution_due"] == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    assert row["paused_secs"] == 20 * 3600
    kinds = await history_kinds(db_url)
    assert ("sla_breached", "resolution") not in kinds
    # the customer's message started the next-response clock (2h): warned at 80%, once
    assert kinds.count(("sla_warned", "next_response")) == 1
    assert ("sla_breached", "next_response") not in kinds
    assert row["next_response_due"] == datetime(2026, 3, 3, 7, 10, tzinfo=UTC)


async def test_claim_timeout_honours_queue_setting_and_tells_the_agent(
    db_url: str, tmp_path: Path
) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: wrong invoice
        bob@T-1: /transfer billing
        bob@T-1: /claim
        :advance 9m
        carol@T-1: /show
        :advance 2m
        carol@T-1: /show
        :advance 1h
        """,
        db_url,
        config=config(tmp_path, LADDER),
        claim_timeout="20m",
    )
    shown = [d["text"] for d in to(out, "carol", "result")]
    assert "· bob ·" in shown[0] and "unassigned" in shown[1]
    notices = [d for d in to(out, "agents", "system") if "went back to queue billing" in d["text"]]
    assert len(notices) == 1
    assert [d["text"] for d in to(out, "bob", "system")] == [
        "Your claim on T-1 timed out: it went back to queue billing."
    ]


async def test_pending_reminder_auto_resolve_then_auto_close(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: refund please
        bob@T-1: /transfer billing
        bob@T-1: sent, please confirm
        bob@T-1: /status pending
        :advance 23h
        :advance 2h
        :advance 3d
        :advance 2d
        :advance 5d
        """,
        db_url,
        config=config(tmp_path, LADDER),
    )
    system = [d["text"] for d in to(out, "alice", "system")]
    assert len(system) == 3
    assert system[0].startswith("We're still waiting for your reply on T-1")
    assert "close it in 2 days" in system[0]
    assert system[1].startswith("We haven't heard back, so we've marked T-1 as resolved")
    assert system[2] == "T-1 is now closed. Thanks for getting in touch!"
    history = await history_kinds(db_url)
    assert history.count(("reminded", None)) == 1
    assert ("status", "resolved") in history and ("status", "closed") in history
    row = await ticket_row(db_url)
    assert row["status"] == "closed" and row["auto_close_at"] is None
    assert row["resolved_at"] == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 3 days of silence
    assert row["closed_at"] == datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # then 2 days resolved


async def test_snooze_comes_back_by_itself(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: call me tomorrow
        bob@T-1: /claim
        bob@T-1: /snooze 1d
        bob@T-1: /snooze yesterday
        :advance 23h
        bob@T-1: /show
        :advance 2h
        bob@T-1: /show
        """,
        db_url,
        config=config(tmp_path, LADDER),
        claim_timeout="0s",
    )
    results = [d["text"] for d in to(out, "bob", "result")]
    assert "snoozed until Tue 3 Mar 09:00 UTC" in results[1]
    assert "is not a time" in to(out, "bob", "error")[0]["text"]
    assert "T-1 · on_hold" in results[2] and "T-1 · open" in results[3]
    back = [d["text"] for d in to(out, "bob", "system")]
    assert back == ["⏰ T-1 is back from snooze: call me tomorrow"]
    row = await ticket_row(db_url)
    # 24h on hold pushed the 1h first response target back by exactly 24h
    assert row["first_response_due"] == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


async def test_restart_while_breach_is_due_fires_once_after_start(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduling")
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: server down
        :advance 50m
        :now 2026-03-02T10:20 UTC
        :restart
        :advance 1h
        :restart
        :advance 1h
        """,
        db_url,
        config=config(tmp_path, LADDER),
    )
    history = await history_kinds(db_url)
    assert history.count(("sla_warned", "first_response")) == 1
    assert history.count(("sla_breached", "first_response")) == 1
    assert history.count(("sla_escalated", "notify_assignee")) == 1
    caught = [r.getMessage() for r in caplog.records if "caught up" in r.getMessage()]
    # the start after the breach fell due caught up on the breach and the 0m ladder step
    assert "scheduler caught up on 2 due timers" in caught
    assert len([x for x in sla_texts(out) if "missed its first response" in x]) == 1


async def test_dst_weekend_and_public_holiday(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        # Friday before the switch to summer time (Sunday 29 March 2026), one hour before closing
        :now 2026-03-27T16:00 Europe/Zagreb
        alice: before the weekend
        :advance 3d
        # Saturday before Easter Monday (6 April 2026, a public holiday in Croatia)
        :now 2026-04-04T10:00 Europe/Zagreb
        carl: over easter
        :advance 4d
        """,
        db_url,
        config=config(tmp_path, OFFICE),
    )
    first = await ticket_row(db_url, 1)
    # 1h on Friday (CET, UTC+1) + 1h on Monday (CEST, UTC+2): 10:00 local = 08:00 UTC
    assert first["first_response_due"] == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    warn = [x for x in sla_texts(out) if x.startswith("⏰ T-1")]
    assert warn == [
        "⏰ T-1 first response is due Mon 30 Mar 10:00 Europe/Zagreb: before the weekend"
    ]
    ack = to(out, "carl", "ack")[0]["text"]
    assert "Our team is away right now" in ack
    assert "Tuesday 7 April, 09:00 (Europe/Zagreb)" in ack
    second = await ticket_row(db_url, 2)
    assert second["first_response_due"] == datetime(2026, 4, 7, 9, 0, tzinfo=UTC)  # 11:00 CEST
    breach = [x for x in sla_texts(out) if "T-2 missed" in x]
    assert breach == [
        "🔥 T-2 missed its first response target (due Tue 7 Apr 11:00 Europe/Zagreb): over easter"
    ]
    # inside business hours the ack says what to expect, from the policy
    assert "We usually reply within 2 hours." in to(out, "alice", "ack")[0]["text"]


async def test_sla_set_by_admin_applies_to_new_tickets_and_survives_restart(
    db_url: str, tmp_path: Path
) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        bob: /sla set standard first_response 30m
        ada: /sla set standard first_response 30m
        ada: /sla set standard escalate 10m notify_leads, 1h reassign_agent:carol
        ada: /sla set standard warn_at 50%
        ada: /sla set standard match color=red
        ada: /sla set standard calendar mars
        :restart
        alice: hello
        :advance 15m
        :advance 40m
        :advance 1h
        lee: /sla show
        """,
        db_url,
        config=config(tmp_path, LADDER),
        claim_timeout="0s",
    )
    assert "only for admins" in to(out, "bob", "error")[0]["text"]
    results = [d["text"] for d in to(out, "ada", "result")]
    assert "first response 30 minutes" in results[0] and "(policy 1 of 1)" in results[0]
    errors = [d["text"] for d in to(out, "ada", "error")]
    assert len(errors) == 2 and "no calendar 'mars'" in errors[1]
    assert to(out, "alice", "ack")[0]["text"].endswith("We usually reply within 30 minutes.")
    history = await history_kinds(db_url)
    assert history.count(("sla_warned", "first_response")) == 1  # at 15 min (50%)
    assert ("sla_escalated", "notify_leads") in history
    assert ("sla_escalated", "reassign_agent") in history
    row = await ticket_row(db_url)
    assert row["sla_policy"] == "standard" and row["assignee_id"] is not None
    shown = to(out, "lee", "result")[-1]["text"]
    assert "standard: match any · first response 30 minutes" in shown
    assert "escalate +10 minutes notify_leads, +1 hour reassign_agent:carol" in shown
