"""IMAP intake (aioimaplib): IDLE with a polling fallback, reconnect with backoff.

Processed mail is marked — the keyword `$Deskbot` plus \\Seen, or moved to a folder — and
never deleted. Mail counts as processed only once the core has committed it, so a crash or a
dropped connection at any point means the mail is fetched again, and the core's Message-ID
idempotency records it once. Within a connection, (UIDVALIDITY, UID) pairs already handed
over are not handed over again even if marking them failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Iterator
from typing import TypeVar

from aioimaplib import aioimaplib

from adapters.email.config import EmailConfig
from adapters.email.intake import MailIntake

log = logging.getLogger(__name__)

T = TypeVar("T")
KEYWORD = "$Deskbot"
BATCH = 50
IN_FLIGHT = 3
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The server said no (login, select, fetch …)."""


def parse_fetch(lines: list[bytes | bytearray]) -> dict[int, bytes]:
    """UID -> message bytes from a `UID FETCH … (UID BODY.PEEK[])` response."""
    found: dict[int, bytes] = {}
    uid: int | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
        elif b"FETCH" in line:
            uid, body = None, None
        if isinstance(line, bytes):
            match = _FETCH_UID.search(line)
            if match:
                uid = int(match.group(1))
        if uid is not None and body is not None:
            found[uid] = body
            uid, body = None, None
    return found


def parse_search(lines: list[bytes | bytearray]) -> list[int]:
    first = bytes(lines[0]) if lines else b""
    words = first.replace(b"SEARCH", b"").split()
    return [int(w) for w in words if w.isdigit()]


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ImapPoller:
    """Watches one folder. `run()` loops until `stop()`; `connected` is set while logged in."""

    def __init__(self, cfg: EmailConfig, intake: MailIntake) -> None:
        self.cfg = cfg
        self.intake = intake
        self.connected = asyncio.Event()
        self.sessions = 0  # successful logins so far (tests watch reconnects)
        self._stop = asyncio.Event()
        self._lost = asyncio.Event()
        self._handed_over: set[tuple[int, int]] = set()
        self._retry_soon = False
        self._keywords = True

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Connect, watch, and reconnect after any failure: 1 s, 2 s, 4 s … up to the cap."""
        delay = 1.0
        while not self._stop.is_set():
            before = self.sessions
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # dropped connection, refused login, timeouts …
                log.warning("IMAP %s:%s: %s", self.cfg.imap_host, self.cfg.imap_port, exc)
            if self._stop.is_set():
                break
            if self.sessions > before:
                delay = 1.0  # it worked for a while: try again soon
            await self._sleep(delay)
            delay = min(delay * 2, self.cfg.imap_reconnect_max_seconds)

    async def _call(self, command: Awaitable[T]) -> T:
        """Run an IMAP command, but give up at once when the connection drops."""
        task = asyncio.ensure_future(command)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not task.done():
            task.cancel()
            raise ConnectionError("IMAP connection lost")
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _session(self) -> None:
        cfg = self.cfg
        self._lost = asyncio.Event()
        context = ssl.create_default_context() if cfg.imap_ssl else None
        client = aioimaplib.IMAP4(
            host=cfg.imap_host or "127.0.0.1",
            port=cfg.imap_port,
            timeout=cfg.imap_timeout,
            conn_lost_cb=lambda _exc: self._lost.set(),
            ssl_context=context,
        )
        try:
            await client.wait_hello_from_server()
            response = await client.login(cfg.imap_user or "", cfg.imap_password or "")
            if response.result != "OK":
                raise ImapError(f"login as {cfg.imap_user} refused: {response.lines}")
            uidvalidity = await self._select(client)
            self.sessions += 1
            self.connected.set()
            idle = cfg.imap_idle and client.has_capability("IDLE")
            log.info("IMAP %s: watching %s (%s)", cfg.imap_host, cfg.imap_folder,
                     "IDLE" if idle else f"polling every {cfg.imap_poll_seconds:g}s")  # fmt: skip
            while not self._stop.is_set():
                await self._process_new(client, uidvalidity)
                wait = cfg.imap_poll_seconds if self._retry_soon else cfg.imap_idle_seconds
                if idle:
                    await self._idle(client, min(wait, cfg.imap_idle_seconds))
                else:
                    await self._poll_wait(client)
        finally:
            self.connected.clear()
            await self._close(client)

    async def _select(self, client: aioimaplib.IMAP4) -> int:
        response = await client.select(self.cfg.imap_folder)
        if response.result != "OK":
            raise ImapError(f"cannot select {self.cfg.imap_folder}: {response.lines}")
        text = b"\n".join(bytes(x) for x in response.lines)
        flags = re.search(rb"PERMANENTFLAGS \(([^)]*)\)", text)
        # Without custom keywords (no "\*") processed mail is marked \Seen only.
        self._keywords = bool(flags and b"\\*" in flags.group(1))
        match = _UIDVALIDITY.search(text)
        return int(match.group(1)) if match else 0

    async def _process_new(self, client: aioimaplib.IMAP4, uidvalidity: int) -> None:
        """Hand over every unmarked mail, oldest first, in batches; mark what was recorded."""
        self._retry_soon = False
        criteria = f"UNKEYWORD {KEYWORD} UNDELETED" if self._keywords else "UNSEEN UNDELETED"
        failed: set[int] = set()
        while not self._stop.is_set():
            response = await self._call(client.uid_search(criteria, charset=None))
            if response.result != "OK":
                raise ImapError(f"search failed: {response.lines}")
            pending = [u for u in parse_search(response.lines) if u not in failed]
            fresh = [u for u in pending if (uidvalidity, u) not in self._handed_over]
            done = [u for u in pending if (uidvalidity, u) in self._handed_over]
            if done:
                await self._mark(client, done)
            if not fresh:
                return
            await self._hand_over_all(client, uidvalidity, fresh, failed)

    async def _hand_over_all(
        self, client: aioimaplib.IMAP4, uidvalidity: int, uids: list[int], failed: set[int]
    ) -> None:
        """A backlog goes in batches, a few in flight: the next fetch overlaps the parse and
        commit of the one before (the intake keeps them in order). Recorded mail is marked."""
        window = asyncio.Semaphore(IN_FLIGHT)

        async def one(batch: list[int]) -> None:
            async with window:
                ok = await self._hand_over(client, uidvalidity, batch)
                failed.update(u for u in batch if u not in ok)
                if ok:
                    await self._mark(client, ok)

        await asyncio.gather(*(one(batch) for batch in _batches(uids, BATCH)))

    async def _hand_over(
        self, client: aioimaplib.IMAP4, uidvalidity: int, uids: list[int]
    ) -> list[int]:
        """Fetch and deliver `uids`, in order, as one group (the intake keeps their order)."""
        uid_set = ",".join(map(str, uids))
        response = await self._call(client.uid("fetch", uid_set, "(UID BODY.PEEK[])"))
        if response.result != "OK":
            raise ImapError(f"fetch failed: {response.lines}")
        mails = parse_fetch(response.lines)
        order = [u for u in uids if u in mails]
        results = await self.intake.deliver_many([mails[u] for u in order])
        ok = []
        for uid, result in zip(order, results, strict=True):
            if isinstance(result, BaseException):
                log.error("IMAP uid %s not recorded (kept for a retry): %s", uid, result)
                self._retry_soon = True
                continue
            self._handed_over.add((uidvalidity, uid))
            ok.append(uid)
        return ok

    async def _mark(self, client: aioimaplib.IMAP4, uids: list[int]) -> None:
        uid_set = ",".join(map(str, uids))
        folder = self.cfg.imap_processed_folder
        if folder:
            # MOVE keeps the mail (in another folder); never a delete of our own.
            response = await self._call(client.uid("move", uid_set, folder))
        else:
            flags = f"(\\Seen {KEYWORD})" if self._keywords else "(\\Seen)"
            response = await self._call(client.uid("store", uid_set, "+FLAGS.SILENT", flags))
        if response.result != "OK":
            log.warning("IMAP could not mark %s processed: %s", uid_set, response.lines)

    async def _idle(self, client: aioimaplib.IMAP4, seconds: float) -> None:
        """IDLE until the server pushes something, `seconds` pass, we stop, or the line drops."""
        idle = await client.idle_start(timeout=seconds)
        push = asyncio.ensure_future(client.wait_server_push(timeout=seconds + 60))
        lost = asyncio.ensure_future(self._lost.wait())
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            done, _ = await asyncio.wait({push, lost, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (push, lost, stop):
                task.cancel()
        if lost in done:
            idle.cancel()
            raise ConnectionError("connection lost during IDLE")
        client.idle_done()
        try:
            await asyncio.wait_for(idle, self.cfg.imap_timeout)
        except TimeoutError as exc:
            raise ConnectionError("no answer to DONE after IDLE") from exc

    async def _poll_wait(self, client: aioimaplib.IMAP4) -> None:
        lost = asyncio.ensure_future(self._lost.wait())
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({lost, stop}, timeout=self.cfg.imap_poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            lost.cancel()
            stop.cancel()
        if self._lost.is_set():
            raise ConnectionError("connection lost")
        await self._call(client.noop())  # the server reports news; proves the line is alive

    async def _close(self, client: aioimaplib.IMAP4) -> None:
        if self._lost.is_set():
            return
        try:
            await asyncio.wait_for(client.logout(), 5)
        except Exception:  # already gone: nothing to tidy
            log.debug("IMAP logout failed", exc_info=True)
