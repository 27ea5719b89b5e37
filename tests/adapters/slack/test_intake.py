"""Intake: support channel messages and threads, DMs, bots ignored, retries recorded once."""

from __future__ import annotations

import logging

import pytest

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, DAVE, HELP, TRIAGE, SlackEnv


async def test_top_level_message_opens_ticket_with_ack_in_thread(env: SlackEnv) -> None:
    root = await env.say(ALICE, "My *printer* is on fire <!channel>")
    await env.quiet()
    [ack] = env.slack.messages(HELP, root.ts)
    assert "T-1" in ack.text and "4 hours" in ack.text  # ref and expected response time
    assert "<!channel>" not in ack.text and "@channel" in ack.text  # a name, not a ping
    [ticket] = await env.rows(t.tickets)
    assert ticket.conversation_key == f"slack:{HELP}:{root.ts}" and ticket.origin == "slack"
    [message] = await env.rows(t.messages)
    assert message.external_id == f"{HELP}:{root.ts}" and message.platform == "slack"
    assert message.text == "My **printer** is on fire @channel"  # mrkdwn -> deskbot markdown
    [card] = env.cards()
    assert card.blocks is not None and card.blocks[0]["text"]["text"].startswith("T-1 · My printer")


async def test_thread_replies_join_the_ticket_and_agents_reply_publicly(env: SlackEnv) -> None:
    root = await env.say(ALICE, "VPN is down")
    await env.quiet()
    await env.say(ALICE, "still down, error 809", thread_ts=root.ts)
    await env.say(BOB, "On it — try reconnecting", thread_ts=root.ts)
    await env.quiet()
    [ticket] = await env.rows(t.tickets)
    messages = await env.rows(t.messages)
    assert [(m.author_kind, m.visibility) for m in messages] == [
        ("customer", "public"),
        ("customer", "public"),
        ("agent", "public"),
    ]
    assert ticket.first_response_at is not None and ticket.status == "open"
    # the agent's own message is the reply: nothing is re-posted into the thread
    assert len(env.slack.messages(HELP, root.ts)) == 3  # ack + 2 human replies
    assert len(env.cards()) == 1


async def test_retries_and_duplicate_event_ids_record_one_message(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Disk full", event_id="Ev1")
    event = {
        "type": "message",
        "channel": HELP,
        "user": ALICE,
        "text": "Disk full",
        "ts": root.ts,
        "channel_type": "channel",
    }
    for retry in (1, 2, 3):  # Slack's redeliveries: same event_id, retry headers
        assert (await env.driver.event(event, event_id="Ev1", retry_num=retry)).status == 200
    # the same message delivered under another event id (e.g. by a second worker's retry)
    assert (await env.driver.event(event, event_id="Ev2")).status == 200
    await env.quiet()
    assert len(await env.rows(t.messages)) == 1
    assert len(await env.rows(t.tickets)) == 1
    assert len(env.slack.messages(HELP, root.ts)) == 1  # one ack
    assert len(env.cards()) == 1


async def test_bot_messages_never_open_tickets(env: SlackEnv) -> None:
    other_bot = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0OTHER",
        "channel": HELP,
        "text": "Deploy finished",
        "ts": "1700000000.000100",
        "channel_type": "channel",
    }
    app_bot = {**other_bot, "subtype": None, "user": "U0APPBOT", "ts": "1700000000.000200"}
    own = {**other_bot, "bot_id": env.slack.bot_id, "ts": "1700000000.000300"}
    joined = {**other_bot, "subtype": "channel_join", "user": DAVE, "bot_id": None}
    for event in (other_bot, app_bot, own, joined):
        assert (await env.driver.event(event)).status == 200
    await env.quiet()
    assert await env.rows(t.tickets) == []
    assert env.slack.calls_to("chat.postMessage") == []


async def test_direct_message_opens_ticket_and_is_relayed_to_agents(env: SlackEnv) -> None:
    dm = env.slack.dm_channel(DAVE)
    await env.say(DAVE, "Can I get an invoice copy?", channel=dm.id, channel_type="im")
    await env.quiet()
    [ack] = env.slack.messages(dm.id)[1:]
    assert "T-1" in ack.text
    [ticket] = await env.rows(t.tickets)
    assert ticket.conversation_key == f"slack:{dm.id}:"
    # agents cannot read the DM: the message is relayed to the triage side
    relayed = [m.text for m in env.slack.messages(TRIAGE) if "invoice copy" in m.text]
    assert relayed
    await env.say(DAVE, "for March please", channel=dm.id, channel_type="im")
    await env.quiet()
    [card] = env.cards()
    assert any("for March" in text for text in env.thread(TRIAGE, card.ts))
    assert len(await env.rows(t.tickets)) == 1


async def test_agent_top_level_message_in_support_channel_is_not_a_ticket(
    env: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await env.say(BOB, "Reminder: maintenance tonight")
    await env.quiet()
    assert await env.rows(t.tickets) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # refused, not failed


async def test_files_are_kept_on_the_ticket(env: SlackEnv) -> None:
    files = [
        {
            "id": "F1",
            "name": "screenshot.png",
            "mimetype": "image/png",
            "size": 2048,
            "url_private": "https://files.slack.com/files-pri/T0TEAM-F1/screenshot.png",
            "permalink": "https://example.slack.com/files/U0ALICE/F1/screenshot.png",
        }
    ]
    await env.say(ALICE, "", files=files)
    await env.quiet()
    [message] = await env.rows(t.messages)
    assert message.text == "📎 screenshot.png"
    assert message.attachments == [
        {
            "filename": "screenshot.png",
            "content_type": "image/png",
            "size": 2048,
            "url": "https://example.slack.com/files/U0ALICE/F1/screenshot.png",
            "md5": None,
            "link": None,  # set beside a kept copy (DESKBOT_SLACK_DOWNLOAD_DIR); off here
        }
    ]
