"""Slash commands from the command table, /report routing, 3-second acks, mentions, roles."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot import commands as table
from bot.domain.model import Role
from bot.messages import Reply
from storage import tables as t
from tests.adapters.slack.conftest import (
    ALICE,
    BOB,
    CAROL,
    HELP,
    LEE,
    SECRET,
    TRIAGE,
    SlackEnv,
    eventually,
)
from tests.fakes.slack_driver import SlackDriver


async def test_subcommands_come_from_the_table_with_usage_help(env: SlackEnv) -> None:
    res = await env.command(BOB, "")
    assert (res.status, res.body) == (200, "")  # an empty ack: nothing shown in the channel
    await env.command(BOB, "frobnicate")
    await env.command(BOB, "claim")
    await env.command(BOB, "priority T-9 sky-high")
    await env.quiet()
    help_text, unknown, which, usage = env.responses()
    for spec in table.TABLE:  # every agent command is offered
        if Role.AGENT.at_least(spec.role):
            assert f"/{spec.name}" in help_text
    assert unknown.startswith("Unknown command /frobnicate")
    assert "Which ticket?" in which
    assert "level must be one of: low, normal, high, urgent" in usage
    assert all(p.body["response_type"] == "ephemeral" for p in env.slack.response_posts())


async def test_customer_cannot_run_agent_commands(env: SlackEnv) -> None:
    await env.say(ALICE, "Need a new badge")
    await env.quiet()
    await env.command(ALICE, "claim T-1", channel=HELP)
    await env.command(ALICE, "note T-1 sneaky", channel=HELP)
    await env.quiet()
    claim, note = env.responses()
    assert claim.startswith("Sorry, /claim is only for agents")
    assert note.startswith("Sorry, /note is only for agents")
    [ticket] = await env.rows(t.tickets)
    assert ticket.assignee_id is None
    assert len(await env.rows(t.messages)) == 1


async def test_roles_from_user_ids_and_user_groups(env: SlackEnv) -> None:
    await env.say(ALICE, "one")
    await env.quiet()
    await env.say(ALICE, "two")
    await env.quiet()
    await env.command(CAROL, "claim T-1")  # an agent through the S0AGENTS user group
    await env.command(LEE, "claim T-2")  # a lead by user id
    await env.quiet()
    assert env.responses() == ["You claimed T-1: one", "You claimed T-2: two"]
    agents = {a.name: a.role for a in await env.rows(t.agents)}
    assert agents == {"carol": "agent", "lee": "lead"}


async def test_ack_is_sent_before_a_slow_handler_finishes(
    env: SlackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute = env.app.gateway.execute

    async def slow(inv: Any) -> Reply:
        await asyncio.sleep(1.0)
        return await execute(inv)

    monkeypatch.setattr(env.app.gateway, "execute", slow)
    assert env.adapter.url is not None
    async with SlackDriver(env.adapter.url, SECRET, slack=env.slack) as http:
        started = time.monotonic()
        res = await http.slash_command("/ticket", "help", BOB, TRIAGE)
        acked = time.monotonic() - started
        assert res.status == 200 and acked < 0.5  # Slack allows 3 s; we answer at once
        assert env.slack.response_posts() == []  # the work is still running
        await eventually(lambda: len(env.slack.response_posts()) == 1, within=5)
        assert time.monotonic() - started >= 1.0


async def test_report_is_routed(env: SlackEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    if "report" in table.BY_NAME:  # the real reports engine: a lead gets a report
        await env.driver.slash_command("/report", "7d format:csv", LEE, TRIAGE)
        await env.quiet()
        answer = env.responses()[-1]
        assert not answer.startswith(("Reports are coming", "Sorry", "Unknown")), answer
        [upload] = env.slack.files.values()  # the CSV export, uploaded to the lead's DM
        assert upload.filename.endswith(".csv") and upload.content
        assert upload.shared_to == [env.slack.dm_channel(LEE).id]
    monkeypatch.delitem(table.BY_NAME, "report", raising=False)
    res = await env.driver.slash_command("/report", "last 7d", LEE, TRIAGE)
    assert res.status == 200
    await env.quiet()
    assert env.responses()[-1].startswith("Reports are coming")

    async def run(call: Any) -> Reply:
        return Reply(True, f"report for {call.args.get('period')}")

    spec = table.CommandSpec(
        "report", "Reports", Role.LEAD, run, (table.Arg("period", "text", optional=True),)
    )
    monkeypatch.setitem(table.BY_NAME, "report", spec)
    await env.driver.slash_command("/report", "last 7d", LEE, TRIAGE)
    await env.quiet()
    await env.driver.slash_command("/report", "last 7d", ALICE, HELP)
    await env.quiet()
    routed, refused = env.responses()[-2:]
    assert routed == "report for last 7d"
    assert refused.startswith("Sorry, /report is only for leads. You can use: /help, /new")


async def test_mention_in_customer_thread_is_a_command_not_a_reply(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Monitor flickers")
    await env.quiet()
    bot = env.slack.bot_user_id
    await env.say(BOB, f"<@{bot}> claim", thread_ts=root.ts)
    await env.quiet()
    [ticket] = await env.rows(t.tickets)
    assert ticket.assignee_id is not None and ticket.status == "open"
    assert [m.author_kind for m in await env.rows(t.messages)] == ["customer"]
    [ephemeral] = env.slack.ephemerals
    assert ephemeral.user == BOB and ephemeral.thread_ts == root.ts
    assert ephemeral.text == "You claimed T-1: Monitor flickers"
    # a customer mentioning the bot with words that are no command just writes a message
    await env.say(ALICE, f"<@{bot}> any news?", thread_ts=root.ts)
    await env.quiet()
    assert [m.author_kind for m in await env.rows(t.messages)] == ["customer", "customer"]


async def test_reply_command_converts_and_escapes_text(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Where is my order?")
    await env.quiet()
    await env.command(
        BOB, "reply T-1 *Shipped* today, see <https://track.example/1|tracking> &lt;!here&gt;"
    )
    await env.quiet()
    reply = env.slack.messages(HELP, root.ts)[-1]
    assert reply.text == "*Shipped* today, see <https://track.example/1|tracking> &lt;!here&gt;"
    [stored] = [m for m in await env.rows(t.messages) if m.author_kind == "agent"]
    assert stored.text == "**Shipped** today, see [tracking](https://track.example/1) <!here>"
