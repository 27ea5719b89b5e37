"""The triage card (edited in place), internal notes in its thread, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, CAROL, DAVE, HELP, TRIAGE, SlackEnv


def card_field(card_blocks: list[dict], name: str) -> str:
    for block in card_blocks:
        for f in block.get("fields") or []:
            if f["text"].startswith(f"*{name}*"):
                return str(f["text"].split("\n", 1)[1])
    raise KeyError(name)


async def test_card_is_edited_in_place_once_per_change(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Laptop will not boot")
    await env.quiet()
    [card] = env.cards()
    assert card_field(card.blocks or [], "Status") == "new"
    posts_before = len(env.slack.calls_to("chat.postMessage"))

    await env.command(BOB, "claim T-1")
    await env.quiet()
    await env.command(BOB, "priority T-1 urgent")
    await env.quiet()
    # in the card's thread, where Slack runs no slash commands: a mention, ref from the thread
    bot = env.slack.bot_user_id
    await env.say(BOB, f"<@{bot}> status pending waiting for logs", TRIAGE, thread_ts=card.ts)
    await env.quiet()

    assert env.cards() == [card]  # still the one card
    assert card.updates == 3  # one chat.update per change (claim+open counts as one change)
    assert len(env.slack.calls_to("chat.update")) == 3
    blocks = card.blocks or []
    assert card_field(blocks, "Assignee") == "bob"
    assert card_field(blocks, "Priority") == "urgent"
    assert card_field(blocks, "Status") == "pending"
    # no new card message was posted for those changes (only the reply-free state edits)
    card_posts = [
        c
        for c in env.slack.calls_to("chat.postMessage")[posts_before:]
        if c.args["channel"] == TRIAGE
    ]
    assert card_posts == []
    assert env.slack.messages(HELP, root.ts)[0].text.startswith("Thanks alice")


async def test_card_thread_is_internal_and_never_reaches_the_customer(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Refund please")
    await env.quiet()
    [card] = env.cards()
    await env.say(
        BOB, "Customer is on the legacy plan; check with billing", TRIAGE, thread_ts=card.ts
    )
    await env.say(CAROL, "Billing says ok", TRIAGE, thread_ts=card.ts)  # agent via user group
    await env.quiet()
    notes = [m for m in await env.rows(t.messages) if m.visibility == "internal"]
    assert [n.text for n in notes] == [
        "Customer is on the legacy plan; check with billing",
        "Billing says ok",
    ]
    customer_thread = env.thread(HELP, root.ts)
    assert not any("legacy plan" in m or "Billing says" in m for m in customer_thread)
    # and nothing at all was posted to the customer beyond the acknowledgement
    assert len(customer_thread) == 1
    posted_to_help = [
        c for c in env.slack.calls_to("chat.postMessage") if c.args["channel"] == HELP
    ]
    assert len(posted_to_help) == 1


async def test_reply_typed_in_triage_thread_goes_out_only_via_reply(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Password reset link expired")
    await env.quiet()
    [card] = env.cards()
    bot = env.slack.bot_user_id
    await env.say(BOB, f"<@{bot}> reply I've sent you a new link", TRIAGE, thread_ts=card.ts)
    await env.quiet()
    thread = env.thread(HELP, root.ts)
    assert thread[-1] == "I've sent you a new link"
    reply_post = env.slack.calls_to("chat.postMessage")[-1]
    assert reply_post.args["username"] == "bob"  # customers see the agent's name
    # the mention was a command, not a note
    assert [m.visibility for m in await env.rows(t.messages)] == ["public", "public"]
    # the agent got an ephemeral confirmation in the card thread
    assert any("Reply sent on T-1" in e.text for e in env.slack.ephemerals)


async def test_customer_messages_in_their_thread_are_not_posted_to_triage(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Printer jam")
    await env.quiet()
    [card] = env.cards()
    await env.say(ALICE, "It is the one on floor 3", thread_ts=root.ts)
    await env.quiet()
    # agents read the support channel themselves: no relay into the card thread
    assert env.thread(TRIAGE, card.ts) == []


async def test_notes_and_relays_from_commands_land_in_the_card_thread(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Cannot log in")
    await env.quiet()
    [card] = env.cards()
    # a real @channel mention, and "<!here>" typed literally (Slack sends it escaped)
    await env.command(BOB, "note T-1 Looks like SSO; <!channel> &lt;!here&gt; do not ping")
    await env.quiet()
    [note] = env.thread(TRIAGE, card.ts)
    assert "Looks like SSO" in note and "@channel" in note and "&lt;!here&gt;" in note
    assert "<!" not in note
    assert env.thread(HELP, root.ts)[1:] == []


async def test_sla_alerts_of_several_tickets_are_one_digest_at_the_top_of_triage(
    env: SlackEnv,
) -> None:
    for who, text in ((ALICE, "VPN down"), (DAVE, "Printer jammed")):
        await env.say(who, text)
    await env.quiet()
    cards = env.cards()
    later = datetime.now(UTC) + timedelta(hours=5)  # past the default 4 h first response
    assert await env.app.scheduler.sweep(later) == 4  # each one's warning and breach
    await env.quiet()
    top = [m.text for m in env.slack.messages(TRIAGE) if "SLA alerts" in m.text]
    assert len(top) == 1 and "2 missed, 2 due soon" in top[0]
    assert "T-1 missed its first response" in top[0] and "T-2 missed" in top[0]
    for card in cards:  # nothing per ticket under the cards
        assert not [m for m in env.thread(TRIAGE, card.ts) if "missed" in m]
