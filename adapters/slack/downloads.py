"""Slack files kept on this machine: with DESKBOT_SLACK_DOWNLOAD_DIR set, files people share
are downloaded with the bot token (scope `files:read`), so customers outside Slack (email,
Discord) get the file itself rather than a Slack link they cannot open without a login.

The attachment's `url` becomes the local copy (`file://…`, which the email and Discord adapters
attach or re-upload) and `link` keeps the Slack permalink for people in Slack. A file that is
too big, refused or unreachable keeps only its Slack link: nothing is lost, it is just not here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import aiohttp

from adapters.slack.config import SlackConfig
from adapters.slack.translate import attachments
from bot.messages import AttachmentInfo

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60.0
CHUNK = 64 * 1024
NAME_MAX = 120  # characters of the original name kept in the stored file's name
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Where Slack serves files; the bot token is sent to these hosts (and the API's) only.
SLACK_DOMAINS = ("slack.com", "slack-gov.com")


def safe_name(file_id: str, filename: str) -> str:
    """`F0ABC-report.pdf`: the file id keeps names unique, the rest is the original name's last
    path part in letters, digits, `.`, `_` and `-` only (no separators, no leading dot)."""
    fid = re.sub(r"[^A-Za-z0-9]+", "", file_id)[:40] or "file"
    base = PurePosixPath(filename.replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip("._") or "file"
    if len(base) > NAME_MAX:
        stem, dot, ext = base.rpartition(".")
        ext = ext[:16] if dot else ""
        base = (stem if dot else base)[: NAME_MAX - len(ext) - 1] + (f".{ext}" if ext else "")
    return f"{fid}-{base}"


def _write(path: Path, data: bytes) -> None:
    """Write then rename: a crash never leaves a half file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileKeeper:
    """Turns Slack file objects into attachment records, downloading them when configured."""

    def __init__(self, cfg: SlackConfig) -> None:
        self.root = cfg.download_dir.resolve() if cfg.download_dir is not None else None
        self.max_bytes = cfg.download_max_bytes
        self.token = cfg.bot_token
        self.api_host = urlparse(cfg.api_url).netloc

    async def keep(self, files: list[dict[str, Any]] | None) -> tuple[AttachmentInfo, ...]:
        """Name, type, size and link of each file; the local copy as `url` when downloaded."""
        infos = attachments(files)
        if self.root is None or not files:
            return infos
        out = []
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for raw, info in zip(files, infos, strict=True):
                path = await self.download(session, raw, info.filename)
                if path is None:
                    out.append(info)
                else:
                    size = path.stat().st_size
                    out.append(replace(info, url=path.as_uri(), link=info.url, size=size))
        return tuple(out)

    def path_for(self, file: dict[str, Any], filename: str) -> Path | None:
        """Where a file is kept: always directly inside the download folder."""
        if self.root is None:
            return None
        fid = str(file.get("id") or "")
        if not fid:
            source = str(file.get("url_private") or filename)
            fid = hashlib.sha256(source.encode()).hexdigest()[:16]
        path = (self.root / safe_name(fid, filename)).resolve()
        return path if path.parent == self.root else None

    def trusted(self, url: str) -> bool:
        """Only Slack's own hosts (or the configured API's, e.g. a test fake) get the token."""
        parts = urlparse(url)
        host = parts.hostname or ""
        if parts.netloc == self.api_host and parts.scheme in ("http", "https"):
            return True
        slack = any(host == d or host.endswith("." + d) for d in SLACK_DOMAINS)
        return parts.scheme == "https" and slack

    async def download(
        self, session: aiohttp.ClientSession, file: dict[str, Any], filename: str
    ) -> Path | None:
        """The file's local copy (downloaded now, or already here); None when not kept."""
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        declared = int(file.get("size") or 0)
        path = self.path_for(file, filename)
        if path is None or not url or file.get("is_external") or not self.trusted(url):
            return None  # external files (Google Drive, …) are not Slack's to hand out
        if declared > self.max_bytes:
            log.info("Slack file %s (%d bytes) is over the download cap", file.get("id"), declared)
            return None
        if path.is_file() and (not declared or path.stat().st_size == declared):
            return path  # a redelivered event or the same file shared again
        try:
            data = await self._get(session, url, str(file.get("mimetype") or ""))
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.warning("Slack file %s not downloaded: %s", file.get("id"), exc)
            return None
        if declared and len(data) != declared:
            log.warning(
                "Slack file %s: got %d bytes, expected %d; not kept",
                file.get("id"),
                len(data),
                declared,
            )
            return None
        try:
            await asyncio.to_thread(_write, path, data)
        except OSError:
            log.exception("could not keep Slack file %s under %s", file.get("id"), self.root)
            return None
        return path

    async def _get(self, session: aiohttp.ClientSession, url: str, mimetype: str) -> bytes:
        """The bytes at `url`, fetched with the bot token. Redirects are not followed: Slack
        sends a request it refuses (bad token, missing `files:read`) to its sign-in page."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status} (is the files:read scope granted?)")
            if response.content_type == "text/html" and mimetype != "text/html":
                raise ValueError("Slack answered with a web page, not the file")
            data = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                data += chunk
                if len(data) > self.max_bytes:
                    raise ValueError(f"larger than {self.max_bytes} bytes")
            return bytes(data)
