"""More intake: 🎫 reactions, the "Create ticket" shortcut, edits/deletions, identity, Connect."""

from __future__ import annotations

from typing import Any

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, DAVE, HELP, RANDOM, SlackEnv


def reaction(user: str, channel: str, ts: str, item_user: str, name: str = "ticket") -> dict:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts,
    }


async def test_ticket_reaction_opens_ticket_for_the_author(env: SlackEnv) -> None:
    msg = await env.say(DAVE, "Is the *VPN* down for everyone?", RANDOM)
    await env.quiet()
    assert await env.rows(t.tickets) == []  # not a support channel: no ticket by itself
    # someone who is neither the author nor an agent cannot turn it into a ticket
    await env.driver.event(reaction(ALICE, RANDOM, msg.ts, DAVE))
    # another emoji means nothing
    await env.driver.event(reaction(BOB, RANDOM, msg.ts, DAVE, name="thumbsup"))
    await env.quiet()
    assert await env.rows(t.tickets) == []
    await env.driver.event(reaction(BOB, RANDOM, msg.ts, DAVE))  # an agent
    await env.quiet()
    [ticket] = await env.rows(t.tickets)
    assert ticket.subject == "Is the **VPN** down for everyone?"
    assert ticket.conversation_key == f"slack:{RANDOM}:{msg.ts}"
    [customer] = await env.rows(t.customers)
    assert customer.name == "dave"
    [ack] = env.slack.messages(RANDOM, msg.ts)
    assert "T-1" in ack.text
    # the thread is now the ticket's conversation; the author reacting again changes nothing
    await env.say(DAVE, "since 9am", RANDOM, thread_ts=msg.ts)
    await env.driver.event(reaction(DAVE, RANDOM, msg.ts, DAVE))
    await env.say(DAVE, "unrelated chatter", RANDOM)
    await env.quiet()
    assert len(await env.rows(t.tickets)) == 1
    assert [m.text for m in await env.rows(t.messages)] == [
        "Is the **VPN** down for everyone?",
        "since 9am",
    ]


async def test_create_ticket_shortcut(env: SlackEnv) -> None:
    msg = env.slack.add_message(RANDOM, "Cannot print to floor 2", user=DAVE)
    res = await env.driver.message_shortcut("deskbot:create_ticket", msg, DAVE, RANDOM)
    assert res.status == 200
    await env.quiet()
    again = await env.driver.message_shortcut("deskbot:create_ticket", msg, BOB, RANDOM)
    assert again.status == 200
    await env.quiet()
    by_other = await env.driver.message_shortcut("deskbot:create_ticket", msg, ALICE, RANDOM)
    assert by_other.status == 200
    await env.quiet()
    assert env.responses() == [
        "This message is now on ticket T-1.",
        "This message is now on ticket T-1.",
        "Only agents, or the person who wrote it, can open a ticket from a message.",
    ]
    assert len(await env.rows(t.tickets)) == 1


async def test_edits_and_deletions_are_recorded(env: SlackEnv) -> None:
    root = await env.say(ALICE, "My order 1234 is late")
    await env.quiet()

    def changed(new_text: str, old_text: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": "message",
            "subtype": "message_changed",
            "channel": HELP,
            "hidden": True,
            "message": {"type": "message", "user": ALICE, "text": new_text, "ts": root.ts},
            "previous_message": {"type": "message", "user": ALICE, "text": old_text, "ts": root.ts},
            "ts": "1800000000.000001",
            **extra,
        }

    await env.driver.event(changed("My order 1243 is late", "My order 1234 is late"))
    await env.driver.event(changed("My order 1243 is late", "My order 1243 is late"))  # unfurl
    await env.quiet()
    [message] = await env.rows(t.messages)
    assert message.text == "My order 1243 is late" and message.edited_at is not None
    assert [e["text"] for e in message.flags["edits"]] == ["My order 1234 is late"]
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": HELP,
        "hidden": True,
        "deleted_ts": root.ts,
        "previous_message": {"type": "message", "user": ALICE, "text": "x", "ts": root.ts},
        "ts": "1800000000.000002",
    }
    await env.driver.event(deleted)
    await env.driver.event({**deleted, "ts": "1800000000.000003"})  # delivered twice
    await env.quiet()
    [message] = await env.rows(t.messages)
    assert message.deleted_at is not None and message.text == "My order 1243 is late"
    kinds = [(h.kind, (h.data or {}).get("deleted")) for h in await env.rows(t.history)]
    assert kinds.count(("message_edited", False)) == 1
    assert kinds.count(("message_edited", True)) == 1


async def test_identity_carries_profile_email_and_name(env: SlackEnv) -> None:
    await env.say(ALICE, "Hello")
    await env.quiet()
    [customer] = await env.rows(t.customers)
    assert (customer.name, customer.email) == ("alice", "alice@example.com")
    [identity] = await env.rows(t.identities)
    assert (identity.platform, identity.external_id) == ("slack", ALICE)


async def test_slack_connect_user_from_another_org(env: SlackEnv) -> None:
    env.slack.channel(HELP).is_ext_shared = True
    erin = env.slack.add_user("erin", id="U0ERIN", team_id="T0OTHER", email="erin@partner.example")
    env.slack.channel(HELP).members.append(erin.id)
    msg = env.slack.add_message(HELP, "Partner here: API returns 500", user=erin.id)
    event = {
        "type": "message",
        "channel": HELP,
        "user": erin.id,
        "text": msg.text,
        "ts": msg.ts,
        "channel_type": "channel",
        "team": "T0OTHER",
    }
    res = await env.driver.event(event, team_id="T0OTHER")  # outer team: the other org
    assert res.status == 200
    await env.quiet()
    [customer] = await env.rows(t.customers)
    assert (customer.name, customer.email) == ("erin", "erin@partner.example")
    assert "T-1" in env.slack.messages(HELP, msg.ts)[0].text
