"""Outbound rendering: bodies split within 2,000 characters, the card embed, status, panel.

Pure functions: data in, discord.py objects out. Every piece of text someone wrote goes
through bot.formatting.to_discord (mass and raw mentions neutralised) and is sent with
AllowedMentions.none(), so relayed text can never ping anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord

from bot.commands import PRIORITIES
from bot.formatting import escape_markdown, split_text, to_discord, to_plain, truncate

CONTENT = 2000  # characters per message
SOURCE_CHUNK = 1900  # markdown per message before conversion (neutralising adds characters)
EMBED_TITLE, EMBED_DESCRIPTION, FIELD_VALUE, FOOTER = 256, 4096, 1024, 2048
EMBED_TOTAL = 6000
BUTTON_LABEL = 80
CUSTOM_ID = 100
PREFIX = "deskbot:"  # every custom_id this bot owns
QUIET = discord.AllowedMentions.none()

STATUS_LABEL = {
    "new": ("🆕", "New: waiting for an agent"),
    "open": ("💬", "Open"),
    "pending": ("⏳", "Waiting for your reply"),
    "on_hold": ("⏰", "On hold"),
    "resolved": ("✅", "Resolved"),
    "closed": ("🔒", "Closed"),
    "merged": ("🔀", "Merged into another ticket"),
}
CLAIMED = "👀"
PRIORITY_COLOUR = {"low": 0x95A5A6, "normal": 0x3498DB, "high": 0xE67E22, "urgent": 0xE74C3C}
SLA_STATE = {"at_risk": " ⏰ at risk", "breached": " 🔥 breached", "paused": " (paused)"}


class StaticView(discord.ui.View):
    """Components only: clicks are handled by custom_id in `on_interaction`, so nothing is
    kept in discord.py's view store (it would grow with every card and survive no restart)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


def safe(text: str) -> str:
    """Deskbot markdown someone wrote -> Discord markdown that cannot ping."""
    return to_discord(text)


def name(text: str) -> str:
    """A person's or ticket's name shown inside our own formatting."""
    return to_discord(escape_markdown(text))


def bodies(markdown: str, prefix: str = "") -> list[str]:
    """A body as one or more messages of at most 2,000 characters (code fences kept whole).

    `prefix` is Discord markdown already made safe (e.g. who wrote it) put before the body.
    """
    out: list[str] = []
    for chunk in split_text(markdown, SOURCE_CHUNK - len(prefix)) or [""]:
        converted = safe(chunk)
        if len(converted) <= CONTENT - len(prefix):
            out.append(converted)
        else:  # neutralising grew it past the limit: convert smaller pieces
            out.extend(safe(p) for p in split_text(chunk, 500))
    out = [o for o in out if o.strip()] or ["\u200b"]
    if prefix:
        out[0] = prefix + out[0]
    return [truncate(o, CONTENT) for o in out]


def buttons(specs: list[dict[str, Any]]) -> StaticView | None:
    """Buttons from an outbound payload ({"label", "command", "style"}): survey scores, "This
    solved it". Each runs its command line as whoever clicks it, with that person's role (the
    core checks who may), so a click needs no state here and works after a restart."""
    view = StaticView()
    seen: set[str] = set()
    for spec in specs[:5]:
        custom_id = f"{PREFIX}run:{spec.get('command', '')}"
        # Cut, it would run another command; twice, Discord refuses the whole message. The
        # text says how to answer without buttons either way.
        if len(custom_id) > CUSTOM_ID or custom_id in seen:
            continue
        seen.add(custom_id)
        style = discord.ButtonStyle.primary if spec.get("style") == "primary" else None
        view.add_item(
            discord.ui.Button(
                label=truncate(to_plain(str(spec.get("label") or "OK")), BUTTON_LABEL),
                custom_id=custom_id,
                style=style or discord.ButtonStyle.secondary,
            )
        )
    return view if view.children else None


def status_mark(status: str, assignee: str | None) -> str:
    """The reaction shown on the status message."""
    if assignee and status in ("new", "open"):
        return CLAIMED
    return STATUS_LABEL.get(status, ("💬", status))[0]


def status_message(
    ref: str, status: str, assignee: str | None, reopen_window: str | None
) -> tuple[str, StaticView | None]:
    """The status message in a ticket's thread, edited in place as the ticket changes."""
    emoji, label = STATUS_LABEL.get(status, ("💬", status))
    text = f"**{name(ref)}** · {emoji} {label}"
    if assignee and status in ("new", "open", "pending", "on_hold"):
        text += f" · {name(assignee)} is on it"
    if status == "closed" and reopen_window:
        text += f"\nWrite here within {reopen_window} to reopen it; after that, open a new ticket."
    if status in ("new", "open", "pending", "on_hold"):
        view = StaticView()
        view.add_item(
            discord.ui.Button(
                label="Close ticket",
                custom_id=f"{PREFIX}close:{ref}",
                style=discord.ButtonStyle.secondary,
            )
        )
        return text, view
    return text, None


def _sla(fields: dict[str, Any]) -> str:
    raw = str(fields["sla_due"])
    try:
        when = f"<t:{int(datetime.fromisoformat(raw).timestamp())}:R>"
    except ValueError:
        when = name(raw)
    target = name(str(fields.get("sla_target") or ""))
    return f"{target} {when}{SLA_STATE.get(str(fields.get('sla_state') or ''), '')}".strip()


def card(fields: dict[str, Any]) -> tuple[discord.Embed, StaticView]:
    """The staff card: one embed of the ticket's facts and the buttons to work it."""
    ref = str(fields.get("ref") or "?")
    status = str(fields.get("status") or "")
    priority = str(fields.get("priority") or "normal")
    assignee = fields.get("assignee")
    embed = discord.Embed(
        title=truncate(to_plain(f"{ref} · {fields.get('subject') or ''}"), EMBED_TITLE),
        colour=PRIORITY_COLOUR.get(priority, 0x3498DB),
    )
    facts: list[tuple[str, str]] = [
        ("Status", f"{STATUS_LABEL.get(status, ('', ''))[0]} {name(status)}".strip()),
        ("Priority", name(priority)),
        ("Assignee", name(str(assignee)) if assignee else "*unassigned*"),
        ("Customer", name(str(fields.get("customer") or "?"))),
        ("From", name(str(fields.get("channel") or "?"))),
        ("Queue", name(str(fields.get("queue") or ""))),
    ]
    if fields.get("sla_due"):
        facts.append(("SLA due", _sla(fields)))
    if fields.get("tags"):
        facts.append(("Tags", name(", ".join(map(str, fields["tags"])))))
    if fields.get("waiting"):
        facts.append(("Waiting", name(str(fields["waiting"]))))
    if fields.get("articles"):
        facts.append(("Articles", name("; ".join(str(a["title"]) for a in fields["articles"]))))
    if fields.get("rating") is not None:
        facts.append(("Rating", f"{fields['rating']}/5"))
    for key, value in facts[:25]:
        embed.add_field(name=key, value=truncate(value, FIELD_VALUE) or "-", inline=True)
    if fields.get("failed_deliveries"):
        embed.set_footer(text=f"⚠ {fields['failed_deliveries']} failed deliveries")
    while len(embed) > EMBED_TOTAL:  # all text of an embed: 6,000 characters at most
        longest = max(range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""))
        field = embed.fields[longest]
        embed.set_field_at(
            longest,
            name=field.name or "-",
            value=truncate(field.value or "", len(field.value or "") // 2) or "-",
            inline=True,
        )
    return embed, card_view(ref, status, priority, bool(assignee))


def card_view(ref: str, status: str, priority: str, assigned: bool) -> StaticView:
    view = StaticView()
    done = status in ("closed", "merged")
    view.add_item(
        discord.ui.Button(
            label="Claim",
            custom_id=f"{PREFIX}claim:{ref}",
            style=discord.ButtonStyle.primary,
            disabled=done or assigned,
        )
    )
    if status == "closed":
        view.add_item(discord.ui.Button(label="Reopen", custom_id=f"{PREFIX}reopen:{ref}", row=0))
    else:
        view.add_item(
            discord.ui.Button(
                label="Close",
                custom_id=f"{PREFIX}close:{ref}",
                style=discord.ButtonStyle.danger,
                disabled=done,
            )
        )
    options = [
        discord.SelectOption(label=f"Priority: {p}", value=p, default=p == priority)
        for p in PRIORITIES
    ]
    view.add_item(
        discord.ui.Select(
            custom_id=f"{PREFIX}priority:{ref}",
            placeholder="Priority",
            options=options,
            disabled=done,
            row=1,
        )
    )
    return view


def panel() -> tuple[discord.Embed, StaticView]:
    """The "Open a ticket" panel kept in each panel channel."""
    embed = discord.Embed(
        title="Need help?",
        description="Press the button to open a private ticket: only you and our team see it.",
        colour=0x3498DB,
    )
    view = StaticView()
    view.add_item(
        discord.ui.Button(
            label="Open a ticket",
            custom_id=f"{PREFIX}panel",
            style=discord.ButtonStyle.primary,
            emoji="🎫",
        )
    )
    return embed, view


class TicketModal(discord.ui.Modal):
    """Subject and details for a ticket opened from the panel (the submit is handled by
    custom_id in `on_interaction`, so it also works after a restart)."""

    subject: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
        label="Subject", custom_id="subject", max_length=100
    )
    details: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
        label="What do you need help with?",
        custom_id="details",
        style=discord.TextStyle.paragraph,
        max_length=4000,
    )

    def __init__(self) -> None:
        super().__init__(title="Open a ticket", custom_id=f"{PREFIX}open", timeout=600)
