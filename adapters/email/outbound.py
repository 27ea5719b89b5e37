"""Outgoing mail: compose a threaded answer (plain text + HTML) and send it with aiosmtplib."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from html import escape

import aiosmtplib

from adapters.email.config import EmailConfig
from adapters.email.files_out import attach, files_html, files_text, shared_files
from bot.formatting import to_email_html, to_plain
from bot.messages import DeliveryError, Outbound
from bot.services.threads import ThreadMessage

# Kinds a person wrote; everything else (ack, notices, surveys) is an automatic response.
HUMAN_KINDS = frozenset({"reply"})
# Automatic kinds that only the person who wrote gets, not everyone on the thread.
SENDER_ONLY_KINDS = frozenset({"ack"})
MAX_REFERENCES = 20
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|tr|rif)\s*(\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Composed:
    """A mail ready to send: the message, envelope sender and recipients, its Message-ID."""

    message: EmailMessage
    sender: str
    recipients: list[str]
    message_id: str


def message_id_for(out: Outbound, domain: str) -> str:
    """Our Message-ID for one outbox row (no brackets). Derived from the row, so a retry of
    the same row reuses it and a receiver that saw the first attempt drops the copy."""
    key = f"{out.id}|{out.conversation.key if out.conversation else ''}|{out.text}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    ref = re.sub(r"[^A-Za-z0-9-]", "", out.ticket or "") or "deskbot"
    return f"{ref}.{digest}@{domain}"


def subject_for(out: Outbound, ref_prefix: str) -> str:
    """`Re: [T-12] original subject`, earlier tags and Re:/Fwd: prefixes removed."""
    subject = str(out.payload.get("subject") or "")
    tag = re.compile(rf"\[\s*{re.escape(ref_prefix)}\d+\s*\]", re.I)
    clean = _PREFIX.sub("", tag.sub("", subject)).strip()
    clean = re.sub(r"\s{2,}", " ", clean)
    ref = f"[{out.ticket}] " if out.ticket else ""
    return f"Re: {ref}{clean}".strip()


def recipients_for(
    thread: Sequence[ThreadMessage], cfg: EmailConfig, *, everyone: bool
) -> tuple[list[str], list[str]]:
    """(To, Cc). To: the Reply-To (else From) of the newest mail. Cc: everyone else who wrote
    or was copied on the thread, when `everyone`; never our own addresses."""
    last = thread[-1].headers
    to = [a for a in (last.get("reply_to") or [last.get("from")]) if a and not cfg.is_ours(a)]
    cc: list[str] = []
    if everyone:
        seen = {a.lower() for a in to}
        for item in thread:
            h = item.headers
            for address in [*(h.get("reply_to") or [h.get("from")]), *h.get("participants", [])]:
                if address and address.lower() not in seen and not cfg.is_ours(address):
                    seen.add(address.lower())
                    cc.append(address)
    return to, cc


def compose(out: Outbound, thread: Sequence[ThreadMessage], cfg: EmailConfig) -> Composed:
    """The mail for one customer-audience outbox row, threaded onto the newest customer mail."""
    if not thread:
        raise DeliveryError("no mail from the customer to answer on this ticket", permanent=True)
    last = thread[-1]
    mailbox = str(last.headers.get("mailbox") or cfg.address)
    if out.conversation and out.conversation.channel and cfg.is_ours(out.conversation.channel):
        mailbox = out.conversation.channel
    to, cc = recipients_for(thread, cfg, everyone=out.kind not in SENDER_ONLY_KINDS)
    if not to:
        raise DeliveryError("the customer's mail has no address to answer", permanent=True)
    message_id = message_id_for(out, cfg.message_id_domain)
    msg = EmailMessage()
    agent = out.payload.get("agent_name") if out.kind in HUMAN_KINDS else None
    msg["From"] = formataddr((f"{agent} ({cfg.from_name})" if agent else cfg.from_name, mailbox))
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject_for(out, cfg.ref_prefix)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = f"<{message_id}>"
    msg["In-Reply-To"] = f"<{last.external_id}>"
    refs = [*last.headers.get("references", []), last.external_id][-MAX_REFERENCES:]
    msg["References"] = " ".join(f"<{r}>" for r in refs)
    if out.kind not in HUMAN_KINDS:
        # RFC 3834: mark our automatic mail so well-behaved responders stay quiet, and ask
        # Exchange/Outlook not to send out-of-office answers to it.
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    if out.ticket:
        msg["X-Deskbot-Ticket"] = out.ticket
    footer = f"{cfg.from_name} · {out.ticket}" if out.ticket else cfg.from_name
    signed = f"{agent}\n{footer}" if agent else footer
    # Files an agent shared with the reply: listed in the body, attached when kept here.
    files = shared_files(out.payload, cfg.attachment_max_bytes)
    listed = f"\n\n{files_text(files)}" if files else ""
    msg.set_content(f"{to_plain(out.text)}{listed}\n\n-- \n{signed}\n")
    html_sig = "<br>".join(escape(line) for line in signed.splitlines())
    msg.add_alternative(
        f"<html><body>{to_email_html(out.text)}\n{files_html(files)}"
        f'<p style="color:#666">-- <br>{html_sig}</p></body></html>',
        subtype="html",
    )
    attach(msg, files)
    return Composed(msg, mailbox, [*to, *cc], message_id)


class SmtpSender:
    """Sends composed mail with aiosmtplib: STARTTLS or TLS on connect, optional login."""

    def __init__(self, cfg: EmailConfig) -> None:
        self.cfg = cfg

    async def send(self, mail: Composed) -> None:
        cfg = self.cfg
        if not cfg.smtp_host:
            raise DeliveryError("no SMTP server is configured (DESKBOT_SMTP_HOST)", permanent=True)
        try:
            await aiosmtplib.send(
                mail.message,
                sender=mail.sender,
                recipients=mail.recipients,
                hostname=cfg.smtp_host,
                port=cfg.smtp_port,
                username=cfg.smtp_user,
                password=cfg.smtp_password,
                use_tls=cfg.smtp_ssl,
                start_tls=cfg.smtp_starttls,
                timeout=cfg.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = all(500 <= c < 600 for c in codes)
            error = f"SMTP refused every recipient: {exc}"
            raise DeliveryError(error, permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            raise DeliveryError(
                f"SMTP {exc.code} {exc.message}", permanent=permanent, retry_after=None
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {exc}") from exc
