"""Grouping SLA notices: one ticket's go under its card, several tickets' as one digest per
triage channel and per agent (bot/services/sla_notices.py). No I/O: the outbox is a list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.model import Ticket
from bot.domain.status import Status
from bot.services.context import Core, Policy
from bot.services.deliveries import Deliveries
from bot.services.ports import FakeClock
from bot.services.sla_notices import DIGEST_LINES, LINE_CHARS, SlaNotices

NOW = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


class FakeAgents:
    async def identities(self, agent_id: int) -> list[tuple[str, str]]:
        return [("slack", f"U{agent_id}")]


class FakeOutbox:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, **row: Any) -> None:
        self.rows.append(row)


class FakeUow:
    def __init__(self) -> None:
        self.outbox = FakeOutbox()
        self.agents = FakeAgents()


def notices(**policy: Any) -> tuple[SlaNotices, list[dict[str, Any]]]:
    uow = FakeUow()
    core = Core(Policy(agent_platforms=("slack",), **policy), FakeClock(NOW))
    return SlaNotices(Deliveries(uow, core)), uow.outbox.rows  # type: ignore[arg-type]


def ticket(n: int, queue: str = "general", conv: str = "slack:CSUPPORT:1.1") -> Ticket:
    return Ticket(n, f"T-{n}", f"subject {n}", 1, conv, "slack", NOW, Status.OPEN, queue=queue)


def texts(rows: list[dict[str, Any]]) -> list[tuple[int | None, str, str]]:
    return [(r["ticket_id"], r["conversation_key"], r["text"]) for r in rows]


async def test_one_tickets_notices_go_under_its_card_as_they_are() -> None:
    out, rows = notices()
    one = ticket(1)
    out.to_team(one, "breach", "🔥 T-1 missed")
    out.to_team(one, "esc", "🚨 T-1 escalated")
    await out.write()
    assert texts(rows) == [
        (1, "slack:agents:1", "🔥 T-1 missed"),
        (1, "slack:agents:1", "🚨 T-1 escalated"),
    ]


async def test_several_tickets_make_one_digest_worst_first_with_the_rest_counted() -> None:
    out, rows = notices()
    for n in range(1, DIGEST_LINES + 4):
        out.to_team(ticket(n), "warn", f"⏰ T-{n} due soon")
    out.to_team(ticket(50), "esc", "🚨 T-50 escalated")
    out.to_team(ticket(51), "breach", "🔥 T-51 missed")
    await out.write()
    [(ticket_id, key, text)] = texts(rows)
    assert (ticket_id, key) == (None, "slack:agents:queue/general")
    lines = text.split("\n")
    counts = f"1 missed, 1 escalated, {DIGEST_LINES + 3} due soon"
    assert lines[0] == f"🔥 SLA alerts in queue general: {counts}"
    assert lines[1:3] == ["• 🔥 T-51 missed", "• 🚨 T-50 escalated"]
    assert len(lines) == 1 + DIGEST_LINES + 1
    assert lines[-1].startswith("…and 5 more.")
    assert rows[0]["payload"] == {"queue": "general", "conversation": "slack:CSUPPORT:1.1"}


async def test_a_long_line_is_cut() -> None:
    out, rows = notices()
    out.to_team(ticket(1), "breach", "🔥 T-1 " + "x" * 500)
    out.to_team(ticket(2), "breach", "🔥 T-2 short")
    await out.write()
    line = rows[0]["text"].split("\n")[1]
    assert len(line) == len("• ") + LINE_CHARS and line.endswith("…")


async def test_digests_are_per_queue() -> None:
    out, rows = notices()
    for n, queue in ((1, "general"), (2, "billing"), (3, "general")):
        out.to_team(ticket(n, queue), "breach", f"🔥 T-{n} missed")
    await out.write()
    assert texts(rows) == [
        (None, "slack:agents:queue/general", "🔥 SLA alerts in queue general: 2 missed\n"
         "• 🔥 T-1 missed\n• 🔥 T-3 missed"),
        (2, "slack:agents:2", "🔥 T-2 missed"),
    ]  # fmt: skip


async def test_on_a_platform_that_picks_triage_by_server_digests_are_per_server() -> None:
    a, b = "discord:111:9001", "discord:222:9002"  # support channels of two guilds
    for scoped, expected in (((), 1), (("discord",), 2)):
        out, rows = notices(triage_by_server=scoped)
        for n, conv in ((1, a), (2, b), (3, a), (4, b)):
            out.to_team(ticket(n, conv=conv), "breach", f"🔥 T-{n} missed")
        await out.write()
        assert len(rows) == expected
        assert {r["payload"]["conversation"] for r in rows} == ({a} if expected == 1 else {a, b})


async def test_an_agent_gets_one_digest_for_several_tickets_and_single_ones_plainly() -> None:
    out, rows = notices()
    out.to_agent(7, ticket(1), "warn", "⏰ T-1 due soon")
    out.to_agent(7, ticket(2), "breach", "🔥 T-2 missed")
    out.to_agent(8, ticket(3), "warn", "⏰ T-3 due soon")
    await out.write()
    assert texts(rows) == [
        (None, "slack:dm:U7", "🔥 Your SLA alerts: 1 missed, 1 due soon\n"
         "• 🔥 T-2 missed\n• ⏰ T-1 due soon"),
        (3, "slack:dm:U8", "⏰ T-3 due soon"),
    ]  # fmt: skip
    assert rows[0]["recipient"] == "U7"


async def test_to_assignee_or_team() -> None:
    out, rows = notices()
    mine = ticket(1)
    mine.assignee_id = 7
    out.to_assignee_or_team(mine, "warn", "⏰ T-1 due soon")
    out.to_assignee_or_team(ticket(2), "warn", "⏰ T-2 due soon")
    await out.write()
    assert texts(rows) == [
        (2, "slack:agents:2", "⏰ T-2 due soon"),
        (1, "slack:dm:U7", "⏰ T-1 due soon"),
    ]
