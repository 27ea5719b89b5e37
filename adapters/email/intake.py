"""One raw mail in: parse it and hand it to the core — or deliberately not (automatic mail).

Used by the IMAP poller, the SMTP/LMTP listener and the benchmark. Mails may be delivered
concurrently: parsing overlaps (in worker processes when configured), and mails are submitted
to the core strictly in arrival order, without waiting for each other's commit, so group
commit batches them and a reply is always recorded after the mail it answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from adapters.email import translate
from adapters.email.config import PLATFORM, EmailConfig
from adapters.email.model import ParsedMail
from adapters.email.parsing import parse_mail
from adapters.email.store import AttachmentStore
from bot.domain.commands import RecordBounce
from bot.domain.errors import NotFound
from bot.messages import AttachmentInfo, Identity, InboundMessage

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)

Outcome = Literal[
    "opened", "added", "duplicate", "automatic", "ignored", "bounce", "unparseable", "own"
]


@dataclass(frozen=True)
class IntakeResult:
    """What became of one mail: `outcome`, the ticket it landed on (if any), and what kind
    of automatic mail the parser saw (None for a person's mail)."""

    outcome: Outcome
    message_id: str
    ticket: str | None = None
    automatic: str | None = None


@dataclass(frozen=True)
class _Submitted:
    inbound: InboundMessage
    result: asyncio.Future[Any]


class MailIntake:
    """Turns raw mail into core calls. Never raises for a bad mail; raises only when the core
    could not record it (the caller then keeps the mail and tries again later)."""

    def __init__(
        self,
        gateway: Gateway,
        cfg: EmailConfig,
        store: AttachmentStore | None = None,
        parse_pool: Executor | None = None,
    ) -> None:
        self.gateway = gateway
        self.cfg = cfg
        self.store = store or AttachmentStore(cfg.attachments_dir, cfg.attachment_max_bytes)
        self.parse_pool = parse_pool
        self._turn: asyncio.Future[None] | None = None
        self._parse = functools.partial(
            parse_mail, ref_prefix=cfg.ref_prefix, trusted_authserv_id=cfg.authserv_id
        )

    async def parse(self, raw: bytes) -> ParsedMail:
        [mail] = await self.parse_many([raw])
        return mail

    async def parse_many(self, raws: Sequence[bytes]) -> list[ParsedMail]:
        """Parse in a worker process when configured (one task per batch: less overhead)."""
        if self.parse_pool is None:
            return [self._parse(raw) for raw in raws]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.parse_pool, _parse_all, self._parse, list(raws))

    async def deliver(self, raw: bytes, *, envelope_rcpts: tuple[str, ...] = ()) -> IntakeResult:
        """Record one mail; returns once it is committed (or deliberately not recorded)."""
        [result] = await self.deliver_many([raw], envelope_rcpts=envelope_rcpts)
        if isinstance(result, BaseException):
            raise result
        return result

    async def deliver_many(
        self, raws: Sequence[bytes], *, envelope_rcpts: tuple[str, ...] = ()
    ) -> list[IntakeResult | BaseException]:
        """Record mails that arrived together (an IMAP fetch), in order, in one group commit.

        Returns each mail's result, or the exception that kept it from being recorded (the
        caller keeps that mail for a retry).
        """
        loop = asyncio.get_running_loop()
        previous, mine = self._turn, loop.create_future()
        self._turn = mine
        steps: list[tuple[ParsedMail, IntakeResult | _Submitted | BaseException]] = []
        try:
            mails = await self.parse_many(raws)
            if previous is not None:
                await previous  # every mail that arrived earlier has been submitted
            for mail in mails:
                try:
                    steps.append((mail, await self._submit(mail, envelope_rcpts)))
                except Exception as exc:  # e.g. the database is down while recording a bounce
                    steps.append((mail, exc))
        finally:
            mine.set_result(None)
        done = await asyncio.gather(*(self._finish(m, s) for m, s in steps), return_exceptions=True)
        return list(done)

    async def _finish(
        self, mail: ParsedMail, step: IntakeResult | _Submitted | BaseException
    ) -> IntakeResult:
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, _Submitted):
            step = await self._settle(step, mail)
        return dataclasses.replace(step, automatic=mail.automatic)

    async def _submit(self, mail: ParsedMail, rcpts: tuple[str, ...]) -> IntakeResult | _Submitted:
        mid = translate.message_id_of(mail)
        mailbox = translate.mailbox_of(mail, self.cfg, rcpts)
        if mail.error:
            # Stored raw and flagged for an agent (on its ticket if it names one): never dropped.
            log.warning("mail %s could not be parsed: %s", mid, mail.error)
            inbound = translate.to_inbound(
                mail,
                self.cfg,
                mailbox=mailbox,
                attachments=[self.store.save_raw(mail.raw), *self._attachments(mail)],
                attention="unparseable",
            )
            return _Submitted(inbound, self.gateway.submit(inbound))
        if self.cfg.is_ours(mail.from_email):
            log.info("mail %s comes from our own address %s: not recorded", mid, mail.from_email)
            return IntakeResult("own", mid)
        if mail.automatic == "bounce":
            ref = await self._bounce(mail, mid)
            if ref is not None:
                return IntakeResult("bounce", mid, ref)
        # Automatic mail (auto-reply, list, report, a bounce of nothing we sent) is only kept,
        # flagged, on a ticket it answers: the core never opens or acknowledges for it.
        inbound = translate.to_inbound(
            mail, self.cfg, mailbox=mailbox, attachments=self._attachments(mail)
        )
        return _Submitted(inbound, self.gateway.submit(inbound))

    async def _settle(self, step: _Submitted, mail: ParsedMail) -> IntakeResult:
        inbound = step.inbound
        mid = inbound.message_id
        try:
            result = await step.result
        except NotFound:
            if inbound.ticket_ref is None:
                raise
            # "[T-99]" of a ticket that does not exist: a new request like any other.
            log.info("mail %s names unknown ticket %s; a new ticket", mid, inbound.ticket_ref)
            inbound = translate.without_ref(inbound)
            result = await self.gateway.receive(inbound)
        if result.ignored:
            log.info("automatic mail %s (%s) answers no ticket: not recorded", mid, mail.automatic)
            return IntakeResult("ignored", mid)
        if result.duplicate:
            outcome: Outcome = "duplicate"
        elif inbound.attention:
            outcome = "unparseable"
        elif inbound.automatic:
            outcome = "automatic"
        else:
            outcome = "opened" if result.created else "added"
        return IntakeResult(outcome, mid, result.ref)

    async def _bounce(self, mail: ParsedMail, mid: str) -> str | None:
        """A DSN for a mail we sent marks that delivery failed (or notes a delay)."""
        if not mail.original_message_id:
            return None
        status = mail.dsn_status
        reporter = Identity(PLATFORM, (mail.from_email or "mailer-daemon").lower(), mail.from_name)
        detail = " ".join(p for p in (status, mail.bounce_reason) if p) or "no reason given"
        sender = mail.from_email or "the mail system"
        return await self.gateway.record_bounce(
            RecordBounce(
                reporter,
                PLATFORM,
                report_id=mid,
                original_id=translate.clean(mail.original_message_id),
                status=translate.clean(status),
                reason=translate.clean(mail.bounce_reason),
                text=translate.clean(f"Delivery report from {sender}: {detail}"),
                permanent=not (status or "").startswith("4"),
            )
        )

    def _attachments(self, mail: ParsedMail) -> list[AttachmentInfo]:
        return [self.store.save(a) for a in mail.attachments]


def _parse_all(parse: Callable[[bytes], ParsedMail], raws: list[bytes]) -> list[ParsedMail]:
    """Runs in a worker process: module level, so it can be pickled."""
    return [parse(raw) for raw in raws]
