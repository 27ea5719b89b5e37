"""A ticket's first relayed message lands in its card's thread, never top-level before it."""

from __future__ import annotations

import pytest

from adapters.slack import make_client
from adapters.slack.config import SlackConfig
from adapters.slack.sender import CARD_WAITS, SlackSender
from bot.messages import DeliveryError, Outbound
from tests.adapters.slack.conftest import BOB, DAVE, RANDOM, TRIAGE, SlackEnv, slack_settings
from tests.adapters.slack.test_intake_more import reaction


def only_cards_top_level(env: SlackEnv) -> bool:
    return env.slack.messages(TRIAGE) == env.cards()


async def test_dm_ticket_relay_is_threaded_under_its_card(env: SlackEnv) -> None:
    dm = env.slack.dm_channel(DAVE)
    # the first card post fails (Slack hiccup): the relayed message must wait for it
    env.slack.fail_next("chat.postMessage", 503)
    await env.say(DAVE, "Can I get an invoice copy?", channel=dm.id, channel_type="im")
    await env.quiet(within=30)
    [card] = env.cards()
    assert only_cards_top_level(env)
    assert env.thread(TRIAGE, card.ts)[0].startswith("dave wrote on T-1")


async def test_reaction_ticket_relay_is_threaded_under_its_card(env: SlackEnv) -> None:
    msg = await env.say(DAVE, "Is the VPN down?", RANDOM)
    await env.quiet()
    await env.driver.event(reaction(BOB, RANDOM, msg.ts, DAVE))
    await env.quiet()
    [card] = env.cards()
    assert only_cards_top_level(env)
    assert env.thread(TRIAGE, card.ts)[0].startswith("dave wrote on T-1: Is the VPN down?")


def row(kind: str, attempts: int = 0, card: str | None = None, **payload: object) -> Outbound:
    return Outbound(
        id=attempts + 1,
        platform="slack",
        audience="agents",
        kind=kind,
        ticket="T-7",
        text="dave wrote on T-7: hello" if kind != "card" else "card",
        payload={"ref": "T-7", "subject": "hello", "queue": "general", **payload},
        attempts=attempts,
        card_external_id=card,
    )


async def test_sender_waits_for_the_card_and_never_loses_the_message(env: SlackEnv) -> None:
    cfg = SlackConfig.from_settings(slack_settings(env.slack, "sqlite://"))
    sender = SlackSender(make_client(cfg), cfg)
    # no card yet: a transient failure, so the outbox tries again shortly; nothing posted
    with pytest.raises(DeliveryError) as waited:
        await sender.send(row("message"))
    assert not waited.value.permanent and waited.value.retry_after
    assert env.slack.messages(TRIAGE) == []
    # the card is posted; a row whose anchor was looked up before that still finds it
    card = await sender.send(row("card", customer="dave", status="new"))
    await sender.send(row("message", attempts=1))
    channel, ts = str(card.external_id).split(":")
    assert [m.text for m in env.slack.messages(TRIAGE, ts)] == ["dave wrote on T-7: hello"]
    # a card that never comes (it failed for good): after a few tries the message goes out
    # on its own, with the ref in front, rather than being lost
    other = SlackSender(make_client(cfg), cfg)
    lonely = Outbound(**{**row("message", attempts=CARD_WAITS).__dict__, "ticket": "T-8"})
    await other.send(lonely)
    assert env.slack.messages(TRIAGE)[-1].text.startswith("*T-8* · dave wrote")
    assert channel == TRIAGE
