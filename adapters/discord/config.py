"""The Discord adapter's view of the settings: channels, guilds, intents, limits, resolved once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings, split_ids

PLATFORM = "discord"
MiB = 1024 * 1024


class DiscordStartupError(RuntimeError):
    """The adapter cannot start; the message names the setting or portal switch to fix."""


def _ids(value: str) -> tuple[int, ...]:
    """Channel or guild ids from a setting: `123`, `discord:123` (other platforms skipped)."""
    out: list[int] = []
    for part in split_ids(value):
        platform, sep, rest = part.partition(":")
        raw = rest if sep else part
        if sep and platform != PLATFORM:
            continue
        if not raw.isdigit():
            raise ValueError(f"{part!r} is not a Discord id (a number, e.g. 123456789012345678)")
        out.append(int(raw))
    return tuple(dict.fromkeys(out))


def _sharding(shards: str, shard_ids: str) -> dict[str, Any]:
    """DESKBOT_DISCORD_SHARDS (empty, `auto` or a number) and DESKBOT_DISCORD_SHARD_IDS."""
    value = shards.strip().lower()
    count: int | None = None
    if value == "auto":
        count = 0
    elif value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"DESKBOT_DISCORD_SHARDS must be empty, auto or a number, not {shards!r}"
            )
        count = int(value)
    ids = split_ids(shard_ids)
    if ids and not count:
        raise ValueError(
            "DESKBOT_DISCORD_SHARD_IDS needs the total in DESKBOT_DISCORD_SHARDS (a number)"
        )
    if any(not i.isdigit() or int(i) >= (count or 0) for i in ids):
        raise ValueError(
            f"DESKBOT_DISCORD_SHARD_IDS must be numbers below DESKBOT_DISCORD_SHARDS ({count}), "
            f"not {shard_ids!r}"
        )
    return {"shards": count, "shard_ids": tuple(dict.fromkeys(int(i) for i in ids))}


@dataclass(frozen=True)
class DiscordConfig:
    """Everything the adapter reads from Settings.

    Channel lists may name channels in several guilds: each guild uses the support, panel,
    staff and log channels that are in it (multi-server). The first staff and log channel are
    the defaults for tickets that belong to no guild (DMs, other platforms).
    """

    token: str
    api_base: str | None = None
    gateway_url: str | None = None
    message_content: bool = True
    guilds: frozenset[int] = frozenset()
    support_channels: tuple[int, ...] = ()
    panel_channels: tuple[int, ...] = ()
    staff_channels: tuple[int, ...] = ()
    log_channels: tuple[int, ...] = ()
    staff_by_queue: dict[str, int] = field(default_factory=dict)
    panel_modal: bool = True
    delete_intake: bool = True
    dm_intake: bool = True
    command_scope: str = "global"
    upload_limit: int = 10 * MiB
    status_reactions: bool = True
    lock_sweep_seconds: float = 900.0
    ready_timeout: float = 60.0
    shards: int | None = None  # None: one gateway connection; 0: as Discord recommends
    shard_ids: tuple[int, ...] = ()  # the shards this process runs (empty: all of them)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig:
        if not settings.discord_token:
            raise ValueError("DESKBOT_DISCORD_TOKEN is not set")
        scope = settings.discord_command_scope.strip().lower()
        if scope not in ("global", "guilds"):
            raise ValueError(
                f"DESKBOT_DISCORD_COMMAND_SCOPE must be global or guilds, not {scope!r}"
            )
        data: dict[str, Any] = settings.structured()
        by_queue = {
            str(q["name"]): int(q["triage"][PLATFORM])
            for q in data.get("queues", [])
            if isinstance(q.get("triage"), dict) and q["triage"].get(PLATFORM)
        }
        cfg = cls(
            token=settings.discord_token,
            api_base=settings.discord_api_base or None,
            gateway_url=settings.discord_gateway_url or None,
            message_content=settings.discord_message_content,
            guilds=frozenset(_ids(settings.discord_guilds)),
            support_channels=_ids(settings.discord_support_channels),
            panel_channels=_ids(settings.discord_panel_channels),
            staff_channels=_ids(settings.discord_staff_channels),
            log_channels=_ids(settings.discord_log_channels),
            staff_by_queue=by_queue,
            panel_modal=settings.discord_panel_modal,
            delete_intake=settings.discord_delete_intake,
            dm_intake=settings.discord_dm_intake,
            command_scope=scope,
            upload_limit=int(settings.discord_upload_limit_mb * MiB),
            status_reactions=settings.discord_status_reactions,
            lock_sweep_seconds=settings.discord_lock_sweep_seconds,
            ready_timeout=settings.discord_ready_timeout,
            **_sharding(settings.discord_shards, settings.discord_shard_ids),
        )
        if cfg.ticket_parents and not cfg.message_content:
            raise ValueError(
                "DESKBOT_DISCORD_SUPPORT_CHANNELS / DESKBOT_DISCORD_PANEL_CHANNELS need the "
                "message content intent to read what customers write in ticket threads: set "
                "DESKBOT_DISCORD_MESSAGE_CONTENT=true (and switch on Message Content Intent in "
                "the Developer Portal), or leave those channels empty for DM-only mode"
            )
        return cfg

    @property
    def ticket_parents(self) -> frozenset[int]:
        """Channels whose private threads are ticket conversations."""
        return frozenset(self.support_channels) | frozenset(self.panel_channels)

    @property
    def wants_message_content(self) -> bool:
        """The privileged intent is requested when something reads guild message text:
        ticket threads, support channels, or free-text notes in staff threads. DM-only mode
        (`DESKBOT_DISCORD_MESSAGE_CONTENT=false`) never asks for it."""
        if not self.message_content:
            return False
        return bool(self.ticket_parents or self.staff_channels)

    def serves(self, guild_id: int | None) -> bool:
        """Messages and interactions from guilds outside `DESKBOT_DISCORD_GUILDS` are ignored."""
        return guild_id is None or not self.guilds or guild_id in self.guilds
