"""parse_mail: raw RFC 5322 bytes -> ParsedMail, tolerant of every broken mail we have seen."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

from adapters.email import automatic
from adapters.email.decoding import addresses, all_headers, header, message_ids
from adapters.email.mime import walk
from adapters.email.model import Attachment, AutomaticKind, ParsedMail
from adapters.email.reply import visible_reply

__all__ = ["Attachment", "AutomaticKind", "ParsedMail", "find_ticket_ref", "parse_mail"]


def parse_mail(
    raw: bytes, *, ref_prefix: str = "T-", trusted_authserv_id: str | None = None
) -> ParsedMail:
    """Parse one mail. Never raises: a failure becomes ParsedMail(error=...) with what was found.

    `trusted_authserv_id`: when set, only Authentication-Results headers written by that
    server count for `authenticated`; otherwise the topmost one (added by the last hop) does.
    """
    fields: dict[str, Any] = {}
    defects: list[str] = []
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise TypeError(f"expected bytes, got {type(raw).__name__}")
        raw = bytes(raw)
        _fill(raw, ref_prefix, trusted_authserv_id, fields, defects)
    except Exception as exc:
        fields["error"] = f"{type(exc).__name__}: {exc}"
    fields["defects"] = list(dict.fromkeys(defects))
    try:
        return ParsedMail(raw=raw if isinstance(raw, bytes) else b"", **fields)
    except Exception as exc:  # a field of the wrong type: keep the raw bytes at least
        return ParsedMail(raw=raw if isinstance(raw, bytes) else b"", error=repr(exc))


def _fill(
    raw: bytes,
    ref_prefix: str,
    trusted_authserv_id: str | None,
    fields: dict[str, Any],
    defects: list[str],
) -> None:
    """Fill `fields` step by step, so that whatever ran before a failure is kept."""
    # compat32: the lenient parser; header access never raises, we decode headers ourselves.
    msg = email.message_from_bytes(raw)
    if not msg.keys() and _OBS_HEADER.match(raw):
        # RFC 5322 obsolete syntax allows "Subject  : x"; Python's parser does not.
        head, sep, rest = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        msg = email.message_from_bytes(_OBS_COLON.sub(rb"\1:", head) + sep + rest)
        defects.append("obsolete header syntax (space before colon)")
    for part in msg.walk():
        defects.extend(type(d).__name__ for d in part.defects)
    if not msg.keys():
        fields["error"] = "no mail headers found"
    _fill_headers(msg, fields, defects)
    fields["ticket_ref_in_subject"] = find_ticket_ref(fields["subject"], ref_prefix)
    fields["authenticated"] = is_authenticated(msg, trusted_authserv_id)
    kind = automatic.classify(msg)
    fields["automatic"] = kind
    if kind == "bounce":
        original, status, reason = automatic.bounce_details(msg)
        fields.update(original_message_id=original, dsn_status=status, bounce_reason=reason)

    contents = walk(msg)
    defects.extend(contents.defects)
    fields["attachments"] = contents.attachments
    fields["body"] = contents.body
    languages = [fields["content_language"][:2].lower()] if fields["content_language"] else []
    fields["text"], fields["text_with_signature"] = visible_reply(contents.reply_source, languages)


_OBS_HEADER = re.compile(rb"[!-9;-~]+[ \t]+:")
_OBS_COLON = re.compile(rb"(?m)^([!-9;-~]+)[ \t]+:")


def _fill_headers(msg: Message, fields: dict[str, Any], defects: list[str]) -> None:
    ids = message_ids(header(msg, "Message-ID"))
    fields["message_id"] = ids[0] if ids else None
    replied = message_ids(header(msg, "In-Reply-To"))
    fields["in_reply_to"] = replied[0] if replied else None
    fields["references"] = message_ids(" ".join(all_headers(msg, "References")))
    sender = addresses(msg, "From")
    if sender:
        fields["from_name"], fields["from_email"] = sender[0][0] or None, sender[0][1]
    else:
        name, addr = parseaddr(header(msg, "From"))
        fields["from_name"], fields["from_email"] = name or None, addr or None
        if msg.keys():
            defects.append("no usable From address")
    fields["reply_to"] = [addr for _, addr in addresses(msg, "Reply-To")]
    fields["to"] = [addr for _, addr in addresses(msg, "To")]
    fields["cc"] = [addr for _, addr in addresses(msg, "Cc")]
    fields["subject"] = header(msg, "Subject")
    fields["date"] = _date(header(msg, "Date"), defects)
    language = header(msg, "Content-Language").split(",")[0].strip()
    fields["content_language"] = language or None


def _date(value: str, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"unparseable Date: {value[:60]!r}")
        return None
    if parsed.tzinfo is None:  # "-0000" (UTC, local zone unknown) or no zone at all
        if "-0000" not in value:
            defects.append("Date without time zone; assumed UTC")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def find_ticket_ref(subject: str, ref_prefix: str = "T-") -> str | None:
    """'T-12' from '[T-12]' in the subject, else from a bare 'T-12' token; None if absent."""
    if not subject or not ref_prefix:
        return None
    prefix = re.escape(ref_prefix)
    tagged = re.search(rf"\[\s*{prefix}(\d+)\s*\]", subject, re.I)
    match = tagged or re.search(rf"(?<![\w-]){prefix}(\d+)(?!\w)", subject, re.I)
    return f"{ref_prefix}{int(match.group(1))}" if match else None


_PASS = re.compile(r"(?:^|[\s;])(dkim|dmarc)\s*=\s*pass\b", re.I)


def is_authenticated(msg: Message, trusted_authserv_id: str | None = None) -> bool:
    """True when the trusted Authentication-Results header reports dkim=pass or dmarc=pass.

    Anyone can write an Authentication-Results header into their own mail, so only the one our
    receiving server adds counts: the topmost, or the one with the configured authserv-id.
    """
    results = all_headers(msg, "Authentication-Results")
    if trusted_authserv_id:
        wanted = trusted_authserv_id.lower()
        results = [r for r in results if (r.split(";")[0].split() or [""])[0].lower() == wanted]
    else:
        results = results[:1]
    for value in results:
        cleaned = re.sub(r"\([^()]*\)", " ", value)  # comments may say anything
        if _PASS.search(cleaned):
            return True
    return False
