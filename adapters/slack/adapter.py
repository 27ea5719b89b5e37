"""SlackAdapter: the ChatAdapter for Slack (start/stop in Socket Mode or HTTP mode, send)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import InFlightWork
from adapters.slack.config import PLATFORM, SlackConfig
from adapters.slack.directory import Directory
from adapters.slack.downloads import FileKeeper
from adapters.slack.ordering import RecentIds, Sequencer
from adapters.slack.sender import SlackSender
from bot.config import Settings
from bot.messages import DeliveryResult, Outbound

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)

WORK_SLOTS = 4
HTTP_BACKLOG = 2048


def make_client(cfg: SlackConfig) -> AsyncWebClient:
    """A Web API client on the configured base URL, retrying 429s and dropped connections."""
    return AsyncWebClient(
        token=cfg.bot_token,
        base_url=cfg.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=cfg.rate_limit_retries),
        ],
    )


class SlackAdapter(InFlightWork):
    """Translates Slack <-> deskbot. Listeners live in app.py/interactive.py; sending in sender.py.

    HTTP mode serves the bolt app on `slack_http_host:port` + `slack_http_path` (port 0 picks
    a free one; `url` tells which). Socket Mode opens one WebSocket with the app token.
    """

    platform = PLATFORM
    agent_facing = True

    def __init__(self, settings: Settings, *, client: AsyncWebClient | None = None) -> None:
        self.cfg = SlackConfig.from_settings(settings)
        self.status_marks = self.cfg.status_reactions
        self.client = client or make_client(self.cfg)
        self.directory = Directory(self.client, self.cfg.role_groups)
        self.sender = SlackSender(self.client, self.cfg)
        self.keeper = FileKeeper(self.cfg)  # shared files: links, or copies when configured
        self._gateway: Gateway | None = None
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self._active = 0
        self.sequencer = Sequencer()
        # Command work after the ack runs at most this many at a time, so a burst of commands
        # still gets its acks promptly (acks share the event loop with that work). Measured
        # with bench/slack_ack.py: 4 keeps p99 under 200 ms for 200 concurrent commands.
        self.slots = asyncio.Semaphore(WORK_SLOTS)
        self.recent_events = RecentIds()  # Events API ids already handled (redeliveries)
        self.url: str | None = None
        from adapters.slack.app import build_bolt_app

        self.bolt: AsyncApp = build_bolt_app(self)

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("the Slack adapter has not been started")
        return self._gateway

    # --- ChatAdapter ---------------------------------------------------------------------------
    async def start(self, gateway: Gateway) -> None:
        self._gateway = gateway
        if self.cfg.mode == "http":
            await self._serve_http()
        else:
            await self._connect_socket()

    async def stop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.settle(within=5)

    async def send(self, message: Outbound) -> DeliveryResult:
        return await self.sender.send(message)

    # --- transports ----------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        """The aiohttp application for HTTP mode: bolt's endpoint plus a health check."""
        app = self.bolt.web_app(path=self.cfg.http_path, port=self.cfg.http_port)

        async def healthz(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        app.router.add_get("/healthz", healthz)
        return app

    async def _serve_http(self) -> None:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        # A burst of Slack requests arrives as many new connections at once; aiohttp's default
        # accept backlog (128) would drop the rest and the kernel would retry them a second later.
        site = web.TCPSite(
            self._runner, self.cfg.http_host, self.cfg.http_port, backlog=HTTP_BACKLOG
        )
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{self.cfg.http_path}"
        log.info("Slack HTTP mode: listening on %s", self.url)

    def socket_handler(self) -> Any:
        """The Socket Mode handler for this app (built from the app-level token)."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        return AsyncSocketModeHandler(self.bolt, self.cfg.app_token, web_client=self.client)

    async def _connect_socket(self) -> None:
        self._socket = self.socket_handler()
        await self._socket.connect_async()
        log.info("Slack Socket Mode: connected")
