"""Files sent with a message: relayed attachments re-uploaded within Discord's upload limit
(else linked), and files the core made (report charts, CSV exports) uploaded with an answer."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import aiohttp
import discord

from bot.formatting import escape_markdown, to_discord
from bot.formatting.sizes import human_size
from bot.messages import FileAttachment

log = logging.getLogger(__name__)

MAX_FILES = 10  # per message


def web_link(item: dict[str, Any]) -> str | None:
    """A link people can open: the file's url when it is on the web, else its platform page
    (`link`, e.g. a Slack permalink beside a copy kept here); never a path on this machine."""
    for key in ("url", "link"):
        value = str(item.get(key) or "")
        if value.startswith(("https://", "http://")):
            return value
    return None


def notice(item: dict[str, Any], why: str) -> str:
    """A line telling staff a file is not attached here, with its link when there is one."""
    filename = to_discord(escape_markdown(str(item.get("filename") or "file")))
    size = int(item.get("size") or 0)
    url = web_link(item)
    link = f": <{url}>" if url else ""
    shown = f" ({human_size(size)})" if size > 0 else ""
    return f"📎 {filename}{shown} {why}{link}"


def _local(url: str, most: int) -> bytes:
    """Up to `most` bytes of a file kept on this machine (`file://`, e.g. a downloaded Slack
    file or a mailed attachment); OSError when it is not there."""
    with Path(unquote(urlparse(url).path)).open("rb") as fh:
        return fh.read(most)


async def _fetch(session: aiohttp.ClientSession, url: str, most: int) -> bytes:
    if url.startswith("file://"):
        return await asyncio.to_thread(_local, url, most)
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.content.read(most)


async def prepare(
    session: aiohttp.ClientSession, items: list[dict[str, Any]], limit: int
) -> tuple[list[discord.File], list[str]]:
    """Files to upload with the message (all of them together within `limit` bytes) and
    notices for the rest: over the limit, too many, or not downloadable."""
    files: list[discord.File] = []
    notices: list[str] = []
    total = 0
    for item in items:
        size, url = int(item.get("size") or 0), item.get("url")
        if not url:
            notices.append(notice(item, "was not shared as a file"))
            continue
        if len(files) >= MAX_FILES or total + size > limit:
            notices.append(notice(item, "is over Discord's upload limit; download it here"))
            continue
        try:
            data = await _fetch(session, str(url), limit - total + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("attachment %s not downloaded: %r", url, exc)
            notices.append(notice(item, "could not be copied; download it here"))
            continue
        if total + len(data) > limit:
            notices.append(notice(item, "is over Discord's upload limit; download it here"))
            continue
        total += len(data)
        files.append(discord.File(io.BytesIO(data), filename=str(item.get("filename") or "file")))
    return files, notices


def made(items: Sequence[FileAttachment], limit: int) -> tuple[list[discord.File], list[str]]:
    """Files the core produced, to upload with one message (together within `limit` bytes,
    at most ten); a notice for each one left out, so the answer says what is missing."""
    out: list[discord.File] = []
    notices: list[str] = []
    total = 0
    for item in items:
        size = len(item.data)
        if len(out) >= MAX_FILES or total + size > limit:
            entry = {"filename": item.filename, "size": size}
            notices.append(notice(entry, "is over Discord's upload limit and was not attached"))
            continue
        total += size
        out.append(discord.File(io.BytesIO(item.data), filename=item.filename))
    return out, notices
