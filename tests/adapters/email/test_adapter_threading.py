"""Threading rules, identities and mailboxes, through the real listener, core and database."""

from __future__ import annotations

from pathlib import Path

from bot.messages import ConversationRef, Identity, InboundMessage
from storage import tables as t
from tests.adapters.email.desk import SUPPORT, mail, parsed, running_desk
from tests.fakes.mailservers import SmtpSink

RULES = """
[[queues]]
name = "billing"

[[rules]]
name = "billing mailbox"
when = { mailbox = "billing@helpdesk.test" }
then = { queue = "billing" }
"""


async def test_subject_tag_alone_never_attaches_a_stranger_to_a_closed_ticket(
    db_url: str, tmp_path: Path
) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(mail())
        await desk.line("bob@T-1: /close done")
        await desk.smtp(mail(frm="mallory@elsewhere.test", subject="Re: [T-1] VPN down"))
        tickets = await desk.tickets()
        assert [(x.id, x.status) for x in tickets] == [(1, "closed"), (2, "new")]
        # the owner's own tagged mail (no threading headers) reopens it, within the window
        await desk.smtp(mail(subject="Re: [T-1] VPN down", body="It broke again."))
        tickets = await desk.tickets()
        assert [(x.id, x.status) for x in tickets] == [(1, "open"), (2, "new")]
        # a tag naming no ticket at all is just a new request
        await desk.smtp(mail(subject="Re: [T-999] something"))
        assert len(await desk.tickets()) == 3


async def test_references_thread_when_in_reply_to_is_unknown(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        first = mail()
        await desk.smtp(first)
        await desk.deliver()
        [ack] = await sink.wait_for(1)
        ack_id = str(parsed(ack.raw)["Message-ID"])
        # a colleague answers someone else's copy: unknown In-Reply-To, our ack in References
        await desk.smtp(
            mail(
                frm="dave@customer.test",
                subject="Re: VPN",
                In_Reply_To="<not-known@customer.test>",
                References=f"{first['Message-ID']} {ack_id} <not-known@customer.test>",
            )
        )
        assert len(await desk.tickets()) == 1
        rows = await desk.rows(t.messages, t.messages.c.platform == "email")
        assert [r.ticket_id for r in rows] == [1, 1]


async def test_identity_joins_a_known_customer_only_when_authenticated(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        SmtpSink() as sink,
        running_desk(db_url, tmp_path, sink, email_trusted_domains="partner.test") as desk,
    ):
        gateway = desk.app.gateway
        known = (("alice", "alice@customer.test"), ("erin", "erin@customer.test"),
                 ("paul", "paul@partner.test"))  # fmt: skip
        for who, email in known:
            # customers already known from another platform, with a verified email
            ident = Identity("slack", who.upper(), who, email=email, email_verified=True)
            await gateway.receive(
                InboundMessage("slack", f"m-{who}", ident, ConversationRef("slack", who), "hi")
            )
        signed = mail(
            frm="Alice Example <alice@customer.test>",
            subject="signed",
            Authentication_Results="mx.helpdesk.test; dkim=pass header.d=customer.test",
        )
        unsigned = mail(frm="Erin <erin@customer.test>", subject="anyone can write this")
        partner = mail(frm="Paul <paul@partner.test>", subject="from a trusted domain")
        for message in (signed, unsigned, partner):
            await desk.smtp(message)
        ids = {(r.platform, r.external_id): r.customer_id for r in await desk.rows(t.identities)}
        assert ids[("email", "alice@customer.test")] == ids[("slack", "ALICE")]
        assert ids[("email", "paul@partner.test")] == ids[("slack", "PAUL")]
        # not authenticated: the records stay apart until an agent runs /customer merge
        assert ids[("email", "erin@customer.test")] != ids[("slack", "ERIN")]
        [identity] = await desk.rows(
            t.identities, t.identities.c.external_id == "erin@customer.test"
        )
        assert identity.display_name == "Erin"  # the display name is kept


async def test_mailboxes_route_to_queues_and_answers_come_from_that_mailbox(
    db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "deskbot.toml"
    config.write_text(RULES)
    async with (
        SmtpSink() as sink,
        running_desk(
            db_url,
            tmp_path,
            sink,
            config=str(config),
            email_addresses="billing@helpdesk.test",
        ) as desk,
    ):
        await desk.smtp(
            mail(to="billing@helpdesk.test", subject="invoice"), "billing@helpdesk.test"
        )
        await desk.smtp(mail(subject="vpn"))
        await desk.deliver()
        queues = {x.subject: x.queue for x in await desk.tickets()}
        assert queues == {"invoice": "billing", "vpn": "general"}
        acks = {parsed(m.raw)["Subject"]: m for m in await sink.wait_for(2)}
        assert acks["Re: [T-1] invoice"].mail_from == "billing@helpdesk.test"
        assert "billing@helpdesk.test" in parsed(acks["Re: [T-1] invoice"].raw)["From"]
        assert acks["Re: [T-2] vpn"].mail_from == SUPPORT


async def test_mail_from_our_own_address_is_not_recorded(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(mail(frm=f"Support <{SUPPORT}>", subject="loop?"))
        await desk.deliver()
        assert await desk.tickets() == []
        assert sink.messages == []
