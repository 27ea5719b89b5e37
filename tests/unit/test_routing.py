"""The routing rule engine: parsing, every condition, ordering, stop, and broken rules."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.domain.routing import (
    Facts,
    Rule,
    RuleError,
    evaluate,
    matches,
    parse_command,
    parse_rule,
    parse_rules,
)

MONDAY_10_UTC = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 11:00 in Zagreb


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {
        "platform": "slack",
        "conversation": "slack:C0SUPPORT:1700000000.1",
        "subject": "Invoice is wrong",
        "body": "Hello, my invoice #1234 shows the wrong VAT.",
        "customer_email": "ana@acme.example",
        "customer_tier": "gold",
        "customer_tags": ("vip",),
        "language": "hr-HR",
        "at": MONDAY_10_UTC,
    }
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def rule(when: dict[str, object], then: dict[str, object] | None = None, name: str = "r") -> Rule:
    return parse_rule({"name": name, "when": when, "then": then or {"queue": "q"}})


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({}, True),
        ({"platform": "slack"}, True),
        ({"platform": ["email", "discord"]}, False),
        ({"channel": "C0SUPPORT"}, True),
        ({"channel": "C0OTHER"}, False),
        ({"conversation": "slack:C0SUPPORT:*"}, True),
        ({"conversation": "email:*"}, False),
        ({"customer_domain": "ACME.example"}, True),
        ({"customer_domain": "other.example"}, False),
        ({"customer_tier": ["gold", "platinum"]}, True),
        ({"customer_tier": "bronze"}, False),
        ({"customer_tag": "vip"}, True),
        ({"customer_tag": "churn-risk"}, False),
        ({"keywords": ["refund", "invoice"]}, True),
        ({"keywords": "invoic"}, False),  # whole words only
        ({"keywords": "wrong vat"}, True),  # phrases
        ({"subject_keywords": "vat"}, False),  # only in the body
        ({"subject_keywords": "INVOICE"}, True),
        ({"regex": r"#\d{4}\b"}, True),
        ({"regex": [r"order \d+", r"VAT"]}, True),
        ({"regex": r"order \d+"}, False),
        ({"subject_regex": r"^Invoice"}, True),
        ({"subject_regex": r"#\d+"}, False),
        ({"language": "hr"}, True),
        ({"language": ["sl", "pl"]}, False),
        ({"hours": {"mon-fri": ["09:00-17:00"]}, "timezone": "Europe/Zagreb"}, True),
        ({"hours": "12:00-13:00", "timezone": "Europe/Zagreb"}, False),
        ({"outside_hours": {"mon-fri": ["09:00-17:00"]}, "timezone": "Europe/Zagreb"}, False),
        ({"outside_hours": {"sat-sun": ["00:00-24:00"]}}, True),
        ({"platform": "slack", "keywords": "invoice", "customer_tier": "gold"}, True),
        ({"platform": "slack", "keywords": "printer"}, False),  # all conditions must hold
    ],
)
def test_each_condition(when: dict[str, object], expected: bool) -> None:
    assert matches(rule(when), facts()) is expected


def test_mailbox_only_matches_email() -> None:
    r = rule({"mailbox": "billing@acme.example"})
    mail = facts(platform="email", conversation="email:billing@acme.example:<a@b>")
    assert matches(r, mail)
    assert not matches(r, facts(conversation="slack:billing@acme.example:"))


def test_missing_customer_facts_do_not_match() -> None:
    bare = facts(customer_email=None, customer_tier=None, customer_tags=(), language=None)
    for when in ({"customer_domain": "acme.example"}, {"customer_tier": "gold"},
                 {"customer_tag": "vip"}, {"language": "hr"}):  # fmt: skip
        assert not matches(rule(when), bare)


def test_rules_apply_in_order_later_override_tags_add_up_and_stop_halts() -> None:
    rules, problems = parse_rules(
        [
            {"name": "billing", "when": {"keywords": "invoice"},
             "then": {"queue": "billing", "priority": "high", "tags": ["billing"]}},
            {"name": "vip", "when": {"customer_tag": "vip"},
             "then": {"priority": "urgent", "tags": ["vip", "billing"], "sla": "gold",
                      "assign": "bob", "reply": "vat-faq", "stop": True}},
            {"name": "never", "when": {}, "then": {"queue": "general"}},
        ]
    )  # fmt: skip
    assert problems == []
    d = evaluate(rules, facts())
    assert d.rules == ["billing", "vip"]
    assert (d.queue, d.priority, d.sla, d.assign) == ("billing", "urgent", "gold", "bob")
    assert d.tags == ["billing", "vip"] and d.replies == ["vat-faq"]


def test_no_match_is_an_empty_decision() -> None:
    rules, _ = parse_rules([{"name": "x", "when": {"keywords": "printer"}, "then": {"queue": "t"}}])
    d = evaluate(rules, facts())
    assert d.empty and d.queue is None and d.tags == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"when": {}, "then": {"queue": "q"}}, "needs a name"),
        ({"name": "a", "when": {"colour": "red"}, "then": {"queue": "q"}}, "unknown condition"),
        ({"name": "a", "when": {}, "then": {"paint": "red"}}, "unknown action"),
        ({"name": "a", "when": {}, "then": {}}, "no actions"),
        ({"name": "a", "when": {"regex": "(unclosed"}, "then": {"queue": "q"}}, "regular expr"),
        ({"name": "a", "when": {}, "then": {"priority": "extreme"}}, "priority must be"),
        ({"name": "a", "when": {"hours": "25:00-26:00"}, "then": {"queue": "q"}}, "bad time"),
        ({"name": "a", "when": {"hours": "9-5"}, "then": {"queue": "q"}}, "HH:MM"),
        ({"name": "a", "when": {"keywords": 7}, "then": {"queue": "q"}}, "string"),
        ({"name": "a", "if": {}, "then": {"queue": "q"}}, "use name, when"),
    ],
)
def test_broken_definitions_are_refused_with_a_reason(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rule(data)


def test_broken_rules_are_skipped_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    rules, problems = parse_rules(
        [
            {"name": "bad", "when": {"regex": "("}, "then": {"queue": "q"}},
            {"name": "good", "when": {"keywords": "invoice"}, "then": {"queue": "billing"}},
        ]
    )
    assert [r.name for r in rules] == ["good"]
    assert len(problems) == 1 and "bad" in problems[0]
    assert "routing rule skipped" in caplog.text


def test_a_rule_that_fails_to_evaluate_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # bypass validation, as a rule stored by an older version might: evaluation raises
    broken = Rule("broken", {"keywords": 42}, {"queue": "nowhere"})
    good = rule({"keywords": "invoice"}, {"queue": "billing"}, name="good")
    caplog.set_level(logging.ERROR)
    d = evaluate([broken, good], facts())
    assert d.rules == ["good"] and d.queue == "billing"
    assert "broken" in caplog.text and "skipped" in caplog.text


def test_parse_command_builds_a_rule() -> None:
    data = parse_command(
        "refunds when keywords:refund,chargeback platform:email hours:09:00-17:00 "
        "then queue:billing priority:high tag:money tag:refund sla:gold stop:yes"
    )
    assert data == {
        "name": "refunds",
        "when": {
            "keywords": ["refund", "chargeback"],
            "platform": ["email"],
            "hours": "09:00-17:00",
        },
        "then": {
            "queue": "billing",
            "priority": "high",
            "tags": ["money", "refund"],
            "sla": "gold",
            "stop": True,
        },
    }
    r = parse_rule(data, source="command")
    assert "refunds (command): when keywords:refund,chargeback" in r.describe()
    with pytest.raises(RuleError):
        parse_command("x when keywords")
    with pytest.raises(RuleError):
        parse_command("")
