"""Auto-assignment choices: round-robin fairness, least-loaded capacity, skills."""

from __future__ import annotations

from collections import Counter

from bot.domain.model import Agent
from bot.services.assignment import Outcome, choose, rotate


def team(n: int = 5, capacity: int = 10_000, **kw: object) -> list[Agent]:
    return [Agent(id=i + 1, name=f"a{i + 1}", capacity=capacity, **kw) for i in range(n)]  # type: ignore[arg-type]


def run(strategy: str, agents: list[Agent], tickets: int, tags: tuple[str, ...] = ()) -> Counter:
    """Assign `tickets` one after another, as the service does: cursor and loads carried on."""
    loads: Counter[int] = Counter()
    cursor = None
    for _ in range(tickets):
        agent = choose(strategy, agents, dict(loads), cursor, tags)
        if agent is None:
            loads[0] += 1  # left in the queue
            continue
        loads[agent.id] += 1
        cursor = agent.id
    return loads


def test_round_robin_1000_tickets_over_5_agents_differ_by_at_most_one() -> None:
    counts = run("round_robin", team(), 1000)
    per_agent = [counts[i] for i in range(1, 6)]
    assert sum(per_agent) == 1000 and counts[0] == 0
    assert max(per_agent) - min(per_agent) <= 1


def test_round_robin_uneven_total_still_fair_and_in_order() -> None:
    agents = team(5)
    order = []
    cursor = None
    for _ in range(7):
        agent = choose("round_robin", agents, {}, cursor)
        assert agent is not None
        order.append(agent.id)
        cursor = agent.id
    assert order == [1, 2, 3, 4, 5, 1, 2]


def test_rotate_starts_after_the_cursor_and_survives_a_removed_agent() -> None:
    agents = team(4)
    assert [a.id for a in rotate(agents, 2)] == [3, 4, 1, 2]
    assert [a.id for a in rotate(agents, 4)] == [1, 2, 3, 4]
    assert [a.id for a in rotate(agents[:2] + agents[3:], 3)] == [4, 1, 2]  # cursor agent gone


def test_least_loaded_respects_capacity() -> None:
    agents = [
        Agent(id=1, name="a", capacity=2),
        Agent(id=2, name="b", capacity=3),
        Agent(id=3, name="c", capacity=1),
    ]
    counts = run("least_loaded", agents, 10)
    assert counts[1] == 2 and counts[2] == 3 and counts[3] == 1
    assert counts[0] == 4  # nobody had room for the rest: they wait in the queue


def test_least_loaded_prefers_the_fewest_open_tickets() -> None:
    agents = team(3)
    chosen = choose("least_loaded", agents, {1: 5, 2: 1, 3: 3}, None)
    assert chosen is not None and chosen.id == 2


def test_least_loaded_ties_rotate_fairly() -> None:
    counts = run("least_loaded", team(5), 1000)
    per_agent = [counts[i] for i in range(1, 6)]
    assert max(per_agent) - min(per_agent) <= 1


def test_round_robin_skips_agents_at_capacity() -> None:
    agents = team(3, capacity=1)
    assert choose("round_robin", agents, {1: 1, 2: 0, 3: 1}, None) == agents[1]
    assert choose("round_robin", agents, {1: 1, 2: 1, 3: 1}, None) is None


def test_skills_need_every_ticket_tag_then_least_loaded() -> None:
    agents = [
        Agent(id=1, name="a", skills=["billing"]),
        Agent(id=2, name="b", skills=["billing", "German"]),
        Agent(id=3, name="c", skills=["billing", "german", "vip"]),
    ]
    chosen = choose("skills", agents, {2: 4, 3: 1}, None, ("billing", "german"))
    assert chosen is not None and chosen.id == 3
    chosen = choose("skills", agents, {2: 0, 3: 1}, None, ("billing", "german"))
    assert chosen is not None and chosen.id == 2
    assert choose("skills", agents, {}, None, ("french",)) is None
    untagged = choose("skills", agents, {1: 2, 2: 1, 3: 0}, None, ())
    assert untagged is not None and untagged.id == 3


def test_outcome_says_when_a_ticket_waits() -> None:
    assert Outcome("round_robin", None).waiting
    assert not Outcome("manual", None).waiting
    assert not Outcome("least_loaded", Agent(id=1, name="a")).waiting


def test_settings_give_working_hours_strategies_profiles_and_webhook_events() -> None:
    from datetime import UTC, datetime

    from bot.config import Settings
    from bot.services.automation_config import automation_from

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        timezone="Europe/Zagreb",
        assign_strategy="least_loaded",
        webhook_urls="http://127.0.0.1:1/a, http://127.0.0.1:2/b",
        webhook_events="created ticket.rated",
    )
    data = {
        "people": [{"name": "Bob", "hours": {"mon-fri": ["09:00-17:00"]}}, {"name": "carol"}],
        "customers": [{"match": "acme.example", "tier": "gold", "tags": ["vip"]}],
        "rules": [{"name": "bad", "when": {"regex": "("}, "then": {"queue": "x"}}],
    }
    cfg = automation_from(settings, data)
    monday_8_utc = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Zagreb
    assert cfg.agent_on_shift("bob", monday_8_utc)
    assert not cfg.agent_on_shift("bob", monday_8_utc.replace(hour=16))  # 17:00 local
    assert cfg.agent_on_shift("carol", monday_8_utc.replace(hour=3))  # no hours: always
    assert cfg.queue_strategy({}) == "least_loaded"
    assert cfg.queue_strategy({"assign": "round_robin"}) == "round_robin"
    assert cfg.queue_strategy({"assign": "bogus"}) == "manual"
    profile = cfg.profile("Ana@ACME.example")
    assert profile is not None and profile.tier == "gold" and profile.tags == ("vip",)
    assert cfg.profile("ana@other.example") is None
    assert cfg.webhook_urls == ("http://127.0.0.1:1/a", "http://127.0.0.1:2/b")
    assert cfg.webhook_events == {"ticket.created", "ticket.rated"}
    assert cfg.rules == [] and "bad" in cfg.rule_problems[0]
