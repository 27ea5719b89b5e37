"""The Discord fake, driven by the real discord.py client: what it accepts, refuses and replays."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_api import MESSAGE_CONTENT, PRIVATE_THREAD, FakeDiscord, MiB
from tests.fakes.discord_driver import make_client, make_intents, running

MESSAGES = "/channels/*/messages"


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def support(client: discord.Client, dc: FakeDiscord) -> discord.TextChannel:
    channel = client.get_channel(dc.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_connect_identify_ready(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        assert client.user is not None and client.user.id == dc.bot.id
        assert client.application_id == dc.app_id
        assert support(client, dc).name == "support"
    [identify] = dc.identifies
    assert identify["intents"] & MESSAGE_CONTENT
    assert dc.heartbeats >= 1


async def test_on_message_gets_injected_message_and_attachment(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        waiter = asyncio.ensure_future(
            client.wait_for("message", check=lambda m: m.author.id == dc.alice.id, timeout=3)
        )
        await dc.user_message(
            dc.channel.id, dc.alice, "my VPN is down", attachments=[("a.txt", b"log")]
        )
        message = await waiter
        assert message.content == "my VPN is down"
        assert message.guild is not None and message.guild.id == dc.guild.id
        assert await message.attachments[0].read() == b"log"


async def test_without_message_content_intent_text_is_blank_unless_mentioned(
    dc: FakeDiscord,
) -> None:
    client = make_client(intents=make_intents(message_content=False))
    async with running(client, dc):
        seen = record_messages(client)
        await dc.user_message(dc.channel.id, dc.alice, "secret text")
        await dc.user_message(dc.channel.id, dc.alice, f"{dc.bot.mention} help")
        await dc.user_dm(dc.alice, "in a DM")
        await dc.wait_until(lambda: len(seen) == 3)
        assert seen == ["", f"{dc.bot.mention} help", "in a DM"]


def record_messages(client: discord.Client) -> list[str]:
    seen: list[str] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id != client.user.id:  # type: ignore[union-attr]
            seen.append(message.content)

    return seen


async def test_private_thread_members_archive_and_rename_limit(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        thread = await support(client, dc).create_thread(name="T-1042", invitable=False)
        await thread.add_user(discord.Object(dc.alice.id))
        fake = dc.channels[thread.id]
        assert (fake.type, fake.invitable, fake.parent_id) == (PRIVATE_THREAD, False, dc.channel.id)
        assert set(fake.thread_members) == {dc.bot.id, dc.alice.id}
        await dc.wait_until(lambda: client.get_channel(thread.id) is not None)  # THREAD_CREATE
        await thread.edit(name="T-1042 waiting")
        await thread.edit(name="T-1042 solved")
        with pytest.raises(discord.RateLimited):  # 2 renames per 10 minutes
            await thread.edit(name="T-1042 closed")
        assert fake.names == ["T-1042", "T-1042 waiting", "T-1042 solved"]
        await thread.edit(archived=True, locked=True)
        dc.deny(dc.channel.id, "manage_threads")
        with pytest.raises(discord.HTTPException) as err:
            await thread.send("too late")
        assert err.value.code == 50083


async def test_over_2000_chars_and_oversized_embeds_are_refused(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        channel = support(client, dc)
        with pytest.raises(discord.HTTPException) as err:
            await channel.send("x" * 2500)
        assert (err.value.status, err.value.code) == (400, 50035)
        assert "2000 or fewer" in str(err.value)
        too_big = [discord.Embed(description="y" * 4000), discord.Embed(description="y" * 2001)]
        with pytest.raises(discord.HTTPException, match="6000"):
            await channel.send(embeds=too_big)
        assert dc.bot_messages(dc.channel.id) == []
        await channel.send("x" * 2000)
        assert len(dc.bot_messages(dc.channel.id)) == 1


async def test_429_with_via_is_retried_and_sent_once(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        dc.fail_next("POST", MESSAGES, status=429, retry_after=0.2)
        started = time.monotonic()
        await support(client, dc).send("hello")
        assert time.monotonic() - started >= 0.2
        assert [r.status for r in dc.calls("POST", MESSAGES)] == [429, 200]
        assert [m.content for m in dc.bot_messages(dc.channel.id)] == ["hello"]


async def test_5xx_is_retried(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        dc.fail_next("POST", "/channels/{channel_id}/messages", status=502)
        await support(client, dc).send("after a bad gateway")
        assert [r.status for r in dc.calls("POST", MESSAGES)] == [502, 200]
        assert len(dc.bot_messages(dc.channel.id)) == 1


async def test_bucket_headers_and_global_limit_are_honoured(dc: FakeDiscord) -> None:
    dc.route_limits["POST /channels/{channel_id}/messages"] = (2, 0.5)
    async with running(make_client(), dc) as client:
        started = time.monotonic()
        for n in range(3):
            await support(client, dc).send(f"m{n}")
        assert time.monotonic() - started >= 0.4  # discord.py waited for the bucket reset
        assert all(r.status == 200 for r in dc.calls("POST", MESSAGES))
        others = [dc.add_text_channel(dc.guild.id, f"c{n}") for n in range(3)]
        await dc.wait_until(lambda: all(client.get_channel(c.id) for c in others))
        dc.global_limit = 2
        for other in others:
            channel = client.get_channel(other.id)
            assert isinstance(channel, discord.TextChannel)
            await channel.send("hi")
        assert 429 in [r.status for r in dc.requests]
        assert all(len(dc.bot_messages(c.id)) == 1 for c in others)


async def test_missing_message_content_consent_raises(dc: FakeDiscord) -> None:
    dc.require_message_content_consent = False
    client = make_client()
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(client.start(dc.token), 5)
    await client.close()


async def test_dropped_gateway_resumes_and_replays_missed_events(dc: FakeDiscord) -> None:
    client = make_client()
    resumed = asyncio.Event()
    seen = record_messages(client)

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with running(client, dc):
        await dc.drop_gateway()
        await asyncio.wait_for(resumed.wait(), 5)
        resumed.clear()
        async with dc.gateway_outage():
            await dc.user_message(dc.channel.id, dc.alice, "sent while offline")
            await asyncio.sleep(0.1)
            assert seen == []
        await asyncio.wait_for(resumed.wait(), 5)
        await dc.wait_until(lambda: seen == ["sent while offline"])
    assert len(dc.identifies) == 1 and len(dc.resumes) == 2
    assert dc.connections == ["/gateway", "/gateway/resume", "/gateway/resume"]


def build_tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="ticket", description="Open a help desk ticket")
    async def ticket(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"Opened T-1: {text}")

    @tree.command(name="report", description="A slow report")
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.1)
        await interaction.followup.send("report ready")
        await interaction.edit_original_response(content="report ready (edited)")

    @tree.command(name="assign", description="Assign the ticket")
    async def assign(interaction: discord.Interaction, agent: str) -> None:
        await interaction.response.send_message(agent)

    @assign.autocomplete("agent")
    async def agents(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=a, value=a) for a in ("alice", "bob") if a.startswith(current)
        ]

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("late")

    return tree


async def test_slash_commands_answered_deferred_and_followed_up(dc: FakeDiscord) -> None:
    client = make_client()
    tree = build_tree(client)
    tree.on_error = _ignore  # type: ignore[method-assign]
    async with running(client, dc):
        synced = await tree.sync()
        assert {c.name for c in synced} == {"ticket", "report", "assign", "slow"}
        assert dc.calls("PUT", f"/applications/{dc.app_id}/commands", status=200)
        handle = await dc.interaction_command("ticket", {"text": "printer on fire"})
        reply = await handle.response()
        assert reply.type == 4 and reply.elapsed < 3.0
        assert (
            handle.original is not None and handle.original.content == "Opened T-1: printer on fire"
        )

        deferred = await dc.interaction_command("report")
        assert (await deferred.response()).deferred
        message = await deferred.original_message(lambda m: m.edits >= 2)
        assert message.content == "report ready (edited)" and deferred.followups == [message]

        typing = await dc.interaction_autocomplete("assign", {"agent": "a"}, focused="agent")
        choices = await typing.response()
        assert choices.type == 8 and choices.data == {
            "choices": [{"name": "alice", "value": "alice"}]
        }

        dc.interaction_response_window = 0.2
        late = await dc.interaction_command("slow")
        await dc.wait_until(lambda: bool(late.rejected))
        assert late.reply is None and late.rejected[0][1] == 10062


async def _ignore(*args: object) -> None:
    return None


class CloseModal(discord.ui.Modal, title="Close ticket"):
    reason: discord.ui.TextInput[CloseModal] = discord.ui.TextInput(
        label="Reason", custom_id="reason"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Closed: {self.reason.value}", ephemeral=True)


class TicketView(discord.ui.View):
    @discord.ui.button(label="Close", custom_id="ticket:close")
    async def close(
        self, interaction: discord.Interaction, button: discord.ui.Button[TicketView]
    ) -> None:
        await interaction.response.send_modal(CloseModal(custom_id="close-modal"))


async def test_button_opens_modal_and_submit_is_answered(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        await support(client, dc).send("T-1 is open", view=TicketView())
        click = await dc.interaction_button("ticket:close")
        assert (await click.response()).type == 9
        submit = await dc.interaction_modal_submit("close-modal", {"reason": "fixed"})
        assert (await submit.response()).type == 4
        assert submit.original is not None and submit.original.ephemeral
        assert submit.original.content == "Closed: fixed"


async def test_command_sync_is_validated(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        bad: list[list[dict[str, Any]]] = [
            [{"name": "Bad Name", "description": "x", "type": 1}],
            [{"name": "ok", "description": "", "type": 1}],
            [{"name": f"c{n}", "description": "x", "type": 1} for n in range(101)],
            [{"name": "ok", "description": "x", "options": [_opt(n) for n in range(26)]}],
        ]
        codes = []
        for commands in bad:
            with pytest.raises(discord.HTTPException) as err:
                await client.http.bulk_upsert_global_commands(dc.app_id, commands)
            codes.append(err.value.code)
        assert codes == [50035, 50035, 30032, 50035]
        good = [{"name": "ok", "description": "x", "options": [_opt(1)]}]
        await client.http.bulk_upsert_guild_commands(dc.app_id, dc.guild.id, good)
        assert [s.status for s in dc.command_syncs] == [400, 400, 400, 400, 200]
        assert dc.command_syncs[-1].guild_id == dc.guild.id


def _opt(n: int) -> dict[str, Any]:
    return {"name": f"o{n}", "description": "x", "type": 3}


async def test_uploads_mentions_edits_and_closed_dms(dc: FakeDiscord) -> None:
    async with running(make_client(), dc) as client:
        channel = support(client, dc)
        with pytest.raises(discord.HTTPException) as err:
            await channel.send(file=discord.File(io.BytesIO(b"x" * (10 * MiB + 1)), "big.bin"))
        assert (err.value.status, err.value.code) == (413, 40005)
        sent = await channel.send("log", file=discord.File(io.BytesIO(b"hello"), "log.txt"))
        assert dc.message(sent.id).attachments[0]["size"] == 5

        text = f"@everyone {dc.alice.mention} says hi"
        quiet = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        loud = await channel.send(text)
        assert dc.message(quiet.id).allowed_mentions is not None
        assert not dc.message(quiet.id).pinged
        assert (
            dc.message(loud.id).mention_everyone and dc.alice in dc.message(loud.id).mentioned_users
        )

        status = await channel.send("T-1: open")
        await status.edit(content="T-1: closed")
        assert (dc.message(status.id).edits, dc.message(status.id).history) == (1, ["T-1: open"])

        dc.alice.dms_open = False
        user = await client.fetch_user(dc.alice.id)
        with pytest.raises(discord.Forbidden) as closed:
            await user.send("hello")
        assert closed.value.code == 50007


async def test_unknown_channel_unknown_message_and_missing_access(dc: FakeDiscord) -> None:
    hidden = dc.add_text_channel(dc.guild.id, "staff-only")
    dc.deny(hidden.id, "view_channel")
    async with running(make_client(), dc) as client:
        assert client.get_channel(hidden.id) is None  # never sent to the bot
        failures = {}
        for name, call in {
            "channel": client.http.get_channel(1),
            "message": client.http.get_message(dc.channel.id, 1),
            "access": client.http.send_message(hidden.id, params=_params("hi")),
        }.items():
            with pytest.raises(discord.HTTPException) as err:
                await call
            failures[name] = (err.value.status, err.value.code)
        assert failures == {
            "channel": (404, 10003),
            "message": (404, 10008),
            "access": (403, 50001),
        }


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)


async def test_follow_up_uploads_are_multipart_and_within_the_limit(dc: FakeDiscord) -> None:
    dc.upload_limit = 1000  # bytes per request, as the interaction announces it
    client = make_client()
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    outcome: dict[str, Any] = {}

    @tree.command(name="export", description="Send a file")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome["limit"] = interaction.filesize_limit
        small = discord.File(io.BytesIO(b"a,b\n1,2\n"), "figures.csv")
        await interaction.followup.send("here", file=small, ephemeral=True)
        big = discord.File(io.BytesIO(b"x" * 1001), "chart.png")
        try:
            await interaction.followup.send(file=big, ephemeral=True)
        except discord.HTTPException as exc:
            outcome["refused"] = (exc.status, exc.code)

    async with running(client, dc):
        await tree.sync()
        handle = await dc.interaction_command("export")
        await dc.wait_until(lambda: "refused" in outcome)
    assert outcome == {"limit": 1000, "refused": (413, 40005)}
    [answer] = handle.followups  # the first follow-up replaced the "thinking" message
    assert answer.ephemeral and answer.content == "here"
    [attachment] = answer.attachments
    assert attachment["filename"] == "figures.csv" and attachment["size"] == 8
    [upload] = dc.calls("POST", "/webhooks/**", status=200)[0].uploads
    assert (upload.field, upload.filename) == ("files[0]", "figures.csv")
