"""Canned-answer templates and ticket references."""

from __future__ import annotations

import pytest

from bot.domain import canned
from bot.domain.durations import humanize, parse_duration
from bot.domain.errors import InvalidTemplate
from bot.domain.refs import RefFormat


def test_unknown_placeholder_is_refused_at_save_time() -> None:
    with pytest.raises(InvalidTemplate, match=r"\{customer_nmae\}"):
        canned.validate("Hi {customer_nmae}")
    with pytest.raises(InvalidTemplate):
        canned.validate("Hi {customer_name")
    with pytest.raises(InvalidTemplate):
        canned.validate("Hi {customer_name!r}")


def test_render_fills_every_placeholder_and_never_leaves_blanks() -> None:
    text = canned.render(
        "Hi {customer_name}, {agent_name} on {ticket_ref}",
        {"customer_name": "Alice", "agent_name": "Bob", "ticket_ref": "T-3"},
    )
    assert text == "Hi Alice, Bob on T-3"
    with pytest.raises(InvalidTemplate, match="No value for ticket_ref"):
        canned.render("{ticket_ref}", {})


def test_refs_with_prefix() -> None:
    refs = RefFormat("HD-")
    assert refs.format(12) == "HD-12"
    assert refs.parse("HD-12") == 12 and refs.parse("hd-12") == 12 and refs.parse("#12") == 12
    assert refs.parse("12") is None and refs.parse("T-12") is None
    assert refs.is_ref("HD-7") and not refs.is_ref("urgent")


def test_durations() -> None:
    assert parse_duration("1h30m").total_seconds() == 5400
    assert humanize(parse_duration("4h")) == "4 hours"
    assert humanize(parse_duration("1d2h")) == "1 day 2 hours"
    with pytest.raises(ValueError):
        parse_duration("soon")
