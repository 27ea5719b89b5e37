"""The loopback mail fakes work with the clients deskbot uses: aiosmtplib and aioimaplib."""

from __future__ import annotations

import asyncio
import os
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest
from aioimaplib import aioimaplib

from tests.fakes.mailservers import DovecotServer, SmtpSink, dovecot_binary


def _mail(subject: str, body: str = "Cannot connect") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "carol@customer.test"
    msg["To"] = "support@helpdesk.test"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    msg.set_content(body)
    return msg


def require_dovecot() -> None:
    """Skip without Dovecot, unless DESKBOT_REQUIRE_DOVECOT=1 makes its absence a failure."""
    if dovecot_binary() is not None:
        return
    reason = "dovecot binary not found (apt-get install -y dovecot-imapd)"
    if os.environ.get("DESKBOT_REQUIRE_DOVECOT") == "1":
        pytest.fail(f"{reason}; DESKBOT_REQUIRE_DOVECOT=1 requires it")
    pytest.skip(f"{reason}; set DESKBOT_REQUIRE_DOVECOT=1 to fail instead")


# --- SMTP sink --------------------------------------------------------------------------------


async def test_smtp_sink_records_envelope_and_raw_message() -> None:
    async with SmtpSink() as sink:
        mail = _mail("VPN down")
        await aiosmtplib.send(
            mail,
            hostname=sink.host,
            port=sink.port,
            sender="bounce@helpdesk.test",
            recipients=["carol@customer.test", "dave@customer.test"],
        )
        [got] = await sink.wait_for(1)
    assert got.mail_from == "bounce@helpdesk.test"
    assert got.rcpt_tos == ["carol@customer.test", "dave@customer.test"]
    assert b"Subject: VPN down" in got.raw
    assert str(mail["Message-ID"]).encode() in got.raw


@pytest.mark.parametrize(("code", "transient"), [(451, True), (550, False)])
async def test_smtp_sink_fails_the_next_n_messages(code: int, transient: bool) -> None:
    async with SmtpSink() as sink:
        sink.fail_next(2, code=code, text="4.3.0 busy" if transient else "5.1.1 no such user")
        for attempt in range(2):
            with pytest.raises(aiosmtplib.SMTPResponseException) as err:
                await aiosmtplib.send(_mail(f"try {attempt}"), hostname=sink.host, port=sink.port)
            assert err.value.code == code
        await aiosmtplib.send(_mail("third time"), hostname=sink.host, port=sink.port)
        [got] = await sink.wait_for(1)
    assert sink.rejected == 2
    assert b"Subject: third time" in got.raw


async def test_smtp_sink_port_is_closed_after_exit() -> None:
    async with SmtpSink() as sink:
        port = sink.port
    with pytest.raises((aiosmtplib.SMTPConnectError, OSError)):
        await aiosmtplib.send(_mail("late"), hostname="127.0.0.1", port=port, timeout=2)


# --- Dovecot ----------------------------------------------------------------------------------


async def _login(server: DovecotServer, user: str = "support") -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(user, server.users[user])
    assert response.result == "OK", response
    return client


@pytest.mark.dovecot
async def test_dovecot_login_select_idle_fetch() -> None:
    require_dovecot()
    async with DovecotServer() as server:
        watcher = await _login(server)
        assert watcher.has_capability("IDLE")
        selected = await watcher.select("INBOX")
        assert selected.result == "OK"
        assert b"0 EXISTS" in selected.lines

        idle = await watcher.idle_start(timeout=20)
        await server.append(_mail("VPN down").as_bytes())
        push = await asyncio.wait_for(watcher.wait_server_push(), 10)
        watcher.idle_done()
        await asyncio.wait_for(idle, 10)
        assert any(b"EXISTS" in line for line in push), push

        fetched = await watcher.uid("fetch", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert fetched.result == "OK"
        assert any(
            b"Subject: VPN down" in bytes(x)
            for x in fetched.lines
            if isinstance(x, bytes | bytearray)
        )
        await watcher.logout()


@pytest.mark.dovecot
async def test_dovecot_rejects_wrong_password_and_keeps_mail_across_restart() -> None:
    require_dovecot()
    async with DovecotServer(users={"support": "secret", "other": "pw2"}) as server:
        client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
        await client.wait_hello_from_server()
        assert (await client.login("support", "wrong")).result == "NO"
        await client.logout()

        await server.append(_mail("kept").as_bytes())
        await server.append(_mail("for other").as_bytes(), user="other")
        old_port = server.port
        await server.restart()
        assert server.running and server.port == old_port

        client = await _login(server)
        selected = await client.select("INBOX")
        assert b"1 EXISTS" in selected.lines  # only support's mail, and it survived
        fetched = await client.uid("fetch", "1:*", "(RFC822)")
        raw = next(
            bytes(x) for x in fetched.lines if isinstance(x, bytes | bytearray) and b"Subject:" in x
        )
        assert b"Subject: kept" in raw
        await client.logout()
    assert not server.running


def test_missing_dovecot_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.dovecot_binary", lambda: None)
    monkeypatch.setenv("DESKBOT_REQUIRE_DOVECOT", "1")
    with pytest.raises(pytest.fail.Exception, match="DESKBOT_REQUIRE_DOVECOT=1"):
        require_dovecot()
    monkeypatch.delenv("DESKBOT_REQUIRE_DOVECOT")
    with pytest.raises(pytest.skip.Exception, match="dovecot binary not found"):
        require_dovecot()


async def test_dovecot_server_without_binary_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.fakes.mailservers as fakes

    monkeypatch.setattr(fakes, "dovecot_binary", lambda: None)
    with pytest.raises(fakes.DovecotUnavailable):
        async with DovecotServer():
            pass
