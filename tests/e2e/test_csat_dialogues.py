"""CSAT end to end: survey on resolve/close, digit answers, /rate, throttling, reopen rules."""

from __future__ import annotations

from typing import Any

from tests.e2e.dialogue import run_dialogue, to

TEAM = """
:admin ada
:agent bob
:now 2026-03-02T09:00 Europe/Zagreb
"""


def texts(out: list[dict[str, Any]], who: str, kind: str | None = None) -> list[str]:
    return [d["text"] for d in to(out, who, kind)]


async def test_resolve_sends_survey_and_digit_is_a_rating_not_a_reopen(db_url: str) -> None:
    out, code = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /claim
        bob@T-1: /resolve
        alice: 4
        bob@T-1: /show
        bob@T-1: /history
    """,
        db_url,
    )
    assert code == 0
    surveys = to(out, "alice", "survey")
    assert len(surveys) == 1 and surveys[0]["ticket"] == "T-1"
    assert surveys[0]["audience"] == "customer"
    assert "1 (poor) to 5 (excellent)" in surveys[0]["text"]
    # the survey comes after the status notice
    kinds = [d["kind"] for d in to(out, "alice")]
    assert kinds.index("survey") > kinds.index("system")
    assert "Thanks for rating T-1: 4/5." in texts(out, "alice", "system")
    shown = texts(out, "bob", "result")[-2]
    assert "T-1 · resolved" in shown  # not reopened
    history = texts(out, "bob", "result")[-1]
    assert "rated — → 4" in history and "resolved → open" not in history
    assert "rated 4/5" in texts(out, "agents", "card")[-1]


async def test_rate_command_with_comment_changes_the_rating_within_a_week(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /close fixed
        alice: 2
        alice: /rate 5 great help after all
        :advance 8d
        alice: /rate 1
        bob@T-1: /history
    """,
        db_url,
    )
    assert "Thanks for rating T-1: 2/5." in texts(out, "alice", "system")
    results = texts(out, "alice", "result")
    assert results == ["Your rating for T-1 is now 5/5."]
    assert "can no longer be changed" in texts(out, "alice", "error")[0]
    history = texts(out, "bob", "result")[-1]
    assert "rated — → 2" in history and "rated — → 5" in history and "→ 1" not in history


async def test_other_replies_follow_the_reopen_rules(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /resolve
        alice: 4 of my colleagues still cannot log in
        bob@T-1: /show
        alice: 5
        bob@T-1: /show
    """,
        db_url,
    )
    shown = [t for t in texts(out, "bob", "result") if t.startswith("T-1 ·")]
    assert "T-1 · open" in shown[0]
    # the survey closed when the ticket reopened: a lone digit is now a message
    assert "T-1 · open" in shown[1] and "alice: 5" in shown[1]
    assert not any("Thanks for rating" in t for t in texts(out, "alice"))


async def test_one_survey_per_ticket_and_throttled_per_customer(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: first problem
        bob@T-1: /resolve
        bob@T-1: /close
        alice: /new second problem
        bob@T-2: /close
        :advance 2d
        alice: /new third problem
        bob@T-3: /resolve
    """,
        db_url,
        csat_throttle="1d",
    )
    surveyed = [d["ticket"] for d in to(out, "alice", "survey")]
    assert surveyed == ["T-1", "T-3"]  # T-1 once (resolve, not close); T-2 throttled


async def test_digit_without_an_open_survey_is_a_message(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: how many licences do I have?
        alice: 3
        bob@T-1: /show
    """,
        db_url,
    )
    assert "alice: 3" in texts(out, "bob", "result")[-1]
    assert not to(out, "alice", "survey")


async def test_survey_expires_after_the_window(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /resolve
        :advance 8d
        alice: 5
        bob@T-1: /show
    """,
        db_url,
        csat_window="7d",
    )
    assert "T-1 · open" in texts(out, "bob", "result")[-1]  # reopened by the late digit


async def test_csat_can_be_turned_off_and_others_cannot_rate(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: cannot log in
        bob@T-1: /resolve
        mallory: /rate T-1 1
    """,
        db_url,
        csat_enabled=False,
    )
    assert not to(out, "alice", "survey")
    assert "not one of your tickets" in texts(out, "mallory", "error")[0]


async def test_survey_in_the_customers_language(db_url: str) -> None:
    out, _ = await run_dialogue(
        TEAM
        + """
        alice: ne mogu se prijaviti
        bob@T-1: /resolve
    """,
        db_url,
        default_locale="hr",
    )
    assert to(out, "alice", "ack")[0]["text"].startswith("Hvala, alice, otvorili smo zahtjev T-1")
    assert "Uobičajeno vrijeme odgovora: 4 sata." in to(out, "alice", "ack")[0]["text"]
    assert texts(out, "alice", "survey")[0].startswith("Kako smo riješili zahtjev T-1?")
