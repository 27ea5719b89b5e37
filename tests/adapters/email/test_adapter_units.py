"""Email adapter pieces without a database: settings, translation, composing, SMTP errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mailparser_reply.parser import EmailMessage as LibraryReplyMessage

from adapters.email.config import EmailConfig, parse_listen
from adapters.email.imap import parse_fetch, parse_search
from adapters.email.model import Attachment
from adapters.email.outbound import SmtpSender, compose, message_id_for, subject_for
from adapters.email.parsing import parse_mail
from adapters.email.reply import LANGUAGES, _FastReplyMessage
from adapters.email.store import AttachmentStore
from adapters.email.translate import (
    clean,
    identity_of,
    mailbox_of,
    message_id_of,
    thread_ids,
    to_inbound,
)
from bot.config import Settings
from bot.messages import ConversationRef, DeliveryError, Outbound
from bot.services.threads import ThreadMessage
from tests.adapters.email.desk import mail
from tests.adapters.email.test_corpus import CORPUS
from tests.fakes.mailservers import SmtpSink


def config(**kw: Any) -> EmailConfig:
    values: dict[str, Any] = {"email_address": "Support@Helpdesk.test", **kw}
    return EmailConfig.from_settings(Settings(_env_file=None, **values))  # type: ignore[call-arg]


def outbound(kind: str = "reply", text: str = "Hello **there**", **payload: Any) -> Outbound:
    return Outbound(
        id=7,
        platform="email",
        audience="customer",
        kind=kind,
        ticket="T-3",
        text=text,
        conversation=ConversationRef("email", "support@helpdesk.test", "a1@customer.test"),
        payload={"ref": "T-3", "subject": "Re: [T-3] Fwd: VPN down", **payload},
    )


def message(mid: str, **headers: Any) -> ThreadMessage:
    return ThreadMessage(mid, "Carol", {"mailbox": "support@helpdesk.test", **headers})


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:2424", ("lmtp", "127.0.0.1", 2424)),
        ("lmtp://0.0.0.0:24", ("lmtp", "0.0.0.0", 24)),
        ("smtp://127.0.0.1:2525", ("smtp", "127.0.0.1", 2525)),
    ],
)
def test_listen_address(value: str, expected: tuple[str, str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["http://x:1", "127.0.0.1", "lmtp://:25"])
def test_bad_listen_address(value: str) -> None:
    with pytest.raises(ValueError, match="DESKBOT_LMTP_LISTEN"):
        parse_listen(value)


def test_config_needs_an_address_and_knows_its_own() -> None:
    with pytest.raises(ValueError, match="DESKBOT_EMAIL_ADDRESS"):
        config(email_address=None)
    cfg = config(email_addresses="Billing@helpdesk.test, sales@helpdesk.test", smtp_ssl=True)
    assert cfg.addresses == (
        "support@helpdesk.test",
        "billing@helpdesk.test",
        "sales@helpdesk.test",
    )
    assert cfg.is_ours("BILLING@helpdesk.test") and not cfg.is_ours("carol@customer.test")
    assert cfg.smtp_ssl and not cfg.smtp_starttls  # TLS on connect excludes STARTTLS
    assert cfg.message_id_domain == "helpdesk.test"
    assert config(imap_idle_seconds=3600).imap_idle_seconds == 28 * 60  # RFC 2177


# --- translation ------------------------------------------------------------------------------


def test_translation_keeps_what_answers_need() -> None:
    cfg = config(email_addresses="billing@helpdesk.test", email_trusted_domains="customer.test")
    raw = mail(
        to="billing@helpdesk.test, dave@customer.test",
        Cc="Boss <boss@customer.test>, support@helpdesk.test",
        Reply_To="team@customer.test",
        In_Reply_To="<parent@x>",
        References="<root@x> <parent@x>",
        subject="Re: [T-5] VPN",
    ).as_bytes()
    parsed = parse_mail(raw)
    inbound = to_inbound(parsed, cfg, mailbox=mailbox_of(parsed, cfg))
    assert inbound.conversation.channel == "billing@helpdesk.test"
    assert inbound.thread_ids == ("parent@x", "root@x")
    assert inbound.ticket_ref == "T-5"
    assert inbound.headers["participants"] == ["dave@customer.test", "boss@customer.test"]
    assert inbound.headers["reply_to"] == ["team@customer.test"]
    assert inbound.headers["references"] == ["root@x", "parent@x"]
    assert inbound.author.email_verified  # trusted domain
    assert not inbound.visible_to_agents


def test_identity_is_the_address_with_its_display_name() -> None:
    cfg = config()
    plain = parse_mail(mail(frm="Carol Customer <Carol@Customer.test>").as_bytes())
    ident = identity_of(plain, cfg)
    assert (ident.external_id, ident.display_name, ident.email) == (
        "carol@customer.test",
        "Carol Customer",
        "Carol@Customer.test",
    )
    assert not ident.email_verified
    signed = mail(Authentication_Results="mx.helpdesk.test; dmarc=pass header.from=customer.test")
    assert identity_of(parse_mail(signed.as_bytes()), cfg).email_verified


def test_message_without_id_gets_a_stable_one_and_nul_is_cleaned() -> None:
    raw = b"From: a@b.test\r\nSubject: x\r\n\r\nbody\x00text\r\n"
    first, again = parse_mail(raw), parse_mail(raw)
    assert message_id_of(first) == message_id_of(again).lower()
    assert message_id_of(first).endswith("@no-message-id.invalid")
    assert clean({"a": ["x\x00y"]}) == {"a": ["x\ufffdy"]}
    assert "\x00" not in to_inbound(first, config(), mailbox="support@helpdesk.test").text
    assert thread_ids(first) == []


def test_attachments_are_stored_once_under_a_cap(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path, max_bytes=10)
    small = Attachment("a.txt", "text/plain", 5, "md5", b"hello")
    big = Attachment("b.bin", "application/octet-stream", 11, "md5", b"x" * 11)
    first, twin, kept_out = store.save(small), store.save(small), store.save(big)
    assert first.url == twin.url and first.url is not None
    assert Path(first.url.removeprefix("file://")).read_bytes() == b"hello"
    assert kept_out.url is None and kept_out.size == 11  # listed, not kept
    assert AttachmentStore(None).save(small).url is None


# --- composing --------------------------------------------------------------------------------


def test_agent_reply_is_threaded_addressed_and_not_automatic() -> None:
    cfg = config()
    thread = [
        message(
            "a1@customer.test", **{"from": "carol@customer.test"}, participants=["boss@c.test"]
        ),
        message(
            "a2@customer.test",
            **{"from": "carol@customer.test"},
            reply_to=["team@customer.test"],
            references=[f"r{i}@x" for i in range(30)],
        ),
    ]
    mail_out = compose(outbound(agent_name="bob"), thread, cfg)
    msg = mail_out.message
    assert msg["To"] == "team@customer.test"
    assert msg["Cc"] == "carol@customer.test, boss@c.test"
    assert mail_out.recipients == ["team@customer.test", "carol@customer.test", "boss@c.test"]
    assert msg["In-Reply-To"] == "<a2@customer.test>"
    refs = re.findall(r"<([^>]+)>", str(msg["References"]))
    assert len(refs) == 20 and refs[-1] == "a2@customer.test"
    assert msg["Subject"] == "Re: [T-3] VPN down"
    assert msg["Auto-Submitted"] is None
    assert "bob" in msg["From"] and mail_out.sender == "support@helpdesk.test"
    html = msg.get_body(("html",))
    assert html is not None and "<strong>there</strong>" in html.get_content()
    plain = msg.get_body(("plain",))
    assert plain is not None and "Hello there" in plain.get_content()


def test_automatic_mail_is_marked_and_the_ack_goes_to_the_sender_only() -> None:
    cfg = config()
    thread = [message("a1@x", **{"from": "carol@customer.test"}, participants=["boss@c.test"])]
    ack = compose(outbound("ack"), thread, cfg)
    assert ack.recipients == ["carol@customer.test"]
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["X-Auto-Response-Suppress"] == "All"
    notice = compose(outbound("system"), thread, cfg)
    assert notice.recipients == ["carol@customer.test", "boss@c.test"]
    assert notice.message["Auto-Submitted"] == "auto-replied"


def test_message_ids_are_ours_and_stable_per_outbox_row() -> None:
    first = message_id_for(outbound(), "helpdesk.test")
    assert first == message_id_for(outbound(), "helpdesk.test")  # a retry reuses it
    assert first != message_id_for(outbound(text="other"), "helpdesk.test")
    assert first.startswith("T-3.") and first.endswith("@helpdesk.test")
    assert subject_for(outbound(subject="AW: Re: [T-3]  hello"), "T-") == "Re: [T-3] hello"


def test_nothing_to_answer_is_a_permanent_failure() -> None:
    with pytest.raises(DeliveryError) as err:
        compose(outbound(), [], config())
    assert err.value.permanent
    with pytest.raises(DeliveryError) as err:
        compose(outbound(), [message("a1@x")], config())  # no address kept at all
    assert err.value.permanent


@pytest.mark.parametrize(("code", "permanent"), [(451, False), (550, True)])
async def test_smtp_errors_are_permanent_or_retried(code: int, permanent: bool) -> None:
    async with SmtpSink() as sink:
        cfg = config(smtp_host=sink.host, smtp_port=sink.port, smtp_starttls=False)
        composed = compose(outbound(), [message("a1@x", **{"from": "c@customer.test"})], cfg)
        sink.fail_next(1, code=code, text="5.1.1 nope" if permanent else "4.3.0 busy")
        with pytest.raises(DeliveryError) as err:
            await SmtpSender(cfg).send(composed)
        assert err.value.permanent is permanent
        await SmtpSender(cfg).send(composed)
        assert len(sink.messages) == 1
    with pytest.raises(DeliveryError) as err:  # the server is gone: retried later
        await SmtpSender(cfg).send(composed)
    assert not err.value.permanent
    with pytest.raises(DeliveryError, match="no SMTP server"):
        await SmtpSender(config()).send(composed)


# --- IMAP responses ---------------------------------------------------------------------------


def test_imap_fetch_and_search_responses() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (UID 5 BODY[] {3}",
        bytearray(b"abc"),
        b")",
        b"2 FETCH (BODY[] {2}",
        bytearray(b"de"),
        b" UID 9)",
        b"Fetch completed.",
    ]
    assert parse_fetch(lines) == {5: b"abc", 9: b"de"}
    assert parse_search([b"1 4 17", b"Search completed"]) == [1, 4, 17]
    assert parse_search([b"SEARCH", b"done"]) == []


# --- the faster reply parser ------------------------------------------------------------------


def test_guarded_header_search_finds_exactly_what_the_library_finds() -> None:
    texts = [
        p.read_text(errors="replace")
        for folder in ("talon_fixtures", "email_reply_parser", "django_helpdesk_mail")
        for p in sorted((CORPUS / folder).rglob("*"))
        if p.is_file()
    ]
    assert len(texts) > 40
    langs = list(LANGUAGES)
    for text in texts:
        library = LibraryReplyMessage(text=text, languages=list(langs), keep_hyphen_lists=True)
        fast = _FastReplyMessage(text=text, languages=list(langs), keep_hyphen_lists=True)
        assert fast.HEADER_REGEX.findall(fast.text) == library.HEADER_REGEX.findall(library.text)
