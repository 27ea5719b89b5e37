"""parse_mail on hand-made mails: MIME structure, decoding, attachments, classification."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from adapters.email import automatic, parsing
from adapters.email.parsing import find_ticket_ref, parse_mail


def crlf(text: str) -> bytes:
    """A mail written with \\n in the test, sent with CRLF as on the wire."""
    return text.replace("\n", "\r\n").encode("utf-8")


def headers(**extra: str) -> str:
    base = {
        "From": "Alice Example <alice@customer.test>",
        "To": "support@helpdesk.test",
        "Subject": "Printer on fire",
        "Message-ID": "<m1@customer.test>",
        "Date": "Mon, 01 Jan 2024 10:00:00 +0100",
    }
    base.update({k.replace("_", "-"): v for k, v in extra.items()})
    return "".join(f"{k}: {v}\n" for k, v in base.items())


# --- structure and text ----------------------------------------------------------------------


def test_multipart_alternative_prefers_plain_and_strips_quote_and_signature() -> None:
    raw = crlf(
        headers(Content_Type='multipart/alternative; boundary="b1"', MIME_Version="1.0")
        + "\n--b1\nContent-Type: text/plain; charset=utf-8\n\n"
        "It is still burning.\n\n-- \nAlice\nACME Corp\n\n"
        "On Mon, Jan 1, 2024 at 10:00 AM Support <support@helpdesk.test> wrote:\n"
        "> We received your request.\n"
        "\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>HTML version</p>\n--b1--\n"
    )
    mail = parse_mail(raw)
    assert mail.error is None
    assert mail.text == "It is still burning."
    assert mail.text_with_signature.startswith("It is still burning.")
    assert "ACME Corp" in mail.text_with_signature
    assert "We received your request." in mail.body  # body keeps the whole text
    assert "HTML version" not in mail.body
    assert mail.attachments == []
    assert mail.message_id == "m1@customer.test"
    assert mail.from_email == "alice@customer.test"
    assert mail.from_name == "Alice Example"
    assert mail.to == ["support@helpdesk.test"]
    assert mail.date == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert mail.raw == raw


def test_html_only_mail_is_converted_and_quoted_block_dropped_from_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>Hello&nbsp;team,</p><p>the VPN is <b>down</b>.<br>Since 9:00.</p>"
        '<div class="gmail_quote">On Mon, Bob wrote:<blockquote>old text</blockquote></div>'
        "</body></html>"
    )
    raw = crlf(headers(Content_Type="text/html; charset=utf-8") + "\n" + html)
    mail = parse_mail(raw)
    assert "color:red" not in mail.body
    assert "Hello team," in mail.body
    assert "the VPN is down." in mail.body
    assert "old text" in mail.body
    assert "old text" not in mail.text
    assert "Since 9:00." in mail.text


def test_bottom_posted_reply_keeps_the_answer_below_the_quote() -> None:
    body = (
        "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Bob wrote:\n> How do I reset it?\n\n"
        "Hold the button for ten seconds.\n"
    )
    mail = parse_mail(crlf(headers() + "\n" + body))
    assert "Hold the button for ten seconds." in mail.text
    assert "How do I reset it?" not in mail.text


def test_rfc2047_headers_and_8bit_headers_are_decoded() -> None:
    raw = crlf(
        headers(
            Subject="=?utf-8?q?Caf=C3=A9_=E2=82=AC?= =?ISO-8859-1?Q?_na=EFve?= plain",
            From="=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.de>",
            Cc="=?utf-8?q?B=C3=B6b?= <bob@x.test>, carol@y.test",
            Reply_To="Desk <desk@x.test>",
        )
        + "\nbody\n"
    )
    mail = parse_mail(raw)
    assert mail.subject == "Café € naïve plain"
    assert mail.from_name == "Jürgen Müller"
    assert mail.cc == ["bob@x.test", "carol@y.test"]
    assert mail.reply_to == ["desk@x.test"]
    raw8 = "From: Jörg <j@x.test>\nSubject: Grüße aus Köln\n\nHallo\n".encode()
    mail8 = parse_mail(raw8)
    assert mail8.subject == "Grüße aus Köln"
    assert mail8.from_name == "Jörg"


def test_unknown_and_wrong_charsets_decode_without_crashing() -> None:
    raw = (
        b"From: a@b.test\r\nSubject: =?x-unknown-charset?q?Caf=E9?=\r\n"
        b"Content-Type: text/plain; charset=x-bogus-8\r\n\r\n"
        + "Grüße, das Gerät ist kaputt und zeigt keine Fehlermeldung mehr an.".encode("cp1252")
    )
    mail = parse_mail(raw)
    assert mail.error is None
    assert mail.subject == "Café"
    assert "Grüße" in mail.body and "Gerät" in mail.body
    assert any("charset" in d for d in mail.defects)


# --- attachments -----------------------------------------------------------------------------


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


def test_attachments_have_md5_and_size_of_decoded_bytes_and_rfc2231_names() -> None:
    raw = crlf(
        headers(Content_Type='multipart/mixed; boundary="m"', MIME_Version="1.0")
        + '\n--m\nContent-Type: multipart/related; boundary="r"\n\n'
        "--r\nContent-Type: text/html; charset=utf-8\n\n<p>See <img src=cid:logo1></p>\n"
        "--r\nContent-Type: image/png\nContent-ID: <logo1>\nContent-Transfer-Encoding: base64\n\n"
        + _b64(PNG)
        + "--r--\n"
        "--m\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\n\n"
        + _b64(PDF)
        + '--m\nContent-Type: text/plain; name="notes.txt"\n'
        "Content-Disposition: attachment;\n filename*0*=iso-8859-1''r%E9sum;\n"
        ' filename*1="e-notes.txt"\n\nplain notes\n'
        '--m\nContent-Type: application/octet-stream; name="=?utf-8?q?Gr=C3=BC=C3=9Fe.bin?="\n'
        "Content-Transfer-Encoding: base64\n\n" + _b64(b"\x00\x01") + "--m--\n"
    )
    mail = parse_mail(raw)
    by_name = {a.filename: a for a in mail.attachments}
    assert set(by_name) == {None, "€ rates.pdf", "résume-notes.txt", "Grüße.bin"}
    pdf = by_name["€ rates.pdf"]
    assert (pdf.size, pdf.md5, pdf.content) == (len(PDF), hashlib.md5(PDF).hexdigest(), PDF)
    assert pdf.content_type == "application/pdf" and not pdf.inline
    logo = by_name[None]
    assert logo.content_type == "image/png" and logo.inline and logo.content == PNG
    assert by_name["résume-notes.txt"].content == b"plain notes"
    assert mail.text == "See"
    assert "plain notes" not in mail.body


def test_attached_message_and_winmail_dat_are_attachments() -> None:
    inner = "From: bob@x.test\nSubject: Original question\nMessage-ID: <in@x.test>\n\nInner body\n"
    raw = crlf(
        headers(Content_Type='multipart/mixed; boundary="m"', MIME_Version="1.0")
        + "\n--m\nContent-Type: text/plain\n\nSee attached.\n"
        "--m\nContent-Type: message/rfc822\n\n" + inner + "--m\n"
        'Content-Type: application/ms-tnef; name="winmail.dat"\n'
        "Content-Transfer-Encoding: base64\n\n" + _b64(b"\x78\x9f\x3e\x22TNEF") + "--m--\n"
    )
    mail = parse_mail(raw)
    assert [a.content_type for a in mail.attachments] == [
        "message/rfc822",
        "application/ms-tnef",
    ]
    message, tnef = mail.attachments
    assert message.filename == "Original question.eml"
    assert b"Inner body" in message.content and message.size == len(message.content)
    assert tnef.filename == "winmail.dat" and tnef.content == b"\x78\x9f\x3e\x22TNEF"
    assert "Inner body" not in mail.body
    assert mail.text == "See attached."
    assert mail.automatic is None


# --- threading headers, dates, auth, language ------------------------------------------------


def test_threading_ids_are_unbracketed() -> None:
    raw = crlf(
        headers(
            Message_ID="<abc@x.test>",
            In_Reply_To="<parent@helpdesk.test> (comment)",
            References="<root@x.test>\n <parent@helpdesk.test>",
            Content_Language="de-DE, en",
        )
        + "\nhi\n"
    )
    mail = parse_mail(raw)
    assert mail.message_id == "abc@x.test"
    assert mail.in_reply_to == "parent@helpdesk.test"
    assert mail.references == ["root@x.test", "parent@helpdesk.test"]
    assert mail.content_language == "de-DE"
    bare = parse_mail(crlf(headers(Message_ID="no-brackets@x.test") + "\nhi\n"))
    assert bare.message_id == "no-brackets@x.test"


@pytest.mark.parametrize(
    ("value", "expected", "defect"),
    [
        ("Tue, 2 Jan 2024 08:30:00 -0500", datetime(2024, 1, 2, 13, 30, tzinfo=UTC), False),
        ("Tue, 2 Jan 2024 08:30:00 -0000", datetime(2024, 1, 2, 8, 30, tzinfo=UTC), False),
        ("Tue, 2 Jan 2024 08:30:00", datetime(2024, 1, 2, 8, 30, tzinfo=UTC), True),
        ("yesterday, around noon", None, True),
    ],
)
def test_dates_are_aware_or_none(value: str, expected: datetime | None, defect: bool) -> None:
    mail = parse_mail(crlf(headers(Date=value) + "\nhi\n"))
    assert mail.date == expected
    if mail.date is not None:
        assert mail.date.tzinfo is not None
        assert mail.date.utcoffset() in (
            timedelta(0),
            timezone(timedelta(hours=-5)).utcoffset(None),
        )
    assert any("Date" in d for d in mail.defects) is defect


def test_authenticated_trusts_only_the_topmost_or_named_authserv() -> None:
    ours = "mx.helpdesk.test; dkim=pass header.d=customer.test; spf=pass"
    forged = "mx.helpdesk.test; dkim=pass (forged by the sender)"
    failing = "mx.helpdesk.test; dkim=fail; dmarc=none (dkim=pass in a comment)"
    assert parse_mail(crlf(f"Authentication-Results: {ours}\n" + headers() + "\nx")).authenticated
    forged_mail = crlf(
        f"Authentication-Results: {failing}\n" + headers(Authentication_Results=forged) + "\nx"
    )
    assert not parse_mail(forged_mail).authenticated
    dmarc = crlf("Authentication-Results: relay.test 1; dmarc=pass\n" + headers() + "\nx")
    assert parse_mail(dmarc).authenticated
    assert not parse_mail(dmarc, trusted_authserv_id="mx.helpdesk.test").authenticated
    assert parse_mail(dmarc, trusted_authserv_id="relay.test").authenticated
    assert not parse_mail(crlf(headers() + "\nx")).authenticated


# --- ticket reference ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "prefix", "expected"),
    [
        ("Re: [T-12] Printer on fire", "T-", "T-12"),
        ("Re: printer T-7 again", "T-", "T-7"),
        ("About T-3 [T-0042] follow-up", "T-", "T-42"),  # the tag wins over a bare token
        ("[t-5] lower case", "T-", "T-5"),
        ("ACT-12 is not ours", "T-", None),
        ("T-12a is not a ref", "T-", None),
        ("no reference", "T-", None),
        ("Re: [HD#77] hello", "HD#", "HD#77"),
        ("", "T-", None),
    ],
)
def test_ticket_ref_in_subject(subject: str, prefix: str, expected: str | None) -> None:
    assert find_ticket_ref(subject, prefix) == expected
    mail = parse_mail(crlf(headers(Subject=subject) + "\nx\n"), ref_prefix=prefix)
    assert mail.ticket_ref_in_subject == expected


# --- automatic kinds -------------------------------------------------------------------------


DSN = """From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@helpdesk.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.customer.test>
List-Id: <not-a-list-really.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery to x@customer.test failed.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; x@customer.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <x@customer.test>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: support@helpdesk.test
To: x@customer.test
Subject: [T-9] Your ticket
Message-ID: <T-9.reply.1@helpdesk.test>

--B--
"""

QMAIL_BOUNCE = """From: MAILER-DAEMON@mx.example.org
To: support@helpdesk.test
Subject: failure notice
Message-ID: <q1@mx.example.org>

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.

<nobody@example.org>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

From: support@helpdesk.test
Message-ID: <T-4.ack@helpdesk.test>
Subject: [T-4] We got your request

text
"""

ARF = """From: abuse@isp.test
To: abuse@helpdesk.test
Subject: FW: report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an abuse report.
--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: test/1.0
Version: 1

--A--
"""


def test_dsn_is_a_bounce_with_original_id_status_and_reason() -> None:
    mail = parse_mail(crlf(DSN))
    assert mail.automatic == "bounce"  # bounce beats the list header
    assert mail.original_message_id == "T-9.reply.1@helpdesk.test"
    assert mail.dsn_status == "5.1.1"
    assert mail.bounce_reason is not None and "Recipient address rejected" in mail.bounce_reason
    assert {a.content_type for a in mail.attachments} == {
        "message/delivery-status",
        "text/rfc822-headers",
    }


def test_non_dsn_bounce_finds_original_id_in_returned_text() -> None:
    mail = parse_mail(crlf(QMAIL_BOUNCE))
    assert mail.automatic == "bounce"
    assert mail.original_message_id == "T-4.ack@helpdesk.test"
    assert mail.dsn_status == "5.1.1"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto-reply"),
        ({"Auto_Submitted": "auto-generated (vacation)"}, "auto-reply"),
        ({"Auto_Submitted": "no"}, None),
        ({"X_Autoreply": "yes"}, "auto-reply"),
        ({"X_Autorespond": "1"}, "auto-reply"),
        ({"X_Auto_Response_Suppress": "All"}, "auto-reply"),
        ({"Subject": "Out of Office: Printer on fire"}, "auto-reply"),
        ({"Subject": "Automatic reply: Printer on fire"}, "auto-reply"),
        ({"Subject": "Abwesenheitsnotiz: Drucker"}, "auto-reply"),
        ({"Precedence": "auto_reply"}, "auto-reply"),
        ({"List_Id": "<users.lists.test>"}, "list"),
        ({"List_Unsubscribe": "<mailto:leave@lists.test>"}, "list"),
        ({"Precedence": "bulk"}, "list"),
        ({"Precedence": "junk"}, "list"),
        ({"Auto_Submitted": "auto-replied", "List_Id": "<l.test>"}, "auto-reply"),
        ({"Subject": "Re: out of office tomorrow?"}, None),  # a person asking
        ({"Subject": "Fwd: Returned mail: see transcript for details"}, None),
        ({}, None),
    ],
)
def test_automatic_kinds(extra: dict[str, str], expected: str | None) -> None:
    assert parse_mail(crlf(headers(**extra) + "\nhello\n")).automatic == expected


def test_arf_is_a_report_and_mailer_daemon_is_a_bounce() -> None:
    assert parse_mail(crlf(ARF)).automatic == "report"
    daemon = headers(From="Mail Delivery Subsystem <MAILER-DAEMON@x.test>", Subject="Hi")
    assert parse_mail(crlf(daemon + "\nsomething\n")).automatic == "bounce"


def test_mdn_read_receipt_is_automatic_not_bounce() -> None:
    raw = crlf(
        headers(Content_Type='multipart/report; report-type=disposition-notification; boundary="D"')
        + "\n--D\nContent-Type: text/plain\n\nYour message was read.\n"
        "--D\nContent-Type: message/disposition-notification\n\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n--D--\n"
    )
    assert parse_mail(raw).automatic == "auto-reply"


def test_classify_accepts_policy_default_messages_too() -> None:
    msg = EmailMessage()
    msg["From"] = "x@y.test"
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("away")
    assert automatic.classify(msg) == "auto-reply"


# --- broken input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG",
        b"no headers here, just text",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain",
        b'From: a@b\r\nContent-Type: text/plain; charset="\r\nContent-Transfer-Encoding: base64'
        b"\r\n\r\n!!!not base64!!!",
        b"Subject: =?utf-8?B?####?=\r\nDate: Mon, 99 Foo 99999 99:99:99\r\n\r\nx",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 200,
    ],
)
def test_broken_input_never_raises(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert mail.raw == raw
    assert isinstance(mail.defects, list)
    if not raw.strip() or b":" not in raw.split(b"\n")[0]:
        assert mail.error is not None


def test_missing_boundary_is_flagged_and_text_kept() -> None:
    raw = crlf(headers(Content_Type="multipart/mixed") + "\nPlease help, the server is down.\n")
    mail = parse_mail(raw)
    assert mail.error is None
    assert mail.defects
    assert "server is down" in mail.body


def test_internal_failure_becomes_error_with_partial_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(msg: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(parsing, "walk", explode)
    raw = crlf(headers(Subject="[T-5] partial") + "\nbody\n")
    mail = parse_mail(raw)
    assert mail.error == "RuntimeError: boom"
    assert mail.subject == "[T-5] partial"
    assert mail.ticket_ref_in_subject == "T-5"
    assert mail.message_id == "m1@customer.test"
    assert mail.raw == raw


def test_wrong_argument_types_return_an_error() -> None:
    assert parse_mail(None).error is not None  # type: ignore[arg-type]
    assert parse_mail("Subject: str input\n\nhi").subject == "str input"  # type: ignore[arg-type]


def test_parsed_mail_is_frozen() -> None:
    mail = parse_mail(crlf(headers() + "\nx\n"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        mail.subject = "changed"  # type: ignore[misc]


def test_iso2022jp_with_microsoft_extensions_decodes() -> None:
    # "①" is JIS row 13 (NEC/Microsoft), which Python's iso2022_jp codecs reject.
    subject = "=?iso-2022-jp?B?" + base64.b64encode(b"\x1b$B-!%F%9%H\x1b(B").decode() + "?="
    raw = crlf(headers(Subject=subject, Content_Type="text/plain; charset=iso-2022-jp"))
    raw += b'\r\n\x1b$B-"$N;n83\x1b(B\r\n'
    mail = parse_mail(raw)
    assert mail.subject == "①テスト"
    assert mail.body == "②の試験"


def test_forwarded_message_is_kept_in_text() -> None:
    body = (
        "Can you look at this?\n\n-- \nAlice\n\n"
        "---------- Forwarded message ---------\nFrom: Bob <bob@x.test>\n"
        "Date: Mon, 1 Jan 2024\nSubject: Broken invoice\nTo: alice@customer.test\n\n"
        "Invoice 17 shows the wrong total.\n"
    )
    mail = parse_mail(crlf(headers(Subject="Fwd: Broken invoice") + "\n" + body))
    assert mail.text.startswith("Can you look at this?")
    assert "Alice" not in mail.text.split("----------")[0]
    assert "Invoice 17 shows the wrong total." in mail.text
