"""The email adapter end to end: SMTP/LMTP in, core, console agents, SMTP out (all loopback)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from adapters.email.translate import message_id_of
from storage import tables as t
from tests.adapters.email.desk import SUPPORT, lmtp_send, mail, parsed, running_desk
from tests.fakes.mailservers import SmtpSink


def ids(value: object) -> list[str]:
    return str(value or "").replace("<", " ").replace(">", " ").split()


async def test_new_mail_opens_ticket_reply_threads_agent_answer_is_threaded(
    db_url: str, tmp_path: Path
) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        first = mail()
        await desk.smtp(first)
        await desk.deliver()
        [ack_raw] = await sink.wait_for(1)
        ack = parsed(ack_raw.raw)
        first_id = ids(first["Message-ID"])[0]
        assert "[T-1]" in ack["Subject"]
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["X-Auto-Response-Suppress"] == "All"
        assert ack_raw.rcpt_tos == ["carol@customer.test"]
        assert ids(ack["In-Reply-To"]) == [first_id]
        assert ack_raw.mail_from == SUPPORT
        # the card and the customer's words reached the agents (console)
        assert any(d["kind"] == "card" and d["ticket"] == "T-1" for d in desk.console())

        # The customer answers the ack; no tag in the subject: In-Reply-To alone threads it.
        ack_id = ids(ack["Message-ID"])[0]
        reply = mail(
            subject="Re: still broken",
            body="It is still broken.\n\nOn Monday Support wrote:\n> We received it\n",
            In_Reply_To=f"<{ack_id}>",
            References=f"<{first_id}> <{ack_id}>",
        )
        await desk.smtp(reply)
        await desk.deliver()
        assert len(await desk.tickets()) == 1
        relayed = [d for d in desk.console() if "It is still broken." in d["text"]]
        assert relayed and relayed[0]["ticket"] == "T-1"
        assert "We received it" not in relayed[0]["text"]  # quotes stripped
        assert len(sink.messages) == 1  # no second ack for a reply

        # An agent answers from the console: a threaded mail, not automatic.
        await desk.line("bob@T-1: /reply We restarted the VPN gateway, please try again.")
        [_, answer_raw] = await sink.wait_for(2)
        answer = parsed(answer_raw.raw)
        reply_id = ids(reply["Message-ID"])[0]
        assert ids(answer["In-Reply-To"]) == [reply_id]
        assert ids(answer["References"]) == [first_id, ack_id, reply_id]
        assert answer["Subject"] == "Re: [T-1] VPN down"
        assert answer["Auto-Submitted"] is None
        assert "bob" in answer["From"] and SUPPORT in answer["From"]
        plain = answer.get_body(("plain",))
        html = answer.get_body(("html",))
        assert plain is not None and "restarted the VPN gateway" in plain.get_content()
        assert html is not None and "<p>" in html.get_content()
        own_id = ids(answer["Message-ID"])[0]
        assert own_id.endswith("@helpdesk.test") and own_id not in (ack_id, reply_id)

        # A reply to the agent's mail names only our Message-ID: still T-1.
        again = mail(subject="Re: thanks", body="Works now!", In_Reply_To=f"<{own_id}>")
        await desk.smtp(again)
        await desk.deliver()
        assert len(await desk.tickets()) == 1
        assert await desk.count(t.messages, t.messages.c.platform == "email") == 3


async def test_internal_notes_never_become_mail(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(mail())
        await desk.deliver()
        await sink.wait_for(1)
        await desk.line("bob@T-1: /note the customer is on the old VPN client")
        await desk.line("bob@T-1: /claim")
        await desk.deliver()
        await asyncio.sleep(0.2)  # anything sent would have arrived by now
        assert len(sink.messages) == 1
        assert not any(b"old VPN client" in m.raw for m in sink.messages)
        # the outbox never even held a customer row for the note
        rows = await desk.rows(t.outbox, t.outbox.c.platform == "email")
        assert [r.kind for r in rows] == ["ack"]
        assert all("old VPN client" not in r.text for r in rows)


async def test_reply_to_and_cc_receive_answers(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        await desk.smtp(
            mail(Reply_To="helpdesk-contact@customer.test", Cc="Boss <boss@customer.test>")
        )
        await desk.deliver()
        [ack] = await sink.wait_for(1)
        assert ack.rcpt_tos == ["helpdesk-contact@customer.test"]  # the ack: sender only
        await desk.line("bob@T-1: /reply On it.")
        [_, answer] = await sink.wait_for(2)
        assert answer.rcpt_tos == ["helpdesk-contact@customer.test", "boss@customer.test"]
        message = parsed(answer.raw)
        assert message["To"] == "helpdesk-contact@customer.test"
        assert "boss@customer.test" in message["Cc"]


async def test_lmtp_listener_records_once_per_message(db_url: str, tmp_path: Path) -> None:
    async with (
        SmtpSink() as sink,
        running_desk(db_url, tmp_path, sink, lmtp_listen="lmtp://127.0.0.1:0") as desk,
    ):
        assert desk.adapter.listener is not None
        port = desk.adapter.listener.port
        message = mail(to=f"{SUPPORT}, billing@helpdesk.test")
        replies = await lmtp_send(port, message, [SUPPORT, "billing@helpdesk.test"])
        assert [r[:3] for r in replies] == ["250", "250"]  # one reply per recipient
        # an MTA retry of the same mail (same Message-ID) is recorded once
        assert [r[:3] for r in await lmtp_send(port, message, [SUPPORT])] == ["250"]
        await desk.deliver()
        assert len(await desk.tickets()) == 1
        assert await desk.count(t.messages, t.messages.c.platform == "email") == 1
        await sink.wait_for(1)
        assert len(sink.messages) == 1
        [row] = await desk.rows(t.messages, t.messages.c.platform == "email")
        assert row.external_id == message_id_of_raw(message.as_bytes())


def message_id_of_raw(raw: bytes) -> str:
    from adapters.email.parsing import parse_mail

    return message_id_of(parse_mail(raw))


async def test_smtp_refusals_are_retried_or_shown_to_agents(db_url: str, tmp_path: Path) -> None:
    async with SmtpSink() as sink, running_desk(db_url, tmp_path, sink) as desk:
        sink.fail_next(1, code=451, text="4.3.0 greylisted")
        await desk.smtp(mail())
        await desk.deliver()
        [row] = await desk.rows(t.outbox, t.outbox.c.platform == "email")
        assert (row.status, row.attempts) == ("queued", 1) and "451" in row.last_error
        desk.session.clock.advance(timedelta(minutes=1))
        await desk.deliver()
        [ack] = await sink.wait_for(1)
        [row] = await desk.rows(t.outbox, t.outbox.c.platform == "email")
        assert row.status == "sent" and row.external_id in ack.raw.decode()

        sink.fail_next(1, code=550, text="5.1.1 mailbox unavailable")
        await desk.line("bob@T-1: /reply Could you send a screenshot?")
        rows = await desk.rows(t.outbox, t.outbox.c.kind == "reply")
        assert [r.status for r in rows] == ["failed"]
        shown = await desk.agent("bob", "/show T-1")
        assert "delivery reply to email failed: SMTP 550 5.1.1 mailbox unavailable" in shown.text
        assert any("Delivery failed on T-1" in d["text"] for d in desk.console())
