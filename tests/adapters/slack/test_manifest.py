"""The shipped app manifest matches the code: commands, shortcut, events and enough scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adapters.slack import intake
from bot.config import Settings
from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, LEE, RANDOM, TRIAGE, running
from tests.fakes.slack_api import NEEDED_SCOPES

MANIFEST = Path(__file__).resolve().parents[3] / "adapters" / "slack" / "manifest.yml"


def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text()))


def test_commands_shortcut_and_events_match_the_code() -> None:
    m = manifest()
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert set(commands) == {defaults.slack_command, defaults.slack_report_command}
    assert all(c["should_escape"] for c in commands.values())
    [shortcut] = m["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", intake.SHORTCUT)
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_home_opened",
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "reaction_added",
    }
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True


async def test_the_manifest_scopes_are_enough_for_every_call(sqlite_copy: str) -> None:
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    async with running(sqlite_copy, fake={"scopes": ",".join(scopes)}) as env:
        root = await env.say(ALICE, "Scopes check")
        await env.quiet()
        [card] = env.cards()
        await env.command(BOB, "claim T-1")
        await env.say(BOB, "internal", TRIAGE, thread_ts=card.ts)
        await env.command(BOB, "reply T-1 done")
        other = await env.say(ALICE, "from random", RANDOM)
        event = {
            "type": "reaction_added",
            "user": BOB,
            "reaction": "ticket",
            "item_user": ALICE,
            "item": {"type": "message", "channel": RANDOM, "ts": other.ts},
        }
        await env.driver.event(event)
        await env.driver.event({"type": "app_home_opened", "user": BOB, "tab": "home"})
        await env.driver.slash_command("/report", "7d format:csv", LEE, TRIAGE)
        await env.quiet()
        called = {c.method for c in env.slack.calls}
        assert [c for c in env.slack.calls if c.error == "missing_scope"] == []
        assert len(await env.rows(t.tickets)) == 2 and root.reactions
    # every scope-guarded method the adapter used is covered by the manifest
    for method in called & set(NEEDED_SCOPES):
        assert set(NEEDED_SCOPES[method]) & set(scopes), method
    assert {"chat.postMessage", "chat.update", "reactions.add", "users.info"} <= called
