"""SLA notices in bursts, end to end: when several tickets warn or breach in one sweep, the team
and each agent get one digest, not one message per ticket (bot/services/sla_notices.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage import tables as t
from storage.engine import create_engine
from tests.e2e.dialogue import run_dialogue, to
from tests.e2e.test_sla_dialogues import OFFICE, TEAM, config, history_kinds, sla_texts

# Three tickets written on a Saturday: each one's first response (2 business hours) falls due
# on Monday at 11:00, and its warning (80 %) at 10:36, all in the same sweep.
WEEKEND = """
:now 2026-03-07T10:00 Europe/Zagreb
alice: printer on fire
carl: cannot log in
dora: invoice is wrong
:now 2026-03-09T10:30 Europe/Zagreb
bob@T-1: /claim
bob@T-2: /claim
:advance 1h
"""


async def sla_rows(db_url: str) -> list[tuple[int | None, str, str]]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            o = t.outbox.c
            rows = await conn.execute(
                select(o.ticket_id, o.conversation_key, o.text)
                .where(o.kind == "sla")
                .order_by(o.id)
            )
            return [(r.ticket_id, r.conversation_key, r.text) for r in rows]
    finally:
        await engine.dispose()


async def test_a_monday_morning_burst_is_one_digest_per_channel_and_agent(
    db_url: str, tmp_path: Path
) -> None:
    out, _ = await run_dialogue(TEAM + WEEKEND, db_url, config=config(tmp_path, OFFICE))
    # bob holds T-1 and T-2 at 10:36: their warnings reach him as one direct message
    assert sla_texts(out, "bob") == [
        "⏰ Your SLA alerts: 2 due soon\n"
        "• ⏰ T-1 first response is due Mon 9 Mar 11:00 Europe/Zagreb: printer on fire\n"
        "• ⏰ T-2 first response is due Mon 9 Mar 11:00 Europe/Zagreb: cannot log in"
    ]
    team = sla_texts(out)
    # T-3 is nobody's: its warning alone goes to the team, under its card
    assert team[0] == "⏰ T-3 first response is due Mon 9 Mar 11:00 Europe/Zagreb: invoice is wrong"
    # the claims timed out at 10:50; at 11:00 all three breach: one digest for the queue
    assert team[1:] == [
        "🔥 SLA alerts in queue general: 3 missed\n"
        "• 🔥 T-1 missed its first response target (due Mon 9 Mar 11:00 Europe/Zagreb): "
        "printer on fire\n"
        "• 🔥 T-2 missed its first response target (due Mon 9 Mar 11:00 Europe/Zagreb): "
        "cannot log in\n"
        "• 🔥 T-3 missed its first response target (due Mon 9 Mar 11:00 Europe/Zagreb): "
        "invoice is wrong"
    ]
    digest = [d for d in to(out, "agents", "sla") if d["text"].startswith("🔥 SLA alerts")]
    assert digest[0]["ticket"] is None  # about no single ticket: the top of the triage channel
    rows = await sla_rows(db_url)
    assert [r for r in rows if r[0] is None] == [
        (None, "console:dm:bob", sla_texts(out, "bob")[0]),
        (None, "console:agents:queue/general", team[1]),
    ]
    # every ticket's history still has its own warning and breach, once
    for ticket_id in (1, 2, 3):
        kinds = await history_kinds(db_url, ticket_id)
        assert kinds.count(("sla_warned", "first_response")) == 1
        assert kinds.count(("sla_breached", "first_response")) == 1
