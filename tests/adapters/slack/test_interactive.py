"""Card buttons, modals (Reply, Close, Canned with options load), status reactions, App Home."""

from __future__ import annotations

import json
from typing import Any

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, CAROL, HELP, TRIAGE, SlackEnv
from tests.fakes.slack_api import Message, View


async def opened(env: SlackEnv, text: str = "Printer offline") -> tuple[Message, Message]:
    root = await env.say(ALICE, text)
    await env.quiet()
    [card] = env.cards()
    return root, card


async def click(env: SlackEnv, card: Message, action: str, user: str = BOB, **opts: Any) -> None:
    res = await env.driver.block_action(
        f"deskbot:{action}",
        opts.pop("value", "T-1"),
        user,
        TRIAGE,
        card.ts,
        block_id="deskbot:T-1",
        **opts,
    )
    assert res.status == 200
    await env.quiet()


def last_view(env: SlackEnv) -> View:
    return list(env.slack.views.values())[-1]


async def submit(env: SlackEnv, view: View, values: dict[str, Any], user: str = BOB) -> Any:
    res = await env.driver.view_submission(
        view.payload["callback_id"],
        values,
        user,
        view.payload["private_metadata"],
        view_id=view.id,
    )
    assert res.status == 200
    await env.quiet()
    return res


async def test_claim_assign_priority_buttons(env: SlackEnv) -> None:
    _, card = await opened(env)
    await click(env, card, "claim")
    await click(env, card, "assign", value=CAROL, action_type="users_select")
    await click(env, card, "priority", value="high", action_type="static_select")
    [ticket] = await env.rows(t.tickets)
    assert (ticket.priority, ticket.status) == ("high", "open")
    agents = {a.id: a.name for a in await env.rows(t.agents)}
    assert agents[ticket.assignee_id] == "carol"
    assert env.responses() == [
        "You claimed T-1: Printer offline",
        "T-1 assigned to carol.",
        "T-1 priority is now high.",
    ]
    assert card.updates == 3 and env.cards() == [card]
    # a direct message tells carol the ticket is hers
    dm = env.slack.dm_channel(CAROL)
    assert any("assigned T-1 to you" in m.text for m in env.slack.messages(dm.id))


async def test_customer_cannot_use_card_buttons(env: SlackEnv) -> None:
    _, card = await opened(env)
    await click(env, card, "claim", user=ALICE)
    [ticket] = await env.rows(t.tickets)
    assert ticket.assignee_id is None
    assert env.responses()[0].startswith("Sorry, /claim is only for agents")


async def test_close_modal_with_reason(env: SlackEnv) -> None:
    root, card = await opened(env)
    await click(env, card, "close")
    view = last_view(env)
    assert view.payload["callback_id"] == "deskbot:close" and view.user_id == BOB
    assert json.loads(view.payload["private_metadata"]) == {"ref": "T-1", "channel": TRIAGE}
    await submit(env, view, {"reason": {"value": "Replaced the cable"}})
    [ticket] = await env.rows(t.tickets)
    assert ticket.status == "closed"
    history = await env.rows(t.history)
    assert any(
        h.new == "closed" and (h.data or {}).get("reason") == "Replaced the cable" for h in history
    )
    assert any("T-1 is now closed" in m for m in env.thread(HELP, root.ts))
    assert card.blocks is not None and all(b["type"] != "actions" for b in card.blocks)


async def test_reply_modal_sends_to_customer_and_validates(env: SlackEnv) -> None:
    root, card = await opened(env)
    await click(env, card, "reply")
    view = last_view(env)
    res = await submit(env, view, {"text": {"value": "  "}})
    assert res.json() == {"response_action": "errors", "errors": {"text": "Write a reply first."}}
    await click(env, card, "reply")
    view = last_view(env)
    await submit(env, view, {"text": {"value": "Try *turning it* off & on <@U0ALICE>"}})
    # typed into a plain-text input: *bold* is mrkdwn, a literal "<@U…>" stays text
    assert env.thread(HELP, root.ts)[-1] == "Try *turning it* off &amp; on &lt;@U0ALICE&gt;"
    assert any("Reply sent on T-1" in e.text for e in env.slack.ephemerals)


async def test_canned_answer_modal_with_options_load(env: SlackEnv) -> None:
    root, card = await opened(env)
    await env.command(BOB, "canned add greet Hello {customer_name}, we are on it.")
    await env.command(BOB, "canned add bye Thanks for writing.")
    await click(env, card, "canned")
    view = last_view(env)
    opts = await env.driver.options(
        "deskbot:canned_pick", "gre", user_id=BOB, view=view.to_api("T0TEAM", "A0APP", "B0BOT")
    )
    assert opts.status == 200
    assert [o["value"] for o in opts.json()["options"]] == ["greet"]
    picked = {"type": "external_select", "selected_option": {"value": "greet"}}
    await submit(env, view, {"canned": {"deskbot:canned_pick": picked}})
    assert env.thread(HELP, root.ts)[-1] == "Hello alice, we are on it."


async def test_status_reactions_on_the_customer_message(env: SlackEnv) -> None:
    root, card = await opened(env)
    assert root.reactions == {}
    await click(env, card, "claim")
    assert root.reactions == {"eyes": [env.slack.bot_user_id]}
    bot = env.slack.bot_user_id
    await env.say(BOB, f"<@{bot}> status pending", TRIAGE, thread_ts=card.ts)
    await env.quiet()
    assert root.reactions == {"hourglass_flowing_sand": [bot]}
    await env.say(ALICE, "here are the logs", thread_ts=root.ts)  # reopens: claimed again
    await env.quiet()
    assert root.reactions == {"eyes": [bot]}
    await env.command(BOB, "resolve T-1")
    await env.quiet()
    assert root.reactions == {"white_check_mark": [bot]}
    adds = [c.args["name"] for c in env.slack.calls_to("reactions.add")]
    assert adds == ["eyes", "hourglass_flowing_sand", "eyes", "white_check_mark"]


async def test_app_home_shows_the_agents_queue(env: SlackEnv) -> None:
    await opened(env, "Mouse broken")
    await env.say(ALICE, "Keyboard broken")
    await env.quiet()
    await env.command(BOB, "claim T-1")
    assert (
        await env.driver.event({"type": "app_home_opened", "user": BOB, "tab": "home"})
    ).status == 200
    await env.quiet()
    home = env.slack.home_views[BOB].payload
    text = json.dumps(home)
    assert "Assigned to me" in text and "Unassigned" in text
    assert "T-1" in text and "T-2" in text
    await env.driver.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    await env.quiet()
    assert "Your tickets" in json.dumps(env.slack.home_views[ALICE].payload)
