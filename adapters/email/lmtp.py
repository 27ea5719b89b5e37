"""An SMTP or LMTP listener (aiosmtpd) for sites whose MTA hands mail to deskbot directly.

The server runs on deskbot's own event loop (not aiosmtpd's Controller thread), so handing a
mail to the core is an ordinary await. A mail is acknowledged with 250 only once it is
committed; if the core could not record it the MTA gets 451 and keeps the mail to retry.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from adapters.email.intake import MailIntake

log = logging.getLogger(__name__)

MAX_MAIL_BYTES = 50_000_000
OK = "250 2.0.0 Delivered to deskbot"
TRY_LATER = "451 4.3.0 deskbot could not store the mail; try again later"


class _Handler:
    def __init__(self, intake: MailIntake, lmtp: bool) -> None:
        self.intake = intake
        self.lmtp = lmtp

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        rcpts = tuple(envelope.rcpt_tos)
        try:
            await self.intake.deliver(raw, envelope_rcpts=rcpts)
            status = OK
        except Exception:
            log.exception("mail from %s could not be recorded", envelope.mail_from)
            status = TRY_LATER
        # LMTP answers DATA once per accepted recipient (RFC 2033 §4.2).
        return "\r\n".join([status] * max(len(rcpts), 1)) if self.lmtp else status


class MailListener:
    """Listens on (protocol, host, port); `port` is the bound one after `start` (0 = free)."""

    def __init__(self, intake: MailIntake, protocol: str, host: str, port: int) -> None:
        self.intake = intake
        self.protocol = protocol
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self.intake, self.protocol == "lmtp")
        cls = LMTP if self.protocol == "lmtp" else SMTP

        def factory() -> SMTP:
            # hostname given: aiosmtpd would otherwise look up this machine's FQDN (DNS).
            return cls(handler, hostname="deskbot", data_size_limit=MAX_MAIL_BYTES, loop=loop)

        self._server = await loop.create_server(factory, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("listening for %s on %s:%s", self.protocol.upper(), self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
