"""EmailAdapter: the ChatAdapter for mail (IMAP and/or an SMTP/LMTP listener in, SMTP out)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from adapters.email.config import PLATFORM, EmailConfig
from adapters.email.imap import ImapPoller
from adapters.email.intake import MailIntake
from adapters.email.lmtp import MailListener
from adapters.email.outbound import SmtpSender, compose
from bot.config import Settings
from bot.messages import DeliveryError, DeliveryResult, Outbound

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)


class EmailAdapter:
    """Customers write mail; agents never read the mailbox (they work from chat).

    Inbound mail goes through MailIntake (parse, thread, core). Outbound rows for customers
    are composed as threaded replies to the newest mail of their conversation and sent over
    SMTP; the Message-ID is returned as the delivery's external id, so replies to it and
    bounces of it find the ticket again.
    """

    platform = PLATFORM
    agent_facing = False

    def __init__(self, settings: Settings | None = None, *, config: EmailConfig | None = None):
        if config is None:
            if settings is None:
                raise ValueError("EmailAdapter needs settings or a config")
            config = EmailConfig.from_settings(settings)
        self.cfg = config
        # The core caps acknowledgements per customer and day on this platform.
        self.ack_cap_per_day = config.autoack_cap
        self.sender = SmtpSender(config)
        self.intake: MailIntake | None = None
        self.listener: MailListener | None = None
        self.poller: ImapPoller | None = None
        self._gateway: Gateway | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._sending = asyncio.Semaphore(4)  # concurrent SMTP sessions

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("the email adapter has not been started")
        return self._gateway

    async def start(self, gateway: Gateway) -> None:
        self._gateway = gateway
        if self.cfg.parse_processes > 0:
            self._pool = ProcessPoolExecutor(self.cfg.parse_processes)
        self.intake = MailIntake(gateway, self.cfg, parse_pool=self._pool)
        if self.cfg.listen is not None:
            protocol, host, port = self.cfg.listen
            self.listener = MailListener(self.intake, protocol, host, port)
            await self.listener.start()
        if self.cfg.imap_host:
            self.poller = ImapPoller(self.cfg, self.intake)
            self._tasks.append(asyncio.create_task(self.poller.run(), name="imap"))

    async def stop(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
        if self.listener is not None:
            await self.listener.stop()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    async def send(self, message: Outbound) -> DeliveryResult:
        if message.audience != "customer" or message.conversation is None:
            # Agents work from chat; nothing but customer messages is ever mailed.
            raise DeliveryError("email carries customer messages only", permanent=True)
        thread = await self.gateway.thread_messages(PLATFORM, message.conversation.key)
        mail = compose(message, thread, self.cfg)
        async with self._sending:
            await self.sender.send(mail)
        return DeliveryResult(external_id=mail.message_id)
