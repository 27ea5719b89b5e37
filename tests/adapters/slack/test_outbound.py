"""Outbound: 429 storms, dropped connections, permanent failures, long text within limits."""

from __future__ import annotations

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, DAVE, HELP, TRIAGE, SlackEnv
from tests.fakes.slack_api import MAX_SECTION_TEXT


async def test_429_storm_delivers_every_message_once_in_order(env: SlackEnv) -> None:
    roots = []
    for who, text in ((ALICE, "first problem"), (DAVE, "second problem")):
        roots.append(await env.say(who, text))
        await env.quiet()
    # The channel's real limit (a token bucket: Retry-After 1 s) plus a storm of injected 429s
    # (Retry-After: 0): slack_sdk retries 3 times, after that the outbox backs off and retries.
    env.slack.set_rate_limit("chat.postMessage", 4, burst=2)
    env.slack.fail_next("chat.postMessage", 429, times=8, retry_after=0)
    for n in range(1, 4):
        for ref in ("T-1", "T-2"):
            await env.command(BOB, f"reply {ref} {ref} answer {n}")
    await env.quiet(within=30)
    for i, root in enumerate(roots, 1):
        replies = env.thread(HELP, root.ts)[1:]  # after the ack
        assert replies == [f"T-{i} answer 1", f"T-{i} answer 2", f"T-{i} answer 3"]
    limited = [c for c in env.slack.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) >= 8
    failed = await env.rows(t.outbox, t.outbox.c.status != "sent")
    assert failed == []


async def test_dropped_connections_and_5xx_are_retried(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Wifi drops")
    await env.quiet()
    env.slack.fail_next("chat.postMessage", 0)  # a dropped connection: the client retries
    await env.command(BOB, "reply T-1 Restart the router")
    await env.quiet()
    env.slack.fail_next("chat.postMessage", 503)  # a 5xx: the outbox retries later
    await env.command(BOB, "reply T-1 And update its firmware")
    await env.quiet()
    assert env.thread(HELP, root.ts)[1:] == ["Restart the router", "And update its firmware"]
    statuses = [c.status for c in env.slack.calls_to("chat.postMessage")]
    assert statuses.count(0) == 1 and statuses.count(503) == 1


async def test_permanent_failure_is_visible_on_the_ticket(env: SlackEnv) -> None:
    await env.say(ALICE, "Archive me")
    await env.quiet()
    [card] = env.cards()
    env.slack.channel(HELP).is_archived = True
    await env.command(BOB, "reply T-1 Are you still there?")
    await env.quiet()
    [row] = await env.rows(t.outbox, t.outbox.c.status == "failed")
    assert row.attempts == 1 and "is_archived" in (row.last_error or "")
    assert any("Delivery failed on T-1" in m for m in env.thread(TRIAGE, card.ts))
    history = await env.rows(t.history, t.history.c.kind == "delivery_failed")
    assert len(history) == 1
    await env.command(BOB, "show T-1")
    assert "failed" in env.responses()[-1] and "is_archived" in env.responses()[-1]


async def test_long_text_is_split_within_block_kit_limits(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Send me the whole log")
    await env.quiet()
    line = "error & warning <tag> at line {n}: something failed badly\n"
    body = "".join(line.format(n=n) for n in range(2500))  # ~150k characters once escaped
    await env.command(
        BOB, "reply T-1 " + body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )
    await env.quiet(within=30)
    posted = env.slack.messages(HELP, root.ts)[1:]
    assert len(posted) >= 2  # more than 50 sections: several messages, in order
    sections = [b["text"]["text"] for m in posted for b in (m.blocks or [])]
    assert all(len(s) <= MAX_SECTION_TEXT for s in sections)
    assert all(len(m.blocks or []) <= 50 for m in posted)
    text = "\n".join(sections).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert text.split() == body.split()  # nothing lost, nothing duplicated
