"""IMAP intake against a real (private) Dovecot: IDLE, reconnects, marking, idempotency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.email.imap import KEYWORD
from storage import tables as t
from tests.adapters.email.desk import (
    Desk,
    eventually,
    imap_command,
    imap_flags,
    imap_settings,
    mail,
    parsed,
    require_dovecot,
    running_desk,
)
from tests.fakes.mailservers import DovecotServer, SmtpSink

pytestmark = pytest.mark.dovecot


async def ticket_count(desk: Desk, n: int) -> bool:
    return len(await desk.tickets()) == n


async def connected(desk: Desk, sessions: int = 1) -> bool:
    poller = desk.adapter.poller
    return poller is not None and poller.connected.is_set() and poller.sessions >= sessions


async def test_mail_appended_to_the_mailbox_arrives_through_idle(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_dovecot()
    async with DovecotServer() as server, SmtpSink() as sink:
        # polling only every 10 minutes: a mail that arrives within seconds came by IDLE
        settings = imap_settings(server, imap_poll_seconds=600, imap_idle_seconds=600)
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: connected(desk))
            await asyncio.sleep(0.2)  # let the poller enter IDLE
            customer = mail()
            await server.append(customer.as_bytes())
            await eventually(lambda: ticket_count(desk, 1))
            await desk.deliver()
            [ack] = await sink.wait_for(1)
            assert "[T-1]" in parsed(ack.raw)["Subject"]
            # processed mail is marked, never deleted
            flags = await eventually(lambda: _flagged(server, 1))
            assert KEYWORD in flags[1] and "\\Seen" in flags[1] and "\\Deleted" not in flags[1]


async def _flagged(server: DovecotServer, uid: int) -> dict[int, str] | None:
    flags = await asyncio.to_thread(imap_flags, server)
    return flags if KEYWORD in flags.get(uid, "") else None


async def test_connection_dropped_mid_idle_reconnects_and_loses_or_doubles_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_dovecot()
    async with DovecotServer() as server, SmtpSink() as sink:
        settings = imap_settings(server, imap_poll_seconds=600, imap_idle_seconds=600)
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: connected(desk))
            await server.append(mail(subject="first").as_bytes())
            await eventually(lambda: ticket_count(desk, 1))
            await eventually(lambda: _flagged(server, 1))
            await asyncio.sleep(0.2)  # the poller is back in IDLE

            await server.restart()  # drops the connection in the middle of IDLE
            await server.append(mail(subject="second").as_bytes())
            await server.append(mail(subject="third").as_bytes())
            await eventually(lambda: connected(desk, sessions=2), timeout=60)
            await eventually(lambda: ticket_count(desk, 3), timeout=60)
            await desk.deliver()
            assert sorted(x.subject for x in await desk.tickets()) == ["first", "second", "third"]
            assert await desk.count(t.messages, t.messages.c.platform == "email") == 3
            await eventually(lambda: _all_flagged(server, 3))
            await sink.wait_for(3)

        # deskbot itself restarts while a mail's mark was lost (the server kept it unmarked):
        # it is fetched again and recognised by its Message-ID, so nothing is doubled.
        await asyncio.to_thread(imap_command, server, "STORE", "1", "-FLAGS", f"({KEYWORD})")
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: _all_flagged(server, 3))
            await asyncio.sleep(0.2)
            assert len(await desk.tickets()) == 3
            assert await desk.count(t.messages, t.messages.c.platform == "email") == 3
            await desk.deliver()
            assert len(sink.messages) == 3  # no second ack either


async def _all_flagged(server: DovecotServer, n: int) -> bool:
    flags = await asyncio.to_thread(imap_flags, server)
    return len(flags) == n and all(KEYWORD in f for f in flags.values())


async def test_polling_fallback_without_idle(sqlite_url: str, tmp_path: Path) -> None:
    require_dovecot()
    async with DovecotServer() as server, SmtpSink() as sink:
        settings = imap_settings(server, imap_idle=False, imap_poll_seconds=0.2)
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: connected(desk))
            await server.append(mail().as_bytes())
            await server.append(
                mail(subject="Out of office", Auto_Submitted="auto-replied").as_bytes()
            )
            await eventually(lambda: ticket_count(desk, 1))
            await eventually(lambda: _all_flagged(server, 2))  # the auto-reply: processed too
            assert len(await desk.tickets()) == 1


async def test_processed_mail_can_be_moved_to_a_folder(sqlite_url: str, tmp_path: Path) -> None:
    require_dovecot()
    async with DovecotServer() as server, SmtpSink() as sink:
        await asyncio.to_thread(imap_command, server, "CREATE", "Processed")
        settings = imap_settings(server, imap_processed_folder="Processed")
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: connected(desk))
            await server.append(mail().as_bytes())
            await eventually(lambda: ticket_count(desk, 1))

            async def moved() -> bool:
                inbox = await asyncio.to_thread(imap_flags, server)
                kept = await asyncio.to_thread(imap_flags, server, "Processed")
                return not inbox and len(kept) == 1

            await eventually(moved)


async def test_a_backlog_is_recorded_in_order_with_replies_on_their_tickets(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_dovecot()
    async with DovecotServer() as server, SmtpSink() as sink:
        originals = [mail(frm=f"c{n}@customer.test", subject=f"problem {n}") for n in range(110)]
        for message in originals:
            await server.append(message.as_bytes())
        # replies in later batches, by In-Reply-To only (no tag): they must not overtake
        for n in (0, 60, 105):
            answer = mail(
                frm=f"c{n}@customer.test",
                subject="more details",
                In_Reply_To=str(originals[n]["Message-ID"]),
            )
            await server.append(answer.as_bytes())
        settings = imap_settings(server, email_parse_processes=1)
        async with running_desk(sqlite_url, tmp_path, sink, **settings) as desk:
            await eventually(lambda: _all_flagged(server, 113), timeout=60)
            tickets = await desk.tickets()
            assert [x.subject for x in tickets] == [f"problem {n}" for n in range(110)]
            rows = await desk.rows(t.messages, t.messages.c.text.like("%VPN%"))
            assert len(rows) == 113
            per_ticket = {x.id: 0 for x in tickets}
            for row in rows:
                per_ticket[row.ticket_id] += 1
            assert [tid for tid, n in per_ticket.items() if n == 2] == [1, 61, 106]
