"""Prove the Slack fake and driver against the REAL slack_sdk AsyncWebClient and bolt AsyncApp."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from slack_bolt.async_app import AsyncApp
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver, encode_payload

SECRET = "test-signing-secret"
FIXTURES = Path("/work/shared/fixtures/slack_payloads")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def client(slack: FakeSlack, *handlers: AsyncRetryHandler, token: str = "xoxb-test-token") -> Any:
    """A real AsyncWebClient on the fake; no handlers given = slack_sdk's defaults."""
    if handlers:
        return AsyncWebClient(token=token, base_url=slack.base_url, retry_handlers=list(handlers))
    return AsyncWebClient(token=token, base_url=slack.base_url)


async def api_error(coro: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "New ticket", blocks: int = 1) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "new_ticket",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("x")] * blocks,
    }


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    """Wait for work bolt runs after ack (listeners continue once the answer is sent)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_card_posted_once_updated_and_reacted(slack: FakeSlack) -> None:
    triage = slack.add_channel("triage", private=True)
    c = client(slack)
    posted = await c.chat_postMessage(channel=triage.id, text="T-1 open", blocks=[section("open")])
    ts = posted["ts"]
    assert posted["message"]["bot_id"] == slack.bot_id
    for state in ("claimed", "waiting", "solved"):
        await c.chat_update(channel=triage.id, ts=ts, text=f"T-1 {state}")
    await c.reactions_add(channel=triage.id, timestamp=ts, name="ticket")
    assert (
        await api_error(c.reactions_add(channel=triage.id, timestamp=ts, name="ticket"))
    ).response["error"] == "already_reacted"
    note = await c.chat_postMessage(channel=triage.id, thread_ts=ts, text="internal note")

    [card] = slack.messages(triage.id)
    assert (card.text, card.updates, card.blocks) == ("T-1 solved", 3, [section("open")])
    assert card.reactions == {"ticket": [slack.bot_user_id]}
    assert [m.ts for m in slack.messages(triage.id, thread_ts=ts)] == [note["ts"]]
    link = await c.chat_getPermalink(channel=triage.id, message_ts=note["ts"])
    assert link["permalink"].endswith(f"?thread_ts={ts}&cid={triage.id}")

    await c.reactions_remove(channel=triage.id, timestamp=ts, name="ticket")
    assert (
        await api_error(c.reactions_remove(channel=triage.id, timestamp=ts, name="ticket"))
    ).response["error"] == "no_reaction"
    assert (await api_error(c.chat_update(channel=triage.id, ts="1.000001", text="x"))).response[
        "error"
    ] == "message_not_found"
    human = slack.add_message(triage.id, "printer on fire", user=slack.add_user("alice").id)
    assert (await api_error(c.chat_update(channel=triage.id, ts=human.ts, text="x"))).response[
        "error"
    ] == "cant_update_message"
    await c.chat_postMessage(channel=triage.id, thread_ts="999.000001", text="orphan")
    assert slack.unknown_thread_ts == [(triage.id, "999.000001")]
    assert [c.error for c in slack.calls_to("chat.update")][3:] == [
        "message_not_found",
        "cant_update_message",
    ]


async def test_channel_membership_and_auth(slack: FakeSlack) -> None:
    c = client(slack)
    public = slack.add_channel("general", bot_member=False)
    secret = slack.add_channel("hr", private=True, bot_member=False)
    assert (await api_error(c.chat_postMessage(channel=public.id, text="hi"))).response[
        "error"
    ] == "not_in_channel"
    for ref in (secret.id, "C_NOPE"):
        assert (await api_error(c.chat_postMessage(channel=ref, text="hi"))).response[
            "error"
        ] == "channel_not_found"
    await c.conversations_join(channel=public.id)
    assert (await c.chat_postMessage(channel="#general", text="hi"))["channel"] == public.id
    assert (await api_error(client(slack, token="xoxb-wrong").auth_test())).response[
        "error"
    ] == "invalid_auth"
    assert (await api_error(AsyncWebClient(base_url=slack.base_url).auth_test())).response[
        "error"
    ] == "not_authed"
    auth = await c.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("U0BOT", "B0BOT", "T0TEAM")


async def test_form_and_json_bodies_and_token_placement(slack: FakeSlack) -> None:
    chan = slack.add_channel("help")
    url = slack.base_url + "chat.postMessage"
    blocks = json.dumps([section("from a form")])
    async with ClientSession() as http:
        form = {"token": "xoxb-test-token", "channel": chan.id, "text": "f", "blocks": blocks}
        async with http.post(url, data=form) as r:
            assert (await r.json())["ok"] is True
        body = {"token": "xoxb-test-token", "channel": chan.id, "text": "j"}
        async with http.post(url, json=body) as r:  # Slack ignores a token inside JSON
            assert (await r.json())["error"] == "not_authed"
        auth = {"Authorization": "Bearer xoxb-test-token"}
        async with http.post(url, json={"channel": chan.id, "text": "j"}, headers=auth) as r:
            assert (await r.json())["ok"] is True
    assert [m.text for m in slack.messages(chan.id)] == ["f", "j"]
    assert slack.messages(chan.id)[0].blocks == [section("from a form")]
    assert "token" not in slack.calls_to("chat.postMessage")[0].args


async def test_block_kit_and_text_limits(slack: FakeSlack) -> None:
    slack.set_rate_limit("chat.postMessage", None)  # rejected posts count against the bucket too
    chan = slack.add_channel("help")
    c = client(slack)
    too_many = await api_error(
        c.chat_postMessage(channel=chan.id, text="t", blocks=[section("x")] * 51)
    )
    assert too_many.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in too_many.response["response_metadata"]["messages"][0]
    long_section = await api_error(
        c.chat_postMessage(channel=chan.id, text="t", blocks=[section("x" * 3001)])
    )
    assert long_section.response["error"] == "invalid_blocks"
    await c.chat_postMessage(channel=chan.id, text="fits", blocks=[section("x" * 3000)] * 50)

    long = await c.chat_postMessage(channel=chan.id, text="y" * 40_001)
    assert long["warning"] == "message_truncated"
    assert len(slack.message(chan.id, long["ts"]).text) == 40_000
    assert (
        await api_error(c.chat_update(channel=chan.id, ts=long["ts"], text="y" * 40_001))
    ).response["error"] == "msg_too_long"

    user = slack.add_user("agent")
    await c.views_open(trigger_id=slack.issue_trigger_id(), view=modal(blocks=100))
    for bad in (modal(blocks=101), modal(title="x" * 25)):
        err = await api_error(c.views_open(trigger_id=slack.issue_trigger_id(), view=bad))
        assert err.response["error"] == "invalid_arguments"
    home = {"type": "home", "blocks": [section("x")] * 101}
    assert (await api_error(c.views_publish(user_id=user.id, view=home))).response[
        "error"
    ] == "invalid_arguments"


async def test_429_is_not_retried_by_default(slack: FakeSlack) -> None:
    chan = slack.add_channel("help")
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    err = await api_error(client(slack).chat_postMessage(channel=chan.id, text="hi"))
    assert (err.response.status_code, err.response["error"]) == (429, "ratelimited")
    assert err.response.headers["Retry-After"] == "1"
    assert len(slack.calls_to("chat.postMessage")) == 1 and slack.messages(chan.id) == []


async def test_429_retry_handler_honours_retry_after(slack: FakeSlack) -> None:
    chan = slack.add_channel("help")
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    c = client(slack, AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    started = time.monotonic()
    await c.chat_postMessage(channel=chan.id, text="hi")
    calls = slack.calls_to("chat.postMessage")
    assert time.monotonic() - started >= 1.0
    assert [call.status for call in calls] == [429, 200] and calls[1].at - calls[0].at >= 1.0
    assert len(slack.messages(chan.id)) == 1


async def test_token_bucket_per_channel(slack: FakeSlack) -> None:
    a, b = slack.add_channel("a"), slack.add_channel("b")
    c = client(slack)
    for i in range(3):  # default burst
        await c.chat_postMessage(channel=a.id, text=str(i))
    err = await api_error(c.chat_postMessage(channel=a.id, text="burst over"))
    assert err.response.status_code == 429 and err.response.headers["Retry-After"] == "1"
    await c.chat_postMessage(channel=b.id, text="other channel has its own bucket")
    slack.set_rate_limit("chat.postMessage", None)
    for i in range(5):
        await c.chat_postMessage(channel=a.id, text=f"unlimited {i}")


async def test_injected_5xx(slack: FakeSlack) -> None:
    slack.fail_next("users.info", status=500)
    user = slack.add_user("alice", email="alice@example.com")
    err = await api_error(client(slack).users_info(user=user.id))
    assert err.response.status_code == 500
    slack.fail_next("users.info", status=503, times=2)
    retrying = AsyncServerErrorRetryHandler(
        max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
    )
    info = await client(slack, retrying).users_info(user=user.id)
    assert info["user"]["profile"]["email"] == "alice@example.com"
    assert [c.status for c in slack.calls_to("users.info")] == [500, 503, 503, 200]


async def test_directory_lookups(slack: FakeSlack) -> None:
    c = client(slack)
    alice = slack.add_user("alice", email="Alice@Example.com", locale="de-DE", real_name="Alice A")
    ext = slack.add_user("erin", team_id="T0OTHER")
    shared = slack.add_channel("acme-support", members=[alice.id, ext.id], ext_shared=True)
    info = await c.users_info(user=alice.id, include_locale=True)
    assert (info["user"]["locale"], info["user"]["real_name"]) == ("de-DE", "Alice A")
    assert (await c.users_lookupByEmail(email="alice@example.com"))["user"]["id"] == alice.id
    assert (await api_error(c.users_lookupByEmail(email="nobody@example.com"))).response[
        "error"
    ] == "users_not_found"
    assert (await c.conversations_info(channel=shared.id))["channel"]["is_ext_shared"] is True
    page1 = await c.conversations_members(channel=shared.id, limit=2)
    page2 = await c.conversations_members(
        channel=shared.id, limit=2, cursor=page1["response_metadata"]["next_cursor"]
    )
    assert page1["members"] + page2["members"] == [alice.id, ext.id, slack.bot_user_id]
    assert page2["response_metadata"]["next_cursor"] == ""
    dm = await c.conversations_open(users=alice.id)
    assert dm["channel"]["id"].startswith("D")
    await c.chat_postMessage(channel=dm["channel"]["id"], text="your ticket")
    group = slack.add_usergroup("agents", [alice.id])
    assert (await c.usergroups_users_list(usergroup=group))["users"] == [alice.id]
    assert (await api_error(c.usergroups_users_list(usergroup="S_NOPE"))).response[
        "error"
    ] == "no_such_subteam"
    await c.chat_postEphemeral(channel=shared.id, user=ext.id, text="only you")
    assert slack.ephemerals[0].user == ext.id


async def test_views_and_trigger_ids(slack: FakeSlack) -> None:
    c = client(slack)
    user = slack.add_user("agent")
    trigger = slack.issue_trigger_id(user_id=user.id)
    opened = (await c.views_open(trigger_id=trigger, view=modal()))["view"]
    for bad_trigger, error in (
        (trigger, "exchanged_trigger_id"),
        (slack.issue_trigger_id(age=3.5), "expired_trigger_id"),
        ("1.2.forged", "invalid_trigger_id"),
    ):
        err = await api_error(c.views_open(trigger_id=bad_trigger, view=modal()))
        assert err.response["error"] == error
    updated = await c.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert (
        await api_error(c.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    ).response["error"] == "hash_conflict"
    pushed = await c.views_push(trigger_id=slack.issue_trigger_id(user_id=user.id), view=modal())
    assert pushed["view"]["root_view_id"] == opened["id"]
    home = await c.views_publish(user_id=user.id, view={"type": "home", "blocks": []})
    assert home["view"]["type"] == "home" and slack.home_views[user.id].id == home["view"]["id"]
    assert slack.views[opened["id"]].updates == 1 and updated["view"]["title"]["text"] == "Step 2"


async def test_files_upload_v2_end_to_end(slack: FakeSlack) -> None:
    chan = slack.add_channel("help")
    parent = await client(slack).chat_postMessage(channel=chan.id, text="ticket")
    result = await client(slack).files_upload_v2(
        channel=chan.id,
        content=b"log line\n",
        filename="log.txt",
        title="Log",
        initial_comment="attached",
        thread_ts=parent["ts"],
    )
    stored = slack.files[result["file"]["id"]]
    assert (stored.content, stored.title, stored.shared_to) == (b"log line\n", "Log", [chan.id])
    [share] = slack.messages(chan.id, thread_ts=parent["ts"])
    assert share.text == "attached" and share.files and share.files[0]["id"] == stored.id
    assert [c.method for c in slack.calls[1:]] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_files_upload_shape_is_enforced(slack: FakeSlack) -> None:
    chan = slack.add_channel("help")
    other = slack.add_channel("other")
    c = client(slack)
    # the retired one-step upload is refused, as real Slack does since November 2025
    retired = await api_error(c.api_call("files.upload", data={"channels": chan.id}))
    assert retired.response["error"] == "method_deprecated"
    no_length = c.api_call("files.getUploadURLExternal", params={"filename": "a.txt"})
    assert (await api_error(no_length)).response["error"] == "invalid_arguments"
    ticket = await c.files_getUploadURLExternal(filename="a.txt", length=3)
    # completing before the bytes were sent: the file does not exist yet
    not_sent = await api_error(c.files_completeUploadExternal(files=[{"id": ticket["file_id"]}]))
    assert not_sent.response["error"] == "file_not_found"
    for bad in ([], [{"title": "no id"}]):
        err = await api_error(c.files_completeUploadExternal(files=bad))
        assert err.response["error"] == "invalid_arguments"
    parent = await c.chat_postMessage(channel=chan.id, text="ticket")
    await c.files_upload_v2(channel=chan.id, content=b"ok", filename="b.txt")
    two = await api_error(
        c.files_upload_v2(
            channels=[chan.id, other.id], content=b"x", filename="c.txt", thread_ts=parent["ts"]
        )
    )
    assert two.response["error"] == "invalid_arguments"  # a thread lives in one channel


async def test_actions_block_limits(slack: FakeSlack) -> None:
    slack.set_rate_limit("chat.postMessage", None)
    chan = slack.add_channel("help")
    c = client(slack)

    def button(i: int, **kw: Any) -> dict[str, Any]:
        b = {"type": "button", "text": {"type": "plain_text", "text": str(i)}}
        return {**b, "action_id": f"a{i}", "value": "v", **kw}

    def actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "actions", "elements": list(elements)}]

    await c.chat_postMessage(channel=chan.id, text="t", blocks=actions(*map(button, range(25))))
    for bad in (
        actions(*map(button, range(26))),
        actions(),
        actions(button(1), button(1)),  # action_ids repeat
        actions(button(1, text={"type": "plain_text", "text": "x" * 76})),
        actions(button(1, value="v" * 2001)),
        actions(button(1, style="blue")),
    ):
        err = await api_error(c.chat_postMessage(channel=chan.id, text="t", blocks=bad))
        assert err.response["error"] == "invalid_blocks", bad


async def test_response_url_records_and_caps_uses(slack: FakeSlack) -> None:
    url = slack.new_response_url()
    hook = AsyncWebhookClient(url)
    statuses = [(await hook.send(text=f"reply {i}")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert [p.body["text"] for p in slack.response_posts(url)][:2] == ["reply 0", "reply 1"]


# ---------------------------------------------------------------- driver into a real bolt app
def build_app(slack: FakeSlack, seen: dict[str, Any]) -> AsyncApp:
    app = AsyncApp(client=client(slack), signing_secret=SECRET)

    @app.command("/ticket")
    async def ticket(ack: Any, command: dict[str, Any], client: Any, respond: Any) -> None:
        await ack(f"Opening: {command['text']}")
        await client.views_open(trigger_id=command["trigger_id"], view=modal())
        await respond("Ticket T-1 opened")

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"claimed by {body['user']['id']}",
        )

    @app.view("new_ticket")
    async def submit(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen["view"] = (view["state"]["values"], view["private_metadata"])

    @app.shortcut("ticket_from_message")
    async def shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        seen["shortcut"] = shortcut["message"]["text"]

    @app.options("pick_agent")
    async def options(ack: Any, body: dict[str, Any]) -> None:
        await ack(options=[{"text": {"type": "plain_text", "text": body["value"]}, "value": "U1"}])

    @app.event("app_mention")
    async def mention(body: dict[str, Any], context: Any, event: dict[str, Any]) -> None:
        seen.setdefault("mentions", []).append((body["team_id"], context.team_id, event["text"]))

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.setdefault("messages", []).append(event)

    return app


async def test_signed_slash_command_over_http(slack: FakeSlack) -> None:
    slack.add_channel("help", id="C0HELP")
    slack.add_user("alice", id="U0ALICE")
    async with SlackDriver.serve(build_app(slack, {}), SECRET, slack=slack) as driver:
        ok = await driver.slash_command("/ticket", "printer on fire", "U0ALICE", "C0HELP")
        assert (ok.status, ok.body) == (200, "Opening: printer on fire")  # bolt: plain text
        assert ok.elapsed < 1.0
        await eventually(lambda: len(slack.response_posts()) == 1)
        [view] = slack.views.values()
        assert view.user_id == "U0ALICE" and view.payload["callback_id"] == "new_ticket"
        forged = await driver.slash_command("/ticket", "x", "U0ALICE", "C0HELP", forge=True)
        stale = await driver.slash_command("/ticket", "x", "U0ALICE", "C0HELP", stale=True)
        assert (forged.status, stale.status) == (401, 401)
    assert slack.calls_to("views.open")[0].status == 200


async def test_interactive_payloads_reach_their_listeners(slack: FakeSlack) -> None:
    seen: dict[str, Any] = {}
    chan = slack.add_channel("triage")
    agent = slack.add_user("agent")
    driver = SlackDriver(build_app(slack, seen), SECRET, slack=slack)
    card = await client(slack).chat_postMessage(channel=chan.id, text="T-1 open")
    assert (await driver.block_action("claim", "T-1", agent.id, chan.id, card["ts"])).status == 200
    await eventually(lambda: slack.message(chan.id, card["ts"]).updates == 1)
    assert slack.message(chan.id, card["ts"]).text == f"claimed by {agent.id}"

    values = {"subject": {"text": "VPN down"}}
    assert (await driver.view_submission("new_ticket", values, agent.id, "meta")).status == 200
    assert seen["view"] == (
        {"subject": {"text": {"type": "plain_text_input", "value": "VPN down"}}},
        "meta",
    )
    customer = slack.add_message(chan.id, "my laptop is broken", user=agent.id)
    shortcut = await driver.message_shortcut("ticket_from_message", customer, agent.id, chan.id)
    assert shortcut.status == 200 and seen["shortcut"] == "my laptop is broken"
    opts = await driver.options("pick_agent", "ali", user_id=agent.id)
    assert opts.json() == {
        "options": [{"text": {"type": "plain_text", "text": "ali"}, "value": "U1"}]
    }


async def test_events_connect_retries_and_own_messages(slack: FakeSlack) -> None:
    seen: dict[str, Any] = {}
    driver = SlackDriver(build_app(slack, seen), SECRET, slack=slack)
    mention = {
        "type": "app_mention",
        "user": "U0ERIN",
        "text": "<@U0BOT> help",
        "ts": "1700000001.000100",
        "channel": "C0SHARED",
    }
    res = await driver.event(mention, event_id="Ev1", retry_num=1, team_id="T0OTHER")
    assert res.status == 200
    await eventually(lambda: "mentions" in seen)
    assert seen["mentions"] == [("T0OTHER", "T0TEAM", "<@U0BOT> help")]
    own = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": slack.bot_id,
        "text": "card",
        "ts": "1700000002.000100",
        "channel": "C0X",
    }
    human = {
        "type": "message",
        "user": "U0ERIN",
        "text": "hi",
        "ts": "1700000003.000100",
        "channel": "C0X",
        "channel_type": "channel",
    }
    assert (await driver.event(own)).status == 200  # bolt acks, then drops its own bot's message
    assert (await driver.event(human)).status == 200
    await eventually(lambda: len(seen.get("messages", [])) == 1)
    await asyncio.sleep(0.05)
    assert [m["text"] for m in seen["messages"]] == ["hi"]


@pytest.mark.parametrize("transport", ["direct", "http"])
@pytest.mark.parametrize(
    "fixture",
    sorted(
        p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".txt") and p.stem != "SOURCE"
    ),
)
async def test_every_fixture_replays_into_bolt(
    slack: FakeSlack, fixture: str, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = (FIXTURES / fixture).read_text()
    body, _ = encode_payload(raw if fixture.endswith(".txt") else json.loads(raw))
    parsed = AsyncBoltRequest(body=body, headers={"content-type": [_]}).body
    kinds = [
        k
        for k, check in (
            ("event", payload_utils.is_event),
            ("command", payload_utils.is_slash_command),
            ("action", payload_utils.is_action),
            ("view", payload_utils.is_view),
            ("shortcut", payload_utils.is_shortcut),
            ("options", payload_utils.is_options),
        )
        if check(parsed)
    ]
    is_handshake = parsed.get("type") == "url_verification"
    assert len(kinds) == (0 if is_handshake else 1), (fixture, kinds)

    app = AsyncApp(client=client(slack), signing_secret=SECRET)  # no listeners at all
    caplog.set_level(logging.WARNING)
    if transport == "http":
        async with SlackDriver.serve(app, SECRET, slack=slack) as driver:
            res = await driver.send_payload(raw if fixture.endswith(".txt") else json.loads(raw))
    else:
        res = await SlackDriver(app, SECRET, slack=slack).send_payload(
            raw if fixture.endswith(".txt") else json.loads(raw)
        )
    if is_handshake:
        assert (res.status, res.json()) == (200, {"challenge": parsed["challenge"]})
    else:  # real bolt: nothing matched -> 404 {"error": "unhandled request"} + a warning
        assert (res.status, res.json()) == (404, {"error": "unhandled request"})
        assert any("Unhandled request" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_shared_files_are_served_to_the_bot_token_only(slack: FakeSlack) -> None:
    shared = slack.share_file("a b.txt", b"hello", mimetype="text/plain")
    assert shared["size"] == 5 and shared["url_private_download"].endswith("/download/a%20b.txt")
    url = shared["url_private_download"]
    async with ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer xoxb-wrong"},
                        {"Authorization": "Bearer xapp-test-token"}):  # fmt: skip
            async with http.get(url, headers=headers, allow_redirects=False) as res:
                assert res.status == 302 and "/signin" in res.headers["Location"]
            async with http.get(url, headers=headers) as res:  # followed: a web page
                assert res.status == 200 and res.content_type == "text/html"
                assert b"hello" not in await res.read()
        good = {"Authorization": "Bearer xoxb-test-token"}
        for link in (url, shared["url_private"]):
            async with http.get(link, headers=good, allow_redirects=False) as res:
                assert res.status == 200 and await res.read() == b"hello"
        slack.scopes.discard("files:read")
        async with http.get(url, headers=good, allow_redirects=False) as res:
            assert res.status == 302
    assert [c.status for c in slack.calls_to("file_download")] == [302] * 6 + [200, 200, 302]
