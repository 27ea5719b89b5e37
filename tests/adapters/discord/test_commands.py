"""App commands from the core table: synced once, autocomplete, role checks, usage help."""

from __future__ import annotations

from bot import commands as table
from storage import tables as t
from tests.adapters.discord.conftest import DiscordEnv
from tests.adapters.discord.test_staff import thread_ticket


async def test_commands_come_from_the_table_and_sync_only_when_changed(env: DiscordEnv) -> None:
    dc = env.dc
    [sync] = [s for s in dc.command_syncs if s.status == 200]
    assert sorted(sync.names) == sorted(table.families())
    registered = {c["name"]: c for c in dc.commands[None]}
    canned = {o["name"] for o in registered["canned"]["options"]}
    assert canned == {"list", "add", "remove", "use"}
    reply_options = registered["reply"]["options"]
    assert [(o["name"], o["required"]) for o in reply_options] == [
        ("text", True),
        ("ticket", False),
        ("file", False),  # an attachment sent with the reply
    ]
    await env.adapter.stop()  # a restart: the same table is not written again
    await env.adapter.start(env.app.gateway)
    assert len(dc.command_syncs) == 1
    assert len(env.posts(env.main.panel.id)) == 1  # nor is the panel posted twice


async def test_autocomplete_offers_tickets_and_canned_answers(env: DiscordEnv) -> None:
    dc = env.dc
    _, staff = await thread_ticket(env, "VPN is down")
    await env.command(
        "canned", {"add": {"name": "reboot", "text": "Please reboot, {customer_name}."}}
    )
    typing = await dc.interaction_autocomplete(
        "claim", {"ticket": "vpn"}, focused="ticket", user=env.bob, channel_id=env.main.staff.id
    )
    choices = (await typing.response()).data or {}
    assert [c["value"] for c in choices["choices"]] == ["T-1"]
    assert "VPN is down" in choices["choices"][0]["name"]
    typing = await dc.interaction_autocomplete(
        "canned", {"use": {"name": "re"}}, focused="name", user=env.bob, channel_id=staff.id
    )
    assert (await typing.response()).data == {"choices": [{"name": "reboot", "value": "reboot"}]}
    used = await env.command("canned", {"use": {"name": "reboot"}}, channel=staff)
    assert used.startswith("Reply sent on T-1")
    await env.quiet()
    [thread] = env.threads(env.main.support)
    assert env.bot_texts(thread.id)[-1] == "**bob:** Please reboot, Alice."


async def test_roles_come_from_discord_roles_and_wrong_input_gets_usage(env: DiscordEnv) -> None:
    thread, staff = await thread_ticket(env)
    denied = await env.command("claim", {}, user=env.alice, channel=thread)
    assert denied.startswith("Sorry, /claim is only for agents")
    mine = await env.command("status", {}, user=env.alice, channel=thread)
    assert mine == "T-1 “My VPN is down” is new."
    wrong = await env.command("merge", {"source": "T-1", "target": "nonsense"}, channel=staff)
    assert "'nonsense' is not a ticket reference." in wrong
    assert "Usage: /merge <source> <into> <target>" in wrong
    lead_only = await env.command("sla", {"show": {}}, user=env.bob, channel=staff)
    assert lead_only.startswith("Sorry, /sla show is only for leads")
    shown = await env.command("sla", {"show": {}}, user=env.lee, channel=staff)
    assert not shown.startswith("Sorry")  # lee is a lead by user id


async def test_customer_edits_are_recorded_and_dm_new_opens_another_ticket(
    env: DiscordEnv,
) -> None:
    dc = env.dc
    first = await dc.user_dm(env.alice, "printer broken")
    await env.quiet()
    await dc.user_edit(first, "printer broken since Monday")
    dm = dc.add_dm(env.alice)
    opened = await env.command("new", {"subject": "Also: scanner"}, user=env.alice, channel=dm)
    assert opened == "Opened T-2: Also: scanner"
    await env.quiet()
    [message] = await env.rows(t.messages, t.messages.c.ticket_id == 1)
    assert message.text == "printer broken since Monday" and message.edited_at is not None
    assert [x.subject for x in await env.rows(t.tickets)] == ["printer broken", "Also: scanner"]
