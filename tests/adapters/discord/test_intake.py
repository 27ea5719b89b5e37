"""Intake: support-channel messages become private-thread tickets; panel; DMs; bots ignored."""

from __future__ import annotations

from storage import tables as t
from tests.adapters.discord.conftest import DiscordEnv
from tests.fakes.discord_api import PRIVATE_THREAD


async def test_support_message_opens_private_thread_ticket(env: DiscordEnv) -> None:
    dc, main = env.dc, env.main
    original = await dc.user_message(
        main.support.id, env.alice, "My **VPN** is down", attachments=[("vpn.log", b"809")]
    )
    await env.quiet()
    [thread] = env.threads(main.support)
    assert (thread.type, thread.invitable) == (PRIVATE_THREAD, False)
    assert set(thread.thread_members) == {dc.bot.id, env.alice.id}
    copy, ack, status = dc.bot_messages(thread.id)
    assert copy.content == "**Alice** wrote:\nMy **VPN** is down"
    assert [a["filename"] for a in copy.attachments] == ["vpn.log"]  # kept: the original goes
    assert "T-1" in ack.content
    assert status.content.startswith("**T-1** · 🆕") and "🆕" in status.reactions
    assert dc.message(original.id).deleted  # the public copy is gone
    [ticket] = await env.rows(t.tickets)
    assert ticket.conversation_key == f"discord:{main.support.id}:{thread.id}"
    [message] = await env.rows(t.messages)
    assert message.external_id == str(original.id) and message.text == "My **VPN** is down"
    [card] = env.cards()
    assert card.embeds[0]["title"].startswith("T-1 · My VPN is down")
    staff = env.staff_thread(card)
    assert staff.parent_id == main.staff.id

    await dc.user_message(thread.id, env.alice, "still down, error 809")
    await dc.user_message(thread.id, env.bob, "On it, try reconnecting")
    await env.quiet()
    rows = await env.rows(t.messages)
    assert [(m.author_kind, m.visibility) for m in rows] == [
        ("customer", "public"),
        ("customer", "public"),
        ("agent", "public"),
    ]
    assert len(dc.bot_messages(thread.id)) == 3  # nothing re-posted: staff read the thread
    assert len(env.threads(main.support)) == 1 and len(env.cards()) == 1


async def test_panel_button_modal_opens_thread_ticket(env: DiscordEnv) -> None:
    dc, main = env.dc, env.main
    assert len(env.posts(main.panel.id)) == 1  # the panel, posted at start
    click = await dc.interaction_button("deskbot:panel", env.alice, channel_id=main.panel.id)
    assert (await click.response()).type == 9  # the modal
    submit = await dc.interaction_modal_submit(
        "deskbot:open", {"subject": "Printer on fire", "details": "Smoke from tray 2"}, env.alice
    )
    assert (await submit.response()).deferred
    answer = await submit.followup()
    [thread] = env.threads(main.panel)
    assert answer.ephemeral and answer.content == f"Your ticket T-1 is open: <#{thread.id}>"
    await env.quiet()
    [ticket] = await env.rows(t.tickets)
    assert ticket.subject == "Printer on fire"
    assert ticket.conversation_key == f"discord:{main.panel.id}:{thread.id}"
    texts = env.bot_texts(thread.id)
    assert "Smoke from tray 2" in texts[0] and "T-1" in texts[1]
    assert env.alice.id in thread.thread_members
    assert len(env.posts(main.panel.id)) == 1


async def test_bots_own_messages_and_redeliveries_open_nothing_twice(env: DiscordEnv) -> None:
    dc, main = env.dc, env.main
    other_bot = dc.add_user("otherbot", bot=True)
    dc.add_member(main.guild_id, other_bot)
    await dc.user_message(main.support.id, other_bot, "I am a bot")
    await dc.user_message(main.support.id, dc.bot, "I am deskbot")
    await dc.user_message(main.support.id, env.bob, "agents chatting here are not tickets")
    await env.quiet()
    assert await env.rows(t.tickets) == []
    msg = await dc.user_dm(env.alice, "hello")
    dc.dispatch(  # Discord redelivers the same message
        "MESSAGE_CREATE", dc._gateway_message(dc.message(msg.id)), intent=1 << 12
    )
    await env.quiet()
    assert len(await env.rows(t.messages)) == 1 and len(await env.rows(t.tickets)) == 1
