"""End-to-end: scripted console dialogues through the real gateway, bus, outbox and database."""

from __future__ import annotations

import pytest

from tests.e2e.dialogue import run_dialogue, to

TEAM = """
:admin ada
:agent bob
:agent carol
"""


async def test_new_ticket_gets_ack_with_ref_and_card(db_url: str) -> None:
    out, code = await run_dialogue(TEAM + "alice: my printer is on fire\n", db_url)
    assert code == 0
    ack = to(out, "alice", "ack")
    assert len(ack) == 1
    assert ack[0]["ticket"] == "T-1" and "T-1" in ack[0]["text"]
    assert "4 hours" in ack[0]["text"]
    cards = to(out, "agents", "card")
    assert cards and cards[0]["ticket"] == "T-1" and "status new" in cards[0]["text"]
    assert ack[0]["audience"] == "customer" and cards[0]["audience"] == "agents"


async def test_claim_reply_note_and_first_response(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: my printer is on fire
        bob@T-1: /claim
        bob@T-1: /note customer sounds upset, check the fuse
        bob@T-1: Have you tried turning it off?
        bob@T-1: /history
    """,
        db_url,
    )
    assert to(out, "bob", "result")[0]["text"].startswith("You claimed T-1")
    replies = to(out, "alice", "reply")
    assert [r["text"] for r in replies] == ["bob: Have you tried turning it off?"]
    notes = [d for d in out if d["kind"] == "note"]
    assert notes and all(n["audience"] == "agents" and n["to"] == "agents" for n in notes)
    # the internal note never reaches the customer, in any delivery
    assert not any("fuse" in d["text"] for d in out if d["audience"] == "customer")
    history = to(out, "bob", "result")[-1]["text"]
    assert "claimed" in history and "replied" in history and "note" in history
    cards = to(out, "agents", "card")
    assert "assignee bob" in cards[-1]["text"] and "status open" in cards[-1]["text"]


async def test_public_reply_on_new_ticket_records_first_response_and_opens(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: hello?
        bob@T-1: /reply hi alice, looking now
        bob@T-1: /reply second message
    """,
        db_url,
    )
    results = [d["text"] for d in to(out, "bob", "result")]
    assert results[0] == "Reply sent on T-1 (first response)."
    assert results[1] == "Reply sent on T-1."
    assert "status open" in to(out, "agents", "card")[-1]["text"]


async def test_canned_answer_with_placeholders(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: where is my parcel
        bob: /canned add hello Hi {customer_name}, {agent_name} here about {ticket_ref}.
        bob: /canned add broken Hi {customer_nmae}
        bob@T-1: /canned use hello
        bob@T-1: /canned use nosuch
    """,
        db_url,
    )
    assert to(out, "alice", "reply")[0]["text"] == "bob: Hi alice, bob here about T-1."
    errors = [d["text"] for d in to(out, "bob", "error")]
    assert "Unknown placeholder {customer_nmae}" in errors[0]
    assert "No canned answer called nosuch" in errors[1]


async def test_priority_and_tags(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: invoice is wrong
        bob@T-1: /priority urgent
        bob@T-1: /priority extreme
        bob@T-1: /tag add billing
        bob@T-1: /tag add vip
        bob@T-1: /tag remove vip
        bob: /list tag:billing
    """,
        db_url,
    )
    card = to(out, "agents", "card")[-1]["text"]
    assert "priority urgent" in card and "tags billing" in card
    err = to(out, "bob", "error")[0]["text"]
    assert "low, normal, high, urgent" in err and "Usage: /priority" in err
    assert "T-1" in to(out, "bob", "result")[-1]["text"]


async def test_pending_then_customer_reply_reopens(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: the app crashes
        bob@T-1: /claim
        bob@T-1: which version?
        bob@T-1: /status pending
        alice: version 2.1
        bob: /show T-1
    """,
        db_url,
    )
    assert "T-1 · open" in to(out, "bob", "result")[-1]["text"]
    assert to(out, "bob", "system")[-1]["text"] == "alice wrote on T-1: version 2.1"


async def test_resolve_then_customer_reply_reopens(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /claim
        bob@T-1: /resolve
        alice: still broken
        bob@T-1: /history
    """,
        db_url,
    )
    notice = to(out, "alice", "system")
    assert notice and "resolved" in notice[0]["text"]
    history = to(out, "bob", "result")[-1]["text"]
    assert "resolved → open" in history


async def test_close_then_reply_after_window_opens_linked_ticket(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 Europe/Zagreb
        alice: my order is late
        bob@T-1: /claim
        bob@T-1: /close delivered
        :advance 3d
        alice: thanks, one more thing
        bob@T-1: /history
        bob@T-1: /close answered
        :advance 8d
        alice: another question
        bob@T-2: /show
    """,
        db_url,
    )
    acks = to(out, "alice", "ack")
    assert [a["ticket"] for a in acks] == ["T-1", "T-2"]
    reopened = [d for d in to(out, "bob", "result") if d["text"].startswith("History")][0]
    assert "closed → open" in reopened["text"]
    shown = to(out, "bob", "result")[-1]["text"]
    assert "linked: T-1" in shown and "another question" in shown


async def test_merge_moves_messages_and_redirects(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: printer broken
        carl: printer broken here too
        bob: /merge T-2 into T-1
        carl: any news?
        bob@T-1: /show
        bob@T-1: on it, both of you
        bob@T-1: /history
        bob@T-2: /reply hi
    """,
        db_url,
    )
    shown = [d for d in to(out, "bob", "result") if "customers:" in d["text"]][0]["text"]
    assert "customers: alice, carl" in shown
    assert "printer broken here too" in shown and "any news?" in shown
    assert "merged here: T-2" in shown
    # both customers receive the reply on the merged ticket
    for customer in ("alice", "carl"):
        texts = [r["text"] for r in to(out, customer, "reply")]
        assert texts == ["bob: on it, both of you", "bob: hi"]
    assert to(out, "bob", "result")[-1]["text"] == "Reply sent on T-1."
    assert "now handled together with T-1" in to(out, "carl", "system")[0]["text"]
    history = [d for d in to(out, "bob", "result") if d["text"].startswith("History")][0]["text"]
    assert "merged T-2 → T-1 (T-2)" in history and "merged T-2 → T-1" in history


async def test_concurrent_claim_has_one_winner(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: urgent help
        :parallel
        bob@T-1: /claim
        carol@T-1: /claim
        :end
    """,
        db_url,
    )
    claims = [d for d in out if d["to"] in ("bob", "carol") and d["kind"] in ("result", "error")]
    winners = [d for d in claims if d["kind"] == "result"]
    losers = [d for d in claims if d["kind"] == "error"]
    assert len(winners) == 1 and len(losers) == 1
    assert f"already claimed by {winners[0]['to']}" in losers[0]["text"]


async def test_customer_refused_on_agent_commands_and_nothing_changes(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: help
        alice: /claim
        alice: /priority urgent
        alice@T-1: /note sneaky
        bob@T-1: /show
    """,
        db_url,
    )
    errors = to(out, "alice", "error")
    assert len(errors) == 3
    assert all("only for agents" in e["text"] for e in errors)
    shown = to(out, "bob", "result")[-1]["text"]
    assert "T-1 · new · normal" in shown and "sneaky" not in shown


async def test_unknown_command_and_wrong_arguments_answer_with_usage(db_url: str) -> None:
    out, code = await run_dialogue(
        TEAM
        + """
        alice: help
        bob: /frobnicate
        bob@T-1: /assign
        bob: /claim
        alice: /frobnicate
    """,
        db_url,
    )
    assert code == 0
    errors = to(out, "bob", "error")
    assert "Unknown command /frobnicate" in errors[0]["text"] and "/claim" in errors[0]["text"]
    assert "Usage: /assign [T-n] <agent>" in errors[1]["text"]
    assert "Which ticket?" in errors[2]["text"]
    customer_help = to(out, "alice", "error")[0]["text"]
    assert "/mytickets" in customer_help and "/claim" not in customer_help


async def test_customer_commands(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: first problem
        alice: /mytickets
        alice: /status
        alice: /close
        bob@T-1: /show
        dave: /status T-1
    """,
        db_url,
    )
    results = to(out, "alice", "result")
    assert "T-1 · new · first problem" in results[0]["text"]
    assert "is new" in results[1]["text"]
    assert "resolved" in results[2]["text"]
    assert "T-1 · resolved" in to(out, "bob", "result")[-1]["text"]
    assert "not one of your tickets" in to(out, "dave", "error")[0]["text"]


@pytest.mark.parametrize("line", ["no colon here", ":bogus", "alice:"])
async def test_broken_script_line_exits_non_zero(sqlite_url: str, line: str) -> None:
    _, code = await run_dialogue(f"alice: hi\n{line}\n", sqlite_url)
    assert code == 2


async def test_claim_timeout_survives_restart_and_fires_once(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        :now 2026-03-02T09:00 Europe/Zagreb
        alice: printer
        bob@T-1: /claim
        :restart
        :advance 25m
        :advance 25m
        bob@T-1: /show
    """,
        db_url,
    )
    notices = [d for d in to(out, "agents", "system") if "went back to queue" in d["text"]]
    assert len(notices) == 1 and "bob did not act on it in time" in notices[0]["text"]
    assert "unassigned" in to(out, "bob", "result")[-1]["text"]


async def test_acting_on_a_claim_keeps_it(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: printer
        bob@T-1: /claim
        :advance 10m
        bob@T-1: looking into it
        :advance 30m
        bob@T-1: /show
    """,
        db_url,
    )
    assert not [d for d in out if "went back to queue" in d["text"]]
    assert "· bob ·" in to(out, "bob", "result")[-1]["text"]
