"""Routing rules and auto-assignment end to end through the console, with a settings file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.dialogue import run_dialogue, to

SETTINGS = """
[[queues]]
name = "billing"
settings = { assign = "round_robin" }

[[queues]]
name = "tech"
settings = { assign = "least_loaded", first_responder = true }

[[people]]
name = "bob"
role = "agent"
ids = ["console:bob"]
queues = ["general", "billing", "tech"]
capacity = 1

[[people]]
name = "carol"
role = "agent"
ids = ["console:carol"]
queues = ["general", "billing"]

[[people]]
name = "ada"
role = "admin"
ids = ["console:ada"]

[[rules]]
name = "billing"
when = { keywords = ["invoice", "refund"] }
then = { queue = "billing", priority = "high", tags = ["money"], reply = "billing-hours" }

[[rules]]
name = "tech"
when = { regex = "(?i)\\\\b(crash\\\\w*|error \\\\d+)\\\\b" }
then = { queue = "tech" }

[[rules]]
name = "broken"
when = { regex = "(" }
then = { queue = "tech" }
"""


def config(tmp_path: Path) -> str:
    path = tmp_path / "deskbot.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return str(path)


def texts(out: list[dict[str, Any]], who: str, kind: str | None = None) -> list[str]:
    return [d["text"] for d in to(out, who, kind)]


async def test_rules_route_and_round_robin_assigns(db_url: str, tmp_path: Path) -> None:
    out, code = await run_dialogue(
        """
        ada: /canned add billing-hours Hi {customer_name}, billing answers 9-17 on weekdays.
        alice: my invoice is wrong
        dave: the printer is jammed
        erin: I want a refund
        frank: invoice again
        ada: /list queue:billing
    """,
        db_url,
        config=config(tmp_path),
    )
    assert code == 0
    # the ack comes first, then the rule's canned answer
    assert [d["kind"] for d in to(out, "alice")] == ["ack", "reply"]
    assert texts(out, "alice", "reply") == ["deskbot: Hi alice, billing answers 9-17 on weekdays."]
    cards = {d["ticket"]: d["text"] for d in to(out, "agents", "card")}
    assert "queue billing" in cards["T-1"] and "priority high" in cards["T-1"]
    assert "tags money" in cards["T-1"] and "assignee bob" in cards["T-1"]
    assert "queue general" in cards["T-2"] and "assignee —" in cards["T-2"]  # manual queue
    assert "assignee carol" in cards["T-3"]
    assert "assignee carol" in cards["T-4"]  # bob's turn, but he is at his capacity of 1
    assert "deskbot assigned T-1 to you" in " ".join(texts(out, "bob", "system"))
    listed = texts(out, "ada", "result")[-1]
    assert "T-4" in listed and "T-3" in listed and "T-1" in listed and "T-2" not in listed


async def test_least_loaded_capacity_waiting_card_and_first_responder(
    db_url: str, tmp_path: Path
) -> None:
    out, _ = await run_dialogue(
        """
        alice: the app shows error 500
        dave: it crashes on start
        bob@T-2: /reply which version?
        ada: /agent set carol queues general billing tech
        erin: error 42 again
        ada@T-1: /history
    """,
        db_url,
        config=config(tmp_path),
    )
    cards = [d for d in to(out, "agents", "card")]
    t1 = [c["text"] for c in cards if c["ticket"] == "T-1"]
    t2 = [c["text"] for c in cards if c["ticket"] == "T-2"]
    assert "assignee bob" in t1[0]
    # bob is at capacity 1 and carol is not in tech: T-2 waits and the card says so
    assert "assignee —" in t2[0] and "no agent available" in t2[0]
    # first responder takes it (the tech queue's setting) — over capacity, by their own choice
    assert "assignee bob" in t2[-1] and "no agent available" not in t2[-1]
    t3 = [c["text"] for c in cards if c["ticket"] == "T-3"]
    assert "assignee carol" in t3[0]
    assert "routed" in texts(out, "ada", "result")[-1]


async def test_claim_timeout_reassigns_with_the_same_strategy(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        """
        :now 2026-03-02T09:00 Europe/Zagreb
        alice: refund for invoice 7
        :advance 21m
        ada@T-1: /show
    """,
        db_url,
        config=config(tmp_path),
        claim_timeout="20m",
    )
    cards = [d["text"] for d in to(out, "agents", "card") if d["ticket"] == "T-1"]
    assert "assignee bob" in cards[0] and "assignee carol" in cards[-1]
    assert any("reassigned to carol" in t for t in texts(out, "agents", "system"))


async def test_unavailable_agents_are_skipped_and_waiting_tickets_assigned_later(
    db_url: str, tmp_path: Path
) -> None:
    out, _ = await run_dialogue(
        """
        bob: /away
        alice: invoice is wrong
        carol: /away
        dave: refund please
        bob: /back
        erin: invoice 3
        bob@T-2: /resolve
    """,
        db_url,
        config=config(tmp_path),
    )
    cards: dict[str, list[str]] = {}
    for d in to(out, "agents", "card"):
        cards.setdefault(d["ticket"], []).append(d["text"])
    assert "assignee carol" in cards["T-1"][0]
    assert "assignee —" in cards["T-2"][0] and "no agent available" in cards["T-2"][0]
    # bob is back: the waiting ticket is his (capacity 1), so the next one waits in turn
    assert "assignee bob" in cards["T-2"][1]
    assert "assignee —" in cards["T-3"][0] and "no agent available" in cards["T-3"][0]
    # bob resolves T-2 and has room again: T-3 goes to him without anyone assigning it
    assert "assignee bob" in cards["T-3"][-1] and "status open" in cards["T-3"][-1]
    assert "deskbot assigned T-3 to you" in " ".join(texts(out, "bob", "system"))


async def test_rules_commands(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        """
        bob: /rules test "please refund my invoice"
        bob: /rules test "hello there"
        bob: /rules add vip when customer_domain:acme.example then priority:urgent
        ada: /rules add outage when keywords:outage,down then priority:urgent tag:outage
        ada: /rules add bad when colour:red then queue:x
        ada: /rules list
        alice: total outage in Zagreb
        ada: /rules remove outage
        ada: /rules remove outage
        dave: another outage
    """,
        db_url,
        config=config(tmp_path),
    )
    bob = texts(out, "bob")
    assert (
        bob[0]
        == "Matches: billing → queue billing; priority high; tags money; reply billing-hours."
    )
    assert bob[1] == "No rule matches."
    assert "only for admins" in bob[2]
    ada = texts(out, "ada")
    assert ada[0].startswith("Rule added: outage (command)")
    assert "unknown condition" in ada[1]
    listing = ada[2]
    assert listing.index("1. billing") < listing.index("3. outage")
    assert "⚠ skipped: rule 'broken'" in listing
    assert ada[3] == "Rule outage removed." and "No rule called outage" in ada[4]
    cards = {d["ticket"]: d["text"] for d in to(out, "agents", "card")}
    assert "priority urgent" in cards["T-1"] and "tags outage" in cards["T-1"]
    assert "priority normal" in cards["T-2"]


async def test_route_runs_the_rules_again_on_demand(db_url: str, tmp_path: Path) -> None:
    out, _ = await run_dialogue(
        """
        alice: total outage in Zagreb
        dave: hello there
        ada: /rules add outage when keywords:outage then queue:billing priority:urgent tag:outage
        bob: /route T-1
        bob: /route T-1
        bob: /route T-2
        alice: /route T-1
        bob: /route
        bob: /history T-1
    """,
        db_url,
        config=config(tmp_path),
    )
    bob = [d["text"] for d in to(out, "bob") if d["kind"] != "system"]
    assert "deskbot assigned T-1 to you" in " ".join(texts(out, "bob", "system"))
    assert bob[0] == "T-1 routed again: queue billing, priority urgent, tag outage."
    assert bob[1] == "T-1 already is where the rules put it."
    assert bob[2] == "No rule matches T-2; nothing changed."
    assert "Which ticket?" in bob[3]
    assert "routed" in bob[4] and "outage" in bob[4]
    assert "only for agents" in texts(out, "alice")[-1]
    cards = [d["text"] for d in to(out, "agents", "card") if d["ticket"] == "T-1"]
    assert "queue general" in cards[0]
    # billing assigns round robin: the re-routed ticket got an agent of its new queue
    assert "queue billing" in cards[-1] and "priority urgent" in cards[-1]
    assert "assignee —" not in cards[-1]
