"""Settings: environment (DESKBOT_*) and .env, plus the TOML file named by DESKBOT_CONFIG."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Flat settings; each adapter is enabled by the presence of its credentials."""

    model_config = SettingsConfigDict(
        env_prefix="DESKBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/deskbot.db",
        description="SQLAlchemy async URL; sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    config: Path | None = Field(default=None, description="TOML file with queues, people, rules")
    ref_prefix: str = "T-"
    ref_start: int = 1
    default_queue: str = "general"
    reopen_window: str = "7d"
    claim_timeout: str = "20m"
    first_response_target: str = "4h"
    timezone: str = "UTC"
    log_level: str = "INFO"
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 0.5
    team_alias: str | None = None

    # role lists: comma-separated "platform:id" or bare ids (any platform)
    admins: str = ""
    leads: str = ""
    agents: str = ""

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_mode: str = "socket"
    slack_http_port: int = 3000
    slack_support_channels: str = ""
    slack_triage_channel: str | None = None

    discord_token: str | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_message_content: bool = True
    discord_guilds: str = ""

    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: str | None = None
    imap_ssl: bool = True
    imap_folder: str = "INBOX"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    lmtp_listen: str | None = None
    email_address: str | None = None
    email_autoack_cap: int = 40

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    @property
    def email_enabled(self) -> bool:
        return bool(self.imap_host or self.lmtp_listen)

    @property
    def any_platform(self) -> bool:
        return self.slack_enabled or self.discord_enabled or self.email_enabled

    def structured(self) -> dict[str, Any]:
        """The TOML file's contents ({} when none is configured)."""
        if self.config is None:
            return {}
        with open(self.config, "rb") as fh:
            return tomllib.load(fh)


def split_ids(value: str) -> list[str]:
    """Split a comma/space separated id list from an environment variable."""
    return [part for part in value.replace(",", " ").split() if part]
