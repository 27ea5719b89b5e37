"""SLA policy re-selection and the next-response clock, end to end (console scripts, fake clock,
SQLite and PostgreSQL): what is stored and what fires."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.dialogue import run_dialogue
from tests.e2e.test_sla_dialogues import TEAM, config, history_kinds, ticket_row

POLICIES = """
[[sla.policies]]
name = "urgent"
match = { priority = ["urgent", "high"] }
first_response = "1h"
resolution = "4h"

[[sla.policies]]
name = "billing"
match = { queue = ["billing"] }
first_response = "8h"
next_response = "2h"
resolution = "3d"

[[sla.policies]]
name = "standard"
first_response = "4h"
next_response = "2h"
resolution = "2d"

[[queues]]
name = "billing"
"""

PINNED = """
[[rules]]
name = "vip"
when = { keywords = ["vip"] }
then = { sla = "standard" }
"""


async def test_priority_change_reselects_the_policy_and_counts_time_already_used(
    db_url: str, tmp_path: Path
) -> None:
    _, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: the invoice is wrong
        :advance 30m
        bob@T-1: /priority high
        :advance 2h
        """,
        db_url,
        config=config(tmp_path, POLICIES),
        claim_timeout="0s",
    )
    assert code == 0
    row = await ticket_row(db_url)
    assert row["sla_policy"] == "urgent"
    # 30 minutes used under `standard`; urgent's 1h first response is due at 10:00, not 10:30
    assert row["first_response_due"] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert row["resolution_due"] == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    kinds = await history_kinds(db_url)
    assert ("changed", "urgent") in kinds  # the policy change is in the history
    assert kinds.count(("sla_breached", "first_response")) == 1


async def test_queue_change_reselects_and_a_met_target_stays_met(
    db_url: str, tmp_path: Path
) -> None:
    _, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: my invoice
        :advance 10m
        bob@T-1: looking into it
        :advance 50m
        bob@T-1: /transfer billing
        :advance 1m
        """,
        db_url,
        config=config(tmp_path, POLICIES),
        claim_timeout="0s",
    )
    assert code == 0
    row = await ticket_row(db_url)
    assert row["sla_policy"] == "billing" and row["queue"] == "billing"
    assert row["first_response_due"] is None and row["first_response_secs"] == 600
    assert row["resolution_due"] == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 3d from opening


async def test_policy_named_by_a_routing_rule_stays(db_url: str, tmp_path: Path) -> None:
    _, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: vip request
        :advance 10m
        bob@T-1: /priority urgent
        """,
        db_url,
        config=config(tmp_path, POLICIES + PINNED),
        claim_timeout="0s",
    )
    assert code == 0
    row = await ticket_row(db_url)
    assert row["sla_policy"] == "standard"
    assert row["first_response_due"] == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


async def test_next_response_clock_starts_when_the_customer_starts_waiting(
    db_url: str, tmp_path: Path
) -> None:
    """The first message after our last public reply starts it; later messages while the
    customer is still waiting do not push it back; our reply stops it."""
    _, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: hello
        :advance 10m
        bob@T-1: hi, what happened?
        :advance 50m
        alice: it crashed
        :advance 1h
        alice: still crashing, any news?
        """,
        db_url,
        config=config(tmp_path, POLICIES),
        claim_timeout="0s",
    )
    assert code == 0
    row = await ticket_row(db_url)
    # waiting since 10:00 (not 11:00): 2h next-response target, due at 12:00
    assert row["next_response_due"] == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_a_reply_in_time_records_the_next_response_met(db_url: str, tmp_path: Path) -> None:
    """Each next-response cycle ends recorded: met when we answered in time (reports count
    it), breached by the sweep when we did not; a late answer records no "met"."""
    out, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: hello
        :advance 10m
        bob@T-1: hi, what happened?
        :advance 10m
        alice: it crashed
        :advance 1h
        bob@T-1: fixed, try again
        :advance 10m
        alice: crashed again
        :advance 3h
        bob@T-1: sorry, looking
        bob: /history T-1
        """,
        db_url,
        config=config(tmp_path, POLICIES),
        claim_timeout="0s",
    )
    assert code == 0
    history = [d["text"] for d in out if d["to"] == "bob" and d["kind"] == "result"][-1]
    lines = history.splitlines()
    met = [line for line in lines if "sla_met" in line]
    breached = [line for line in lines if "sla_breached" in line and "next_response" in line]
    assert len(met) == 1 and "next_response" in met[0]  # the first cycle, answered in 1h
    assert len(breached) == 1  # the second, answered after 3h against a 2h target


async def test_a_late_reply_before_the_sweep_still_records_the_breach(
    db_url: str, tmp_path: Path
) -> None:
    """The reply clears the cycle's alarms; if it came after the due time but before the sweep
    fired the breach, the breach is recorded with the reply (reports would miss it otherwise)."""
    out, code = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 UTC
        alice: hello
        :advance 10m
        bob@T-1: hi, what happened?
        :advance 10m
        alice: it crashed
        :now 2026-03-02T13:00 UTC
        bob@T-1: sorry for the wait
        bob: /history T-1
        """,
        db_url,
        config=config(tmp_path, POLICIES),
        claim_timeout="0s",
    )
    assert code == 0
    history = [d["text"] for d in out if d["to"] == "bob" and d["kind"] == "result"][-1]
    breached = [ln for ln in history.splitlines() if "sla_breached" in ln]
    assert len(breached) == 1 and "next_response" in breached[0]
    assert "13:00" in breached[0]  # recorded with the reply, not by a sweep at 12:20
    assert "sla_met" not in history
