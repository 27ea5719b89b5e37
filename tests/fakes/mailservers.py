"""Loopback mail servers for tests: an aiosmtpd SMTP sink and a private Dovecot IMAP server.

Both are plain async context managers (not fixtures), so any test can start as many as it needs:

    async with SmtpSink() as sink: ...            # sink.port, sink.messages, sink.fail_next(...)
    async with DovecotServer() as imap: ...       # imap.port, imap.users, await imap.append(...)

DovecotServer runs its own `dovecot -F` with a config, passwd-file and maildirs in a temporary
folder; it never touches the system daemon or /etc/dovecot.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
WAIT_SECONDS = 10.0  # upper bound for the waits below; a test should never get near it


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- SMTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message accepted by the sink: envelope and the raw bytes as sent."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes


@dataclass
class _Failure:
    remaining: int
    reply: str


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = self.sink._failure
        if failure is not None and failure.remaining > 0:
            failure.remaining -= 1
            self.sink.rejected += 1
            return failure.reply
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        self.sink.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 OK queued"


class SmtpSink:
    """aiosmtpd on 127.0.0.1:<free port> that records every accepted message."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self.rejected = 0
        self._failure: _Failure | None = None
        self._controller: Controller | None = None

    def fail_next(self, count: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer the next `count` messages (at DATA) with `code text` instead of accepting."""
        if not 400 <= code <= 599:
            raise ValueError("fail_next needs a 4xx or 5xx code")
        self._failure = _Failure(count, f"{code} {text}")

    async def wait_for(self, count: int) -> list[ReceivedMail]:
        """Wait (up to WAIT_SECONDS) until `count` messages were accepted; all messages so far."""
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"sink got {len(self.messages)} of {count} messages")
            await asyncio.sleep(0.01)
        return list(self.messages)

    async def __aenter__(self) -> SmtpSink:
        self.port = free_port()
        self._controller = Controller(_SinkHandler(self), hostname=self.host, port=self.port)
        # start() blocks until the server thread answers; keep the event loop free meanwhile.
        await asyncio.to_thread(self._controller.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None


# --- IMAP (Dovecot) ---------------------------------------------------------------------------


class DovecotUnavailable(RuntimeError):
    """No dovecot binary on this machine (apt-get install dovecot-imapd)."""


def dovecot_binary() -> str | None:
    """Path of the dovecot binary, or None."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    return found


_CONFIG = """\
# Private throwaway Dovecot for deskbot tests: loopback only, plaintext auth, no TLS.
instance_name = deskbot-test-{port}
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_fsync = never
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  # Mode 0 disables the per-IP auth penalty: tests try wrong passwords from 127.0.0.1 and
  # would otherwise slow every later login by 2-15 s.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class DovecotServer:
    """A private Dovecot IMAP server on 127.0.0.1:<free port> with maildirs in a temp folder."""

    users: dict[str, str] = field(default_factory=lambda: {"support": "secret"})
    host: str = HOST
    port: int = 0
    root: Path | None = None
    _proc: asyncio.subprocess.Process | None = None
    _own_root: bool = False

    @property
    def running(self) -> bool:
        """True while the dovecot master process is alive."""
        return self._proc is not None and self._proc.returncode is None

    async def __aenter__(self) -> DovecotServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    async def start(self) -> None:
        """Write the config (first time) and start dovecot in the foreground as our child."""
        binary = dovecot_binary()
        if binary is None:
            raise DovecotUnavailable("dovecot binary not found; apt-get install dovecot-imapd")
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="deskbot-dovecot-"))
            self._own_root = True
        if not self.port:
            self.port = free_port()
        config = self._write_config()
        self._proc = await asyncio.create_subprocess_exec(
            binary,
            "-F",
            "-c",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,  # start-up errors, before log_path applies
            start_new_session=True,  # our own process group: stop() can end all its children
        )
        await self._wait_ready()

    async def stop(self) -> None:
        """Stop this dovecot (only the process group we started); mail stays on disk."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), WAIT_SECONDS)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port with the same mailboxes."""
        await self.stop()
        await self.start()

    async def append(self, raw: bytes, *, user: str | None = None, mailbox: str = "INBOX") -> None:
        """APPEND a raw message to a user's mailbox, as an MTA/LDA delivery would."""
        name = user or next(iter(self.users))
        await asyncio.to_thread(self._append_sync, name, self.users[name], raw, mailbox)

    def log(self) -> str:
        """Dovecot's log so far (for assertion messages)."""
        path = self.root / "dovecot.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _append_sync(self, user: str, password: str, raw: bytes, mailbox: str) -> None:
        with imaplib.IMAP4(self.host, self.port, timeout=10) as client:
            client.login(user, password)
            status, data = client.append(mailbox, None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {status} {data!r}")
            client.logout()

    def _write_config(self) -> Path:
        assert self.root is not None
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            internal_user, login_user, mail_user = "dovecot", "dovenull", "nobody"
        else:  # unprivileged: everything runs as the current user
            internal_user = login_user = mail_user = pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(mail_user)
        passwd = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        (self.root / "passwd").write_text(passwd)
        if os.geteuid() == 0:
            # mkdtemp makes 0700 root folders; the mail user and dovecot's helpers need in.
            os.chmod(self.root, 0o755)
            os.chown(self.root / "mail", entry.pw_uid, entry.pw_gid)
            os.chmod(self.root / "passwd", 0o644)
        config = self.root / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                host=self.host,
                port=self.port,
                root=self.root,
                internal_user=internal_user,
                login_user=login_user,
                mail_uid=entry.pw_uid,
                mail_gid=entry.pw_gid,
            )
        )
        return config

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            proc = self._proc
            if proc is not None and proc.returncode is not None:
                err = (await proc.stderr.read()).decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"dovecot exited ({proc.returncode}): {err}{self.log()}")
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            try:
                greeting = await asyncio.wait_for(reader.readline(), 5)
            finally:
                writer.close()
                await writer.wait_closed()
            if greeting.startswith(b"* OK"):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"dovecot did not answer on {self.host}:{self.port}\n{self.log()}")
