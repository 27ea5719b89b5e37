"""Attachments relayed with a message: re-uploaded within Discord's upload limit, else linked."""

from __future__ import annotations

import io
import logging
from typing import Any

import aiohttp
import discord

from bot.formatting import escape_markdown, to_discord

log = logging.getLogger(__name__)

MAX_FILES = 10  # per message


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def notice(item: dict[str, Any], why: str) -> str:
    """A line telling staff a file is not attached here, with its link when there is one."""
    filename = to_discord(escape_markdown(str(item.get("filename") or "file")))
    size = int(item.get("size") or 0)
    link = f": <{item['url']}>" if item.get("url") else ""
    return f"📎 {filename} ({human_size(size)}) {why}{link}"


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
            async with session.get(str(url)) as response:
                response.raise_for_status()
                data = await response.content.read(limit - total + 1)
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
