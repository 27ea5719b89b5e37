"""The core's buttons in the customer's thread: CSAT scores and "This solved it", clicked."""

from __future__ import annotations

from typing import Any

from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, DAVE, HELP, LEE, SlackEnv
from tests.fakes.slack_api import Message


def buttons_of(message: Message) -> list[dict[str, Any]]:
    return [e for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]]


async def click(env: SlackEnv, message: Message, button: dict[str, Any], user: str) -> None:
    res = await env.driver.block_action(
        button["action_id"],
        button["value"],
        user,
        message.channel,
        message.ts,
        block_id=next((b["block_id"] for b in message.blocks or [] if b["type"] == "actions"), "b"),
    )
    assert res.status == 200 and res.body == ""  # acked at once, the work follows
    await env.quiet()


async def test_survey_buttons_record_the_rating(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Laptop will not boot")
    await env.quiet()
    await env.command(BOB, "resolve T-1")
    await env.quiet()
    [survey] = [m for m in env.slack.messages(HELP, root.ts) if buttons_of(m)]
    scores = buttons_of(survey)
    assert [b["text"]["text"] for b in scores] == ["1", "2", "3", "4", "5"]
    assert [b["value"] for b in scores] == [f"rate T-1 {n}" for n in range(1, 6)]
    assert len({b["action_id"] for b in scores}) == 5
    # someone else clicking cannot rate alice's ticket
    await click(env, survey, scores[0], DAVE)
    assert await env.rows(t.ratings, t.ratings.c.score.is_not(None)) == []
    await click(env, survey, scores[3], ALICE)
    [rating] = await env.rows(t.ratings)
    assert rating.score == 4
    [ticket] = await env.rows(t.tickets)
    assert ticket.status == "resolved"  # a rating never reopens the ticket
    refused, thanks = env.responses()[-2:]
    assert "not one of your tickets" in refused
    assert "4" in thanks and "T-1" in thanks
    # changing the rating within the window: the same buttons again
    await click(env, survey, scores[4], ALICE)
    [rating] = await env.rows(t.ratings)
    assert rating.score == 5


async def test_this_solved_it_button_resolves(env: SlackEnv) -> None:
    await env.command(LEE, "kb add Printer jam | Open the tray and remove the paper. | printer")
    root = await env.say(ALICE, "My printer has a paper jam")
    await env.quiet()
    [ack] = [m for m in env.slack.messages(HELP, root.ts) if buttons_of(m)]
    [solved] = buttons_of(ack)
    assert solved["value"] == "solved T-1" and solved["style"] == "primary"
    await click(env, ack, solved, ALICE)
    [ticket] = await env.rows(t.tickets)
    assert ticket.status == "resolved"
    assert env.responses()[-1].startswith("Glad that helped! T-1")
    # solved by the customer: no survey follows
    assert [m for m in env.slack.messages(HELP, root.ts) if buttons_of(m)] == [ack]


async def test_buttons_running_agent_commands_are_ignored(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Screen flickers")
    await env.quiet()
    [ack] = env.slack.messages(HELP, root.ts)
    forged = {"action_id": "deskbot:run:0", "value": "claim T-1"}
    await click(env, ack, forged, BOB)
    [ticket] = await env.rows(t.tickets)
    assert ticket.assignee_id is None
