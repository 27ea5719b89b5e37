"""Loop protection: auto-replies, lists and bounces; the ack cap; unparseable mail kept."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from storage import tables as t
from tests.adapters.email.desk import SUPPORT, mail, parsed, running_desk
from tests.fakes.mailservers import SmtpSink


def dsn(original: EmailMessage, *, status: str = "5.1.1", to: str = SUPPORT) -> bytes:
    """An RFC 3464 delivery status notification returning `original`, as Postfix writes one."""
    returned = original.as_bytes().decode("utf-8", "replace")
    return f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.customer.test")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; carol@customer.test
Action: failed
Status: {status}
Diagnostic-Code: smtp; 550 {status} <carol@customer.test>: Recipient address
    rejected: User unknown in virtual mailbox table

--BOUNDARY
Content-Type: message/rfc822

{returned}
--BOUNDARY--
""".encode()


async def test_out_of_office_opens_nothing_and_gets_no_ack(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        vacation = mail(subject="Out of office: VPN down", Auto_Submitted="auto-replied")
        listing = mail(subject="[users] weekly digest", List_Id="<users.lists.customer.test>")
        bulk = mail(subject="Newsletter", Precedence="bulk")
        for message in (vacation, listing, bulk):
            await desk.smtp(message)
        await desk.deliver()
        await asyncio.sleep(0.2)
        assert await desk.tickets() == []
        assert sink.messages == []


async def test_auto_reply_on_a_ticket_is_kept_flagged_without_reopening(
    db_url: str, tmp_path: Path
) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(mail())
        await desk.deliver()
        [ack_raw] = await sink.wait_for(1)
        ack_id = str(parsed(ack_raw.raw)["Message-ID"]).strip("<>")
        await desk.line("bob@T-1: /resolve")
        await desk.deliver()
        await sink.wait_for(2)  # the "resolved" notice (and a satisfaction survey)
        await asyncio.sleep(0.2)
        before = len(sink.messages)
        vacation = mail(
            subject="Automatic reply: [T-1] VPN down",
            body="I am out of the office until Monday.",
            In_Reply_To=f"<{ack_id}>",
            X_Autoreply="yes",
        )
        await desk.smtp(vacation)
        await desk.deliver()
        await asyncio.sleep(0.2)
        [ticket] = await desk.tickets()
        assert ticket.status == "resolved"  # an auto-reply reopens nothing
        assert len(sink.messages) == before  # and is answered by nothing
        rows = await desk.rows(t.messages, t.messages.c.text.like("%out of the office%"))
        assert [(r.ticket_id, r.flags["automatic"]) for r in rows] == [(1, "auto-reply")]


async def test_bounce_of_our_ack_marks_the_delivery_failed(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(mail())
        await desk.deliver()
        [ack_raw] = await sink.wait_for(1)
        ack = parsed(ack_raw.raw)
        bounce = dsn(ack)
        await desk.smtp(bounce)
        await desk.smtp(bounce)  # the same report twice is recorded once
        await desk.deliver()
        [ack_row] = await desk.rows(t.outbox, t.outbox.c.kind == "ack")
        assert ack_row.status == "failed"
        assert "5.1.1" in ack_row.last_error and "User unknown" in ack_row.last_error
        shown = await desk.agent("bob", "/show T-1")
        assert "delivery ack to email failed: bounced: 5.1.1" in shown.text
        assert "Delivery report" in shown.text  # the report itself is on the ticket
        # agents were told; no ticket was opened and nothing was mailed back
        assert any("Delivery failed on T-1" in d["text"] for d in desk.console())
        assert len(await desk.tickets()) == 1
        assert len(sink.messages) == 1
        history = await desk.rows(t.history, t.history.c.kind == "delivery_failed")
        assert len(history) == 1


async def test_bounce_of_unknown_mail_opens_no_ticket(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(dsn(mail(frm=SUPPORT, to="someone@else.test")))
        await desk.deliver()
        assert await desk.tickets() == []
        assert sink.messages == []


async def test_unparseable_mail_is_stored_raw_and_flagged(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        garbage = b"\x00\x01\x02 this is no mail at all \xff\xfe\r\n\r\nbinary"
        await desk.smtp(garbage)
        await desk.deliver()
        [ticket] = await desk.tickets()
        assert "unparseable" in ticket.tags
        [row] = await desk.rows(t.messages)
        assert row.flags["attention"] == "unparseable"
        assert "could not be read" in row.text and "this is no mail at all" in row.text
        [original] = row.attachments
        assert original["filename"] == "original.eml" and original["size"] == len(garbage) + 2
        stored = Path(original["url"].removeprefix("file://")).read_bytes()
        assert garbage in stored
        await asyncio.sleep(0.2)
        assert sink.messages == []  # no ack to an address we could not even read
        card = [d for d in desk.console() if d["kind"] == "card"]
        assert card and "unparseable" in card[-1]["text"]


async def test_acks_to_one_address_are_capped_per_day(db_url: str, tmp_path: Path) -> None:
    async with (
        SmtpSink() as sink,
        running_desk(db_url, tmp_path, sink, email_autoack_cap=2) as desk,
    ):
        for n in range(4):
            await desk.smtp(mail(subject=f"problem {n}"))
        await desk.smtp(mail(frm="dave@customer.test", subject="other sender"))
        await desk.deliver()
        await asyncio.sleep(0.2)
        assert len(await desk.tickets()) == 5  # every mail is a ticket …
        acks = [parsed(m.raw) for m in sink.messages]
        to_carol = [a for a in acks if "carol@" in a["To"]]
        assert len(to_carol) == 2  # … but carol gets two acks a day
        assert len([a for a in acks if "dave@" in a["To"]]) == 1
        desk.session.clock.advance(__import__("datetime").timedelta(days=1, minutes=1))
        await desk.smtp(mail(subject="next day"))
        await desk.deliver()
        await sink.wait_for(4)
