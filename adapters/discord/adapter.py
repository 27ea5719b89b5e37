"""DiscordAdapter: the ChatAdapter for Discord (start: connect and set up; send: render)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from adapters.base import InFlightWork
from adapters.discord import closing, commands, render
from adapters.discord.channels import Channels
from adapters.discord.client import make_client
from adapters.discord.config import PLATFORM, DiscordConfig, DiscordStartupError
from adapters.discord.directory import Directory
from adapters.discord.sender import DiscordSender
from bot.config import Settings
from bot.messages import DeliveryResult, Outbound

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)

PANEL_LOOKBACK = 50  # recent messages searched for an existing panel
INTENT_HELP = (
    "Discord refused the privileged Message Content intent (gateway close code 4014). "
    "Switch on 'Message Content Intent' under Bot → Privileged Gateway Intents in the "
    "Discord Developer Portal, or run DM-only with DESKBOT_DISCORD_MESSAGE_CONTENT=false "
    "(and no DESKBOT_DISCORD_SUPPORT_CHANNELS / DESKBOT_DISCORD_PANEL_CHANNELS)."
)


class RecentIds:
    """A bounded set of recently seen ids (oldest forgotten first)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, value: str) -> bool:
        """Remember `value`; False when it was already there."""
        if value in self._ids:
            return False
        self._ids[value] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class DiscordAdapter(InFlightWork):
    """Translates Discord <-> deskbot; handlers in intake.py/interactions.py, sending in
    sender.py and closing.py. One process serves every guild the bot is in (or those named
    in DESKBOT_DISCORD_GUILDS). `client_options` pass through to discord.Client (tests)."""

    platform = PLATFORM
    agent_facing = True
    triage_by_server = True  # staff channels are picked by the customer's guild (channels.py)
    status_marks = True  # the core writes a "status" row per change: the status message

    def __init__(self, settings: Settings, **client_options: Any) -> None:
        self.cfg = DiscordConfig.from_settings(settings)
        self.client_options = client_options
        self.client: discord.Client = make_client(self, **client_options)
        self.channels = Channels(self.client, self.cfg)
        self.directory = Directory(self.client, self.cfg)
        self.sender = DiscordSender(self)
        self.recent = RecentIds()
        self.dm_channels: dict[int, int] = {}
        self.errors = 0
        self._gateway: Gateway | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._active = 0

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("the Discord adapter has not been started")
        return self._gateway

    @property
    def session(self) -> aiohttp.ClientSession:
        """For downloading attachments that are relayed (created at start)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    @property
    def connected(self) -> bool:
        """Logged in over REST (the gateway may be reconnecting: REST still works)."""
        return self.client.user is not None and not self.client.is_closed()

    # --- ChatAdapter ---------------------------------------------------------------------------
    async def start(self, gateway: Gateway) -> None:
        self._gateway = gateway
        if self.cfg.api_base:
            discord.http.Route.BASE = self.cfg.api_base.rstrip("/")
        if self.cfg.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.cfg.gateway_url)
        if self.client.is_closed():  # started again after stop (restart)
            self.client = make_client(self, **self.client_options)
            self.channels.client = self.directory.client = self.client
        self._task = asyncio.create_task(self.client.start(self.cfg.token))
        await self._wait_ready()
        if self.cfg.shard_ids:  # servers on other processes' shards are not in our cache
            await self.channels.learn()
        missing = self.channels.missing()
        if missing:
            log.warning("Discord channels not visible to the bot (id or permissions): %s", missing)
        await self.sync_commands()
        await self.ensure_panels()
        if self.cfg.ticket_parents and self.cfg.lock_sweep_seconds > 0:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _wait_ready(self) -> None:
        assert self._task is not None
        deadline = time.monotonic() + self.cfg.ready_timeout
        while not self.client.is_ready():
            if self._task.done():
                exc = None if self._task.cancelled() else self._task.exception()
                await self.stop()
                if isinstance(exc, discord.PrivilegedIntentsRequired):
                    raise DiscordStartupError(INTENT_HELP) from exc
                if isinstance(exc, discord.LoginFailure):
                    raise DiscordStartupError(
                        "Discord refused DESKBOT_DISCORD_TOKEN (401): copy the bot token from "
                        "the Developer Portal's Bot tab"
                    ) from exc
                raise DiscordStartupError(f"Discord client stopped during start: {exc!r}") from exc
            if time.monotonic() > deadline:
                await self.stop()
                raise DiscordStartupError(
                    f"Discord did not become ready within {self.cfg.ready_timeout:.0f} s "
                    "(DESKBOT_DISCORD_READY_TIMEOUT)"
                )
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweeper
            self._sweeper = None
        await self.settle(within=5)
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message: Outbound) -> DeliveryResult:
        return await self.sender.send(message)

    # --- set-up ----------------------------------------------------------------------------
    def served_guilds(self) -> list[int]:
        return [g.id for g in self.client.guilds if self.cfg.serves(g.id)]

    async def sync_commands(self) -> int:
        """Write the app commands if they differ from what Discord has (global or per guild)."""
        app_id = self.client.application_id
        if app_id is None:
            return 0
        scope = self.served_guilds() if self.cfg.command_scope == "guilds" else None
        try:
            return await commands.sync(self.client.http, app_id, scope)
        except discord.HTTPException as exc:
            log.error("Discord commands not synced: %s", exc)
            return 0

    async def ensure_panels(self) -> None:
        """Post the "Open a ticket" panel in each panel channel that does not show one yet."""
        custom_id = f"{render.PREFIX}panel"
        me = self.client.user
        for channel_id in self.cfg.panel_channels:
            channel = self.client.get_channel(channel_id)
            if not isinstance(channel, discord.TextChannel):
                continue
            try:
                async for old in channel.history(limit=PANEL_LOOKBACK):
                    if (
                        me is not None
                        and old.author.id == me.id
                        and any(
                            getattr(c, "custom_id", None) == custom_id
                            for row in old.components
                            for c in getattr(row, "children", [])
                        )
                    ):
                        break
                else:
                    embed, view = render.panel()
                    await channel.send(embed=embed, view=view)
            except discord.HTTPException as exc:
                log.warning("panel in %s not posted: %s", channel_id, exc)

    async def sweep_locks(self) -> int:
        return await closing.sweep_locks(self)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.lock_sweep_seconds)
            try:
                await self.sweep_locks()
            except Exception:
                log.exception("Discord lock sweep failed")
