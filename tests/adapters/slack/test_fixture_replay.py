"""Every payload in ../shared/fixtures/slack_payloads/ through the deskbot Slack app, both ways.

Expected answers: 200 for everything this app listens to (all Events API deliveries, including
events it ignores, so Slack never retries them; url_verification with its challenge); bolt's
404 "unhandled request" for interactive payloads that belong to no listener of this app (their
callback/action ids are other apps'). Nothing may log an error.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from storage import tables as t
from tests.adapters.slack.conftest import SECRET, running
from tests.fakes.slack_driver import SlackDriver

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "slack_payloads"
NOT_OURS = 404  # bolt: {"error": "unhandled request"}
EXPECTED = {
    "block_actions__body.json": NOT_OURS,  # action_id "a"
    "events__app_mention_body.json": 200,
    "events__reaction_added_body.json": 200,
    "events_shared_channels__app_mention_body.json": 200,
    "events_shared_channels__reaction_added_body.json": 200,
    "events_url_verification__event_body.json": 200,
    "message__message_body.json": 200,
    "message__message_body2.json": 200,
    "message__message_body3.json": 200,
    "message_bot__bot_message_event_payload.json": 200,
    "message_bot__classic_bot_message_event_payload.json": 200,
    "message_bot__user_message_event_payload.json": 200,
    "shortcut__global_shortcut_body.json": NOT_OURS,  # callback_id "test-shortcut"
    "shortcut__message_shortcut_body.json": NOT_OURS,
    "slash_command__slash_command_body.txt": NOT_OURS,  # command /hello-world
    "view_closed__body.json": NOT_OURS,  # callback_id "view-id"
    "view_submission__body.json": NOT_OURS,
    "view_submission__connect_channel_payload.json": NOT_OURS,
    "view_submission__response_url_payload_body.json": NOT_OURS,
}


def test_every_fixture_has_an_expectation() -> None:
    names = {p.name for p in FIXTURES.iterdir() if p.name != "SOURCE.txt"}
    assert names == set(EXPECTED)


async def test_replay_all_fixtures(sqlite_copy: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with running(sqlite_copy, slack_support_channels="C0HELP C111") as env:
        env.slack.add_user("primary-owner", id="W111")
        env.slack.add_user("someone", id="W222")
        env.slack.add_channel("test-channel", id="C111", members=["W111", "W222"])
        assert env.adapter.url is not None
        async with SlackDriver(env.adapter.url, SECRET, slack=env.slack) as http:
            for transport in (env.driver, http):
                for name, status in sorted(EXPECTED.items()):
                    env.adapter.recent_events = type(env.adapter.recent_events)()
                    raw = (FIXTURES / name).read_text()
                    res = await transport.send_payload(
                        raw if name.endswith(".txt") else json.loads(raw)
                    )
                    assert res.status == status, (name, transport, res)
                    if name.startswith("events_url_verification"):
                        assert res.json() == {"challenge": json.loads(raw)["challenge"]}
                await env.quiet()
        # the human messages opened tickets, once each (three fixtures share one ts)
        tickets = await env.rows(t.tickets)
        assert sorted(tk.subject for tk in tickets) == [
            "Hello World!",
            "Hi there! Thanks for sharing the info!",
        ]
        assert len(await env.rows(t.messages)) == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
