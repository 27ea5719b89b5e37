"""The core's answer to an interaction: ephemeral follow-ups, with the files it made."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import files, render
from bot.messages import Reply

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 5
QUIET = render.QUIET
NOT_ATTACHED = "The files could not be attached; please try again later."


class Own(str):
    """Discord markdown this adapter wrote itself (a channel link): shown as it is."""


async def answer(
    adapter: DiscordAdapter, interaction: discord.Interaction, result: str | Reply
) -> None:
    """The core's answer as ephemeral follow-ups (only the person who asked sees them).

    Files the core made (a report's chart or CSV) are uploaded with the first follow-up,
    within the smaller of our upload limit and the one Discord gives this interaction.
    """
    text, made = (result.text, result.files) if isinstance(result, Reply) else (result, ())
    limit = min(adapter.cfg.upload_limit, interaction.filesize_limit)
    attached, notices = files.made(made, limit)
    if notices:
        text = "\n".join([text, *notices])
    chunks = [text[: render.CONTENT]] if isinstance(text, Own) else render.bodies(text)
    if len(chunks) > MAX_FOLLOWUPS:
        chunks = [*chunks[: MAX_FOLLOWUPS - 1], "… (cut: ask for less, e.g. with filters)"]
    for n, chunk in enumerate(chunks):
        extra: dict[str, Any] = {"files": attached} if n == 0 and attached else {}
        try:
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=QUIET, **extra)
        except discord.HTTPException as exc:  # a refused upload: the answer still goes out
            if not extra:
                raise
            log.warning("files of interaction %s not uploaded: %s", interaction.id, exc)
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=QUIET)
            await interaction.followup.send(NOT_ATTACHED, ephemeral=True)
