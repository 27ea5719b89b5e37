"""Pure pieces: payload translation, command text, Block Kit rendering within Slack's limits."""

from __future__ import annotations

from adapters.slack import render
from adapters.slack.config import SlackConfig
from adapters.slack.translate import (
    command_text,
    event_kind,
    mention_command,
    message_id,
    place_of,
)
from bot.domain.refs import RefFormat
from tests.fakes.slack_api import block_errors

CFG = SlackConfig(
    bot_token="x", support_channels=frozenset({"C1"}), triage_default="G1", mode="http"
)
NAMES = {"U1": "bob"}.get
IS_REF = RefFormat().is_ref


def test_places() -> None:
    top = place_of("C1", "1.1", None, "channel", CFG)
    assert (top.kind, top.top_level, top.conversation.key) == ("support", True, "slack:C1:1.1")
    reply = place_of("C1", "1.2", "1.1", "channel", CFG)
    assert (reply.top_level, reply.conversation.key) == (False, "slack:C1:1.1")
    note = place_of("G1", "2.2", "2.1", None, CFG)
    assert note.internal and note.conversation.key == "slack:G1:2.1"
    dm = place_of("D9", "3.3", "3.1", "im", CFG)
    assert (dm.kind, dm.conversation.key) == ("dm", "slack:D9:")
    assert place_of("C7", "4.4", None, "channel", CFG).kind == "other"
    assert message_id("C1", "1.1") == "C1:1.1"


def test_event_kinds() -> None:
    assert event_kind({"type": "message", "user": "U1", "text": "hi"}) == "new"
    assert event_kind({"subtype": "file_share", "user": "U1"}) == "new"
    assert event_kind({"subtype": "thread_broadcast", "user": "U1"}) == "new"
    assert event_kind({"subtype": "bot_message", "bot_id": "B1"}) == "ignore"
    assert event_kind({"user": "U1", "bot_id": "B1"}) == "ignore"  # an app posting as a bot
    assert event_kind({"subtype": "channel_join", "user": "U1"}) == "ignore"
    edit = {"subtype": "message_changed", "message": {"user": "U1", "text": "b"}}
    assert event_kind({**edit, "previous_message": {"text": "a"}}) == "edit"
    assert event_kind({**edit, "previous_message": {"text": "b"}}) == "ignore"  # unfurl
    gone = {"subtype": "message_deleted", "previous_message": {"user": "U1"}}
    assert event_kind(gone) == "delete"


def test_command_text_keeps_ids_for_the_table_and_converts_free_text() -> None:
    assert command_text("assign T-3 <@U1|bob>", NAMES, IS_REF) == "assign T-3 <@U1>"
    assert command_text("priority T-3 high", NAMES, IS_REF) == "priority T-3 high"
    reply = command_text("reply T-3 *thanks* <@U1> &lt;x&gt;\nbye", NAMES, IS_REF)
    assert reply == "reply T-3 **thanks** @bob <x>\nbye"
    assert command_text("note  see   *log*", NAMES, IS_REF) == "note see   **log**"
    assert command_text("canned add hi Hello *there*", NAMES, IS_REF) == (
        "canned add hi Hello **there**"
    )
    assert command_text("close", NAMES, IS_REF) == "close"


def test_mention_commands() -> None:
    assert mention_command("<@UBOT> claim", "UBOT") == "claim"
    assert mention_command("<@UBOT|deskbot>: reply hi", "UBOT") == "reply hi"
    assert mention_command("<@UBOT> my printer broke", "UBOT") is None
    assert mention_command("hello <@UBOT> claim", "UBOT") is None
    assert mention_command("<@UOTHER> claim", "UBOT") is None


def test_long_bodies_split_within_block_kit_limits() -> None:
    body = "\n\n".join(f"paragraph {n} " + "x&<y> " * 120 for n in range(60))
    messages = render.messages(body)
    assert len(messages) > 1
    for fallback, blocks in messages:
        assert block_errors(blocks, "/blocks", render.MESSAGE_BLOCKS) == []
        assert len(fallback) <= render.FALLBACK_TEXT and "<y>" not in fallback


def test_card_is_valid_block_kit_and_escapes_user_text() -> None:
    fields = {
        "ref": "T-7",
        "subject": "x" * 500 + " <!here>",
        "customer": "Eve <@U1>",
        "channel": "slack",
        "status": "open",
        "priority": "high",
        "assignee": "bob",
        "queue": "billing",
        "tags": ["vip", "<!channel>"],
        "sla_due": "2026-03-02T09:00:00+00:00",
        "sla_target": "first response",
        "sla_state": "at_risk",
        "failed_deliveries": 2,
        "waiting": "no agent available",
        "articles": [{"id": 1, "title": "Reset <your> password"}],
        "rating": 4,
    }
    text, blocks = render.card(fields)
    assert block_errors(blocks, "/blocks", render.MESSAGE_BLOCKS) == []
    flat = str(blocks) + text
    assert "<!here>" not in flat and "<!channel>" not in flat and "<@U1>" not in flat
    assert "<!date^1772442000^{date_short_pretty} {time}|2026-03-02T09:00 UTC>" in flat
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == "deskbot:T-7"
    _, closed = render.card({**fields, "status": "closed"})
    assert all(b["type"] != "actions" for b in closed)


def test_status_emoji() -> None:
    assert render.status_emoji("new", None) is None
    assert render.status_emoji("open", "bob") == "eyes"
    assert render.status_emoji("pending", "bob") == "hourglass_flowing_sand"
    assert render.status_emoji("resolved", None) == "white_check_mark"
    assert render.status_emoji("closed", "bob") == "white_check_mark"
