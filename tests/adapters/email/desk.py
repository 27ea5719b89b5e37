"""Test harness: a real deskbot (console + email adapters) wired to loopback mail servers."""

from __future__ import annotations

import asyncio
import imaplib
import io
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func, select

from adapters.console.session import ConsoleSession
from adapters.email import EmailAdapter
from bot.config import Settings
from bot.messages import CommandInvocation, ConversationRef, Identity, Reply
from storage import tables as t
from tests.fakes.mailservers import DovecotServer, SmtpSink, dovecot_binary

SUPPORT = "support@helpdesk.test"


def mail(
    frm: str = "Carol Customer <carol@customer.test>",
    subject: str = "VPN down",
    body: str = "Hello,\n\nthe VPN does not connect since this morning.\n\nCarol\n",
    *,
    to: str = SUPPORT,
    **headers: str,
) -> EmailMessage:
    """A customer mail; extra headers by keyword (In_Reply_To="<…>" -> In-Reply-To)."""
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def parsed(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def settings(db_url: str, tmp: Path, sink: SmtpSink | None, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "email_address": SUPPORT,
        "lmtp_listen": "smtp://127.0.0.1:0",
        "email_attachments_dir": str(tmp / "attachments"),
        "smtp_host": "127.0.0.1" if sink else None,
        "smtp_port": sink.port if sink else 25,
        "smtp_starttls": False,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Desk:
    """One running deskbot: the console session (agents), the email adapter and the sink."""

    session: ConsoleSession
    adapter: EmailAdapter
    sink: SmtpSink | None
    out: io.StringIO

    @property
    def app(self) -> Any:
        return self.session._app

    async def smtp(self, message: EmailMessage | bytes, rcpt: str = SUPPORT) -> None:
        """Hand a mail to the adapter's listener (SMTP on loopback); returns once accepted."""
        assert self.adapter.listener is not None
        await aiosmtplib.send(
            message,
            sender="carol@customer.test",
            recipients=[rcpt],
            hostname="127.0.0.1",
            port=self.adapter.listener.port,
        )

    async def line(self, text: str) -> None:
        """A console line (`bob@T-1: /reply …`); outbound is dispatched afterwards."""
        await self.session.line(text)

    async def deliver(self) -> None:
        await self.session.deliver()

    async def agent(self, who: str, command: str) -> Reply:
        inv = CommandInvocation(
            "console", Identity("console", who, who), command, ConversationRef("console", who)
        )
        return await self.app.gateway.execute(inv)

    def console(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.out.getvalue().splitlines() if x.strip()]

    async def count(self, table: Any, *where: Any) -> int:
        async with self.app.engine.connect() as conn:
            stmt = select(func.count()).select_from(table)
            for cond in where:
                stmt = stmt.where(cond)
            return int((await conn.execute(stmt)).scalar_one())

    async def rows(self, table: Any, *where: Any) -> list[Any]:
        async with self.app.engine.connect() as conn:
            stmt = select(table)
            for cond in where:
                stmt = stmt.where(cond)
            return list((await conn.execute(stmt.order_by(table.c[0]))).all())

    async def tickets(self) -> list[Any]:
        return await self.rows(t.tickets)


@asynccontextmanager
async def running_desk(
    db_url: str, tmp: Path, sink: SmtpSink | None, **kw: Any
) -> AsyncIterator[Desk]:
    cfg = settings(db_url, tmp, sink, **kw)
    adapter = EmailAdapter(cfg)
    out = io.StringIO()
    session = ConsoleSession(cfg, out=out, json_mode=True, scripted=True, extra_adapters=[adapter])
    await session.open()
    try:
        await session.line(":agent bob")
        yield Desk(session, adapter, sink, out)
    finally:
        await session.close()


async def lmtp_send(port: int, message: EmailMessage, rcpts: list[str]) -> list[str]:
    """Deliver over LMTP and return the DATA replies, one per recipient (RFC 2033 §4.2).

    Written out by hand: smtplib.LMTP reads only one DATA reply, as for SMTP.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> str:
        lines = []
        while True:
            line = (await reader.readline()).decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    async def say(command: str) -> str:
        writer.write(command.encode() + b"\r\n")
        await writer.drain()
        return await reply()

    try:
        assert (await reply()).startswith("220")
        assert (await say("LHLO tests")).startswith("250")
        assert (await say("MAIL FROM:<carol@customer.test>")).startswith("250")
        for rcpt in rcpts:
            assert (await say(f"RCPT TO:<{rcpt}>")).startswith("250")
        assert (await say("DATA")).startswith("354")
        body = message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = body.replace(b"\r\n.", b"\r\n..")
        writer.write(body + b"\r\n.\r\n")
        await writer.drain()
        replies = [await reply() for _ in rcpts]
        await say("QUIT")
        return replies
    finally:
        writer.close()
        await writer.wait_closed()


def require_dovecot() -> None:
    """Skip without Dovecot, unless DESKBOT_REQUIRE_DOVECOT=1 makes its absence a failure."""
    if dovecot_binary() is not None:
        return
    reason = "dovecot binary not found (apt-get install -y dovecot-imapd)"
    if os.environ.get("DESKBOT_REQUIRE_DOVECOT") == "1":
        pytest.fail(f"{reason}; DESKBOT_REQUIRE_DOVECOT=1 requires it")
    pytest.skip(f"{reason}; set DESKBOT_REQUIRE_DOVECOT=1 to fail instead")


def imap_settings(server: DovecotServer, **kw: Any) -> dict[str, Any]:
    """Settings that point the adapter at a private Dovecot (no listener)."""
    return {
        "lmtp_listen": None,
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_user": "support",
        "imap_password": server.users["support"],
        "imap_ssl": False,
        **kw,
    }


def imap_flags(server: DovecotServer, mailbox: str = "INBOX") -> dict[int, str]:
    """UID -> FLAGS of every mail in a mailbox (a second client, as a person would look)."""
    with imaplib.IMAP4(server.host, server.port, timeout=10) as client:
        client.login("support", server.users["support"])
        client.select(mailbox, readonly=True)
        _, data = client.uid("FETCH", "1:*", "(FLAGS)")
        out = {}
        for item in data:
            if not item:
                continue
            text = item.decode() if isinstance(item, bytes) else str(item)
            uid = re.search(r"UID (\d+)", text)
            flags = re.search(r"FLAGS \(([^)]*)\)", text)
            if uid and flags:
                out[int(uid.group(1))] = flags.group(1)
        client.logout()
        return out


def imap_command(server: DovecotServer, *args: str, mailbox: str = "INBOX") -> None:
    """Run one UID command as a second client (e.g. clear a flag, create a folder)."""
    with imaplib.IMAP4(server.host, server.port, timeout=10) as client:
        client.login("support", server.users["support"])
        if args[0] == "CREATE":
            client.create(args[1])
        else:
            client.select(mailbox)
            client.uid(*args)
        client.logout()


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met in {timeout}s (last value {value!r})")
        await asyncio.sleep(0.05)
