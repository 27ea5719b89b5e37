"""`deskbot run` starts the email adapter; `deskbot console` runs next to it (real processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import aiosmtplib

from bot.bootstrap import build_app, platform_adapters
from bot.config import Settings
from tests.adapters.email.desk import SUPPORT, mail, parsed
from tests.conftest import REPO
from tests.fakes.mailservers import SmtpSink, free_port


def environment(tmp_path: Path, sink: SmtpSink, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKBOT_")}
    env.update(
        PYTHONPATH=str(REPO),
        DESKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db",
        DESKBOT_EMAIL_ADDRESS=SUPPORT,
        DESKBOT_LMTP_LISTEN=f"smtp://127.0.0.1:{port}",
        DESKBOT_SMTP_HOST=sink.host,
        DESKBOT_SMTP_PORT=str(sink.port),
        DESKBOT_SMTP_STARTTLS="false",
        DESKBOT_EMAIL_ATTACHMENTS_DIR=str(tmp_path / "attachments"),
        DESKBOT_AGENTS="console:bob",
    )
    return env


async def until_sent(db: Path, kind: str) -> None:
    for _ in range(200):
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status FROM outbox WHERE kind = ?", (kind,)).fetchone()
        if row and row[0] == "sent":
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the {kind} was not marked sent")


async def test_run_starts_email_and_console_answers_by_mail(tmp_path: Path) -> None:
    async with SmtpSink() as sink:
        port = free_port()
        env = environment(tmp_path, sink, port)
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            for _ in range(200):  # wait for the listener
                try:
                    await aiosmtplib.send(mail(), hostname="127.0.0.1", port=port, timeout=2)
                    break
                except (aiosmtplib.SMTPConnectError, OSError):
                    await asyncio.sleep(0.1)
            [ack] = await sink.wait_for(1)
            assert "[T-1]" in parsed(ack.raw)["Subject"]
            # stop only once the ack is recorded as sent: a row still "sending" holds back
            # later mail of its conversation until its lease runs out
            await until_sent(tmp_path / "d.db", "ack")
        finally:
            run.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(run.communicate(), 30)
        assert run.returncode == 0, err.decode()
        assert b"running (email)" in err

        # The console runs next to the configured adapters: an agent answers the mail ticket.
        console = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "console", "--script", "-", "--json",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(
            console.communicate(b"bob@T-1: /reply Please restart the VPN client.\n"), 60
        )
        assert console.returncode == 0, err.decode()
        [_, answer] = await sink.wait_for(2)
        message = parsed(answer.raw)
        assert message["Subject"] == "Re: [T-1] VPN down"
        assert str(message["In-Reply-To"]).strip("<>") in ack.raw.decode()
        body = message.get_body(("plain",))
        assert body is not None and "restart the VPN client" in body.get_content()


async def test_email_settings_enable_the_adapter_and_its_ack_cap(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db",
        email_address=SUPPORT,
        lmtp_listen="lmtp://127.0.0.1:0",
        email_autoack_cap=7,
    )
    adapters = platform_adapters(settings)
    assert [a.platform for a in adapters] == ["email"]
    app = await build_app(settings, adapters=adapters)
    try:
        assert app.core.policy.ack_caps == {"email": 7}
        assert "email" not in app.core.policy.agent_platforms  # agents work from chat
    finally:
        await app.stop()
