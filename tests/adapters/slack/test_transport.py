"""HTTP mode (signatures checked) and Socket Mode (a real WebSocket to the fake), from settings."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import ClientSession

from adapters.slack import SlackAdapter
from bot.bootstrap import build_app, platform_adapters
from storage import tables as t
from tests.adapters.slack.conftest import (
    ALICE,
    BOB,
    HELP,
    SECRET,
    TRIAGE,
    SlackEnv,
    eventually,
    slack_settings,
    workspace,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver


async def test_http_mode_verifies_signatures(env: SlackEnv) -> None:
    assert env.adapter.url is not None and env.adapter.url.startswith("http://127.0.0.1:")
    async with SlackDriver(env.adapter.url, SECRET, slack=env.slack) as http:
        forged = await http.slash_command("/ticket", "help", BOB, TRIAGE, forge=True)
        stale = await http.slash_command("/ticket", "help", BOB, TRIAGE, stale=True)
        assert (forged.status, stale.status) == (401, 401)
        event = {"type": "message", "channel": HELP, "user": ALICE, "text": "hi", "ts": "1.000001"}
        assert (await http.event(event, forge=True)).status == 401
        ok = await http.slash_command("/ticket", "help", BOB, TRIAGE)
        assert ok.status == 200
        challenge = await http.send_payload(
            {"type": "url_verification", "token": "x", "challenge": "c-123"}
        )
        assert challenge.json() == {"challenge": "c-123"}
        limited = {"type": "app_rate_limited", "token": "x", "team_id": "T0TEAM",
                   "minute_rate_limited": 1518467820, "api_app_id": "A0APP"}  # fmt: skip
        assert (await http.send_payload(limited)).status == 200
    await env.quiet()
    assert len(env.slack.response_posts()) == 1  # only the signed command ran
    assert await env.rows(t.tickets) == []
    async with ClientSession() as session:
        health = env.adapter.url.rsplit("/slack/events", 1)[0] + "/healthz"
        async with session.get(health) as res:
            assert (res.status, await res.text()) == (200, "ok")


async def test_socket_mode_runs_from_settings(sqlite_copy: str) -> None:
    async with FakeSlack() as slack:
        workspace(slack)
        settings = slack_settings(
            slack,
            sqlite_copy,
            slack_mode="socket",
            slack_app_token="xapp-test-token",
            slack_signing_secret=None,
        )
        [adapter] = platform_adapters(settings)  # what `deskbot run` builds
        assert isinstance(adapter, SlackAdapter) and adapter.cfg.mode == "socket"
        app = await build_app(settings, adapters=[adapter])
        await app.start()
        try:
            await eventually(lambda: bool(slack.sockets))
            assert [c.method for c in slack.calls if c.method.startswith("apps.")] == [
                "apps.connections.open"
            ]
            root = slack.add_message(HELP, "Socket mode works?", user=ALICE)
            event: dict[str, Any] = {
                "type": "message",
                "channel": HELP,
                "user": ALICE,
                "text": root.text,
                "ts": root.ts,
                "channel_type": "channel",
            }
            envelope = {
                "type": "event_callback",
                "team_id": slack.team_id,
                "api_app_id": slack.app_id,
                "event": event,
                "event_id": "EvSOCK1",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": slack.team_id, "user_id": slack.bot_user_id}],
            }
            await slack.socket_send("events_api", envelope)
            await eventually(lambda: len(slack.messages(HELP, root.ts)) == 1)
            assert "T-1" in slack.messages(HELP, root.ts)[0].text
            command = {
                "command": "/ticket",
                "text": "claim T-1",
                "user_id": BOB,
                "user_name": "bob",
                "channel_id": TRIAGE,
                "team_id": slack.team_id,
                "api_app_id": slack.app_id,
                "response_url": slack.new_response_url(),
                "trigger_id": slack.issue_trigger_id(user_id=BOB),
            }
            started = time.monotonic()
            ack = await slack.socket_send("slash_commands", command)
            assert time.monotonic() - started < 1.0 and ack["envelope_id"]
            await eventually(lambda: len(slack.response_posts()) == 1)
            assert slack.response_posts()[0].body["text"] == "You claimed T-1: Socket mode works?"
        finally:
            await app.stop()


async def test_settings_are_checked_at_construction(tmp_path: Any) -> None:
    fake = FakeSlack()
    fake.base_url = "http://127.0.0.1:9/api/"
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ValueError, match="SIGNING_SECRET"):
        SlackAdapter(slack_settings(fake, db, slack_signing_secret=None))
    with pytest.raises(ValueError, match="APP_TOKEN"):
        SlackAdapter(slack_settings(fake, db, slack_mode="socket"))
    with pytest.raises(ValueError, match="socket or http"):
        SlackAdapter(slack_settings(fake, db, slack_mode="carrier-pigeon"))
    adapter = SlackAdapter(slack_settings(fake, db, slack_mode="socket", slack_app_token="xapp-1"))
    handler = adapter.socket_handler()
    assert handler.app_token == "xapp-1" and handler.app is adapter.bolt
    await handler.client.close()
    assert str(adapter.client.base_url) == "http://127.0.0.1:9/api/"
    kinds = sorted(type(h).__name__ for h in adapter.client.retry_handlers)
    assert kinds == ["AsyncConnectionErrorRetryHandler", "AsyncRateLimitErrorRetryHandler"]
