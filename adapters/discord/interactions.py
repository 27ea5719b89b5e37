"""Interactions: app commands, autocomplete, card and status buttons, the panel and its modal.

Every interaction is acknowledged before any work: commands, buttons and modal submits are
deferred (ephemeral "thinking") at once and answered with a follow-up when the core is done,
so a slow database never breaks Discord's 3-second rule. Autocomplete cannot be deferred: it
answers within 2 s with what it has. The panel button answers with the modal directly.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord import commands, render
from adapters.discord.answers import Own, answer
from adapters.discord.config import PLATFORM
from adapters.discord.intake import open_thread, resolve_channel
from adapters.discord.translate import (
    Place,
    command_path,
    display_name,
    modal_values,
    option_files,
    place_of,
    thread_conversation,
)
from bot import commands as table
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import AttachmentInfo, CommandInvocation, Identity, InboundMessage, Reply

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

P = render.PREFIX
AUTOCOMPLETE_WITHIN = 2.0
SIMPLE = {"claim", "close", "reopen"}  # card/status buttons that run `<verb> <ref>`


async def _place(adapter: DiscordAdapter, interaction: discord.Interaction) -> Place:
    channel = await resolve_channel(adapter, interaction.channel)
    bot = adapter.client.user
    return place_of(channel, adapter.cfg, bot.id if bot else None)


async def run_line(
    adapter: DiscordAdapter,
    interaction: discord.Interaction,
    line: str,
    *,
    spec: table.CommandSpec | None = None,
    explicit_ticket: str | None = None,
    values: dict[str, Any] | None = None,
    files: tuple[AttachmentInfo, ...] = (),
) -> Reply:
    """Run a command line for the person who interacted; the ticket comes from the option,
    else from where they are (a ticket thread, a staff thread, a DM)."""
    gateway = adapter.gateway
    identity = await adapter.directory.identity(interaction.user, locale=str(interaction.locale))
    place = await _place(adapter, interaction)
    probe = CommandInvocation(PLATFORM, identity, "", conversation=place.conversation)
    context = await gateway.context_ticket(probe, Role.CUSTOMER)
    context_ref = gateway.core.policy.refs.format(context) if context else None
    if spec is not None:
        await _record_people(adapter, interaction, spec, values or {})
        line = commands.command_line(spec, values or {}, explicit_ticket or context_ref)
    # In a customer's thread the command's answer is not the customer-visible message, so the
    # conversation is not passed (a /reply there must still be posted to the thread).
    conversation = None if place.kind == "ticket" else place.conversation
    invocation = CommandInvocation(
        PLATFORM,
        identity,
        line,
        conversation=conversation,
        context_ref=context_ref,
        invocation_id=str(interaction.id),
        attachments=files,
    )
    return await gateway.execute(invocation)


async def _record_people(
    adapter: DiscordAdapter,
    interaction: discord.Interaction,
    spec: table.CommandSpec,
    values: dict[str, Any],
) -> None:
    """Members named in person options who are agents by their roles are recorded first, so
    `/assign agent:@bob` finds bob even before he has used deskbot."""
    data: dict[str, Any] = dict(interaction.data or {})
    resolved: dict[str, Any] = data.get("resolved") or {}
    for arg in spec.args:
        user_id = values.get(arg.name)
        if arg.kind != "person" or not user_id:
            continue
        user = (resolved.get("users") or {}).get(str(user_id)) or {}
        member = (resolved.get("members") or {}).get(str(user_id)) or {}
        who = Identity(
            PLATFORM,
            str(user_id),
            display_name=member.get("nick") or user.get("global_name") or user.get("username"),
            groups=tuple(str(r) for r in member.get("roles") or []),
        )
        await adapter.gateway.role_of(who)


async def on_interaction(adapter: DiscordAdapter, interaction: discord.Interaction) -> None:
    kind = interaction.type
    data: dict[str, Any] = dict(interaction.data or {})
    if kind == discord.InteractionType.autocomplete:
        await autocomplete(adapter, interaction, data)
        return
    custom_id = str(data.get("custom_id") or "")
    if kind != discord.InteractionType.application_command and not custom_id.startswith(P):
        return  # not ours
    if not adapter.cfg.serves(interaction.guild_id):
        await interaction.response.send_message(
            "deskbot does not serve this server.", ephemeral=True
        )
        return
    if custom_id == f"{P}panel" and adapter.cfg.panel_modal:
        await interaction.response.send_modal(render.TicketModal())
        return
    await interaction.response.defer(ephemeral=True, thinking=True)  # within 3 s, always
    text: str | Reply
    try:
        if kind == discord.InteractionType.application_command:
            text = await app_command(adapter, interaction, data)
        elif custom_id in (f"{P}panel", f"{P}open"):
            text = await open_from_panel(adapter, interaction, data)
        else:
            text = await button(adapter, interaction, custom_id, data)
    except Exception:
        log.exception("interaction %s failed", interaction.id)
        text = "Sorry, that did not work. Please try again in a moment."
    await answer(adapter, interaction, text)


async def app_command(
    adapter: DiscordAdapter, interaction: discord.Interaction, data: dict[str, Any]
) -> str | Reply:
    path, values, _ = command_path(data)
    spec = commands.spec_for(path)
    if spec is None:
        return f"Unknown command /{path}. Try /help."
    if spec.name == "new":
        return await open_new(adapter, interaction, str(values.get("subject") or ""))
    ticket = values.pop(commands.TICKET_OPTION, None)
    file_id = values.pop(commands.FILE_OPTION, None)
    files = option_files(data, [file_id]) if file_id is not None else ()
    return await run_line(
        adapter,
        interaction,
        spec.name,
        spec=spec,
        explicit_ticket=ticket,
        values=values,
        files=files,
    )


async def button(
    adapter: DiscordAdapter, interaction: discord.Interaction, custom_id: str, data: dict[str, Any]
) -> str | Reply:
    verb, _, rest = custom_id.removeprefix(P).partition(":")
    if verb in SIMPLE:
        return await run_line(adapter, interaction, f"{verb} {rest}")
    if verb == "priority":
        picked = list(data.get("values") or [])
        if not picked:
            return "Pick a priority."
        return await run_line(adapter, interaction, f"priority {rest} {picked[0]}")
    if verb == "run":
        return await run_line(adapter, interaction, rest)
    return "That button is no longer in use."


async def _open(
    adapter: DiscordAdapter,
    interaction: discord.Interaction,
    parent: int,
    subject: str,
    details: str,
    message_id: str,
) -> str:
    """A ticket from an interaction: a private thread under `parent`, then the core."""
    user = interaction.user
    identity = await adapter.directory.identity(user, locale=str(interaction.locale))
    thread = await open_thread(adapter, parent, user, subject)
    opened = f"**{render.name(display_name(user))}** opened a ticket: **{render.name(subject)}**\n"
    await adapter.sender.post(thread, render.bodies(details, opened))
    inbound = InboundMessage(
        PLATFORM,
        message_id,
        identity,
        thread_conversation(parent, thread),
        details,
        subject=subject,
    )
    try:
        result = await adapter.gateway.receive(inbound)
    except DomainError as exc:
        return str(exc)
    return Own(f"Your ticket {render.name(result.ref)} is open: <#{thread}>")


async def open_from_panel(
    adapter: DiscordAdapter, interaction: discord.Interaction, data: dict[str, Any]
) -> str:
    parent = interaction.channel_id
    if parent is None or parent not in adapter.cfg.ticket_parents:
        return "Tickets cannot be opened from here; please use the support channel's panel."
    fields = modal_values(data)
    subject = fields.get("subject", "").strip() or f"Ticket from {display_name(interaction.user)}"
    details = fields.get("details", "").strip() or subject
    return await _open(adapter, interaction, parent, subject, details, f"panel:{interaction.id}")


async def open_new(adapter: DiscordAdapter, interaction: discord.Interaction, subject: str) -> str:
    """`/new`: in a support or panel channel a new ticket thread; in a DM a new DM ticket."""
    subject = subject.strip() or "Support request"
    place = await _place(adapter, interaction)
    if interaction.channel_id in adapter.cfg.ticket_parents:
        return await _open(
            adapter, interaction, interaction.channel_id, subject, subject, f"new:{interaction.id}"
        )
    if place.kind == "dm":
        identity = await adapter.directory.identity(interaction.user)
        line = f"new {subject}"
        return (
            await adapter.gateway.execute(
                CommandInvocation(PLATFORM, identity, line, conversation=place.conversation)
            )
        ).text
    return "Open tickets in a support channel (or in a DM with me)."


async def suggestions(
    adapter: DiscordAdapter, interaction: discord.Interaction, data: dict[str, Any]
) -> list[app_commands.Choice[str]]:
    path, values, focused = command_path(data)
    spec = commands.spec_for(path)
    if spec is None or focused is None:
        return []
    typed = str(values.get(focused) or "").lower()
    kind = next((a.kind for a in spec.args if a.name == focused), None)
    identity = await adapter.directory.identity(interaction.user)
    if focused == commands.TICKET_OPTION or kind == "ref":
        role = await adapter.gateway.role_of(identity)
        line = "list" if role.at_least(Role.AGENT) else "mytickets"
        reply = await adapter.gateway.execute(CommandInvocation(PLATFORM, identity, line))
        pattern = adapter.gateway.core.policy.refs.search_pattern
        out = []
        for text in reply.text.splitlines():
            found = pattern.search(text)
            if found and typed in text.lower():
                out.append(app_commands.Choice(name=text[:100], value=found.group(0).upper()))
        return out
    reply = await adapter.gateway.execute(CommandInvocation(PLATFORM, identity, "canned list"))
    names = [line.partition(":")[0].strip() for line in reply.text.splitlines() if ":" in line]
    return [app_commands.Choice(name=n[:100], value=n) for n in names if typed in n.lower()]


async def autocomplete(
    adapter: DiscordAdapter, interaction: discord.Interaction, data: dict[str, Any]
) -> None:
    try:
        choices = await asyncio.wait_for(
            suggestions(adapter, interaction, data), AUTOCOMPLETE_WITHIN
        )
    except Exception:  # too slow or failed: an empty list beats an error in the client
        log.info("autocomplete %s gave no choices", interaction.id, exc_info=True)
        choices = []
    await interaction.response.autocomplete(choices[:25])
