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
    # timed automation (issue 6); per queue in the settings file; "0" or "off" switches one off
    pending_remind_after: str = "2d"
    pending_auto_resolve_after: str = "7d"
    resolved_auto_close_after: str = "4d"
    scheduler_interval_seconds: float = 15.0
    timezone: str = "UTC"
    log_level: str = "INFO"
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 0.5
    team_alias: str | None = None

    # automation (issue 7): routing rules live in the TOML file ([[rules]])
    assign_strategy: str = "manual"
    first_responder: bool = False
    default_locale: str = "en"
    csat_enabled: bool = True
    csat_throttle: str = "24h"
    csat_window: str = "7d"
    kb_suggestions: int = 3
    webhook_urls: str = ""
    webhook_secret: str | None = None
    webhook_events: str = ""
    webhook_timeout: float = 10.0

    # reports (issue 8): the lead's time zone ([[people]] tz = "…" overrides it per person),
    # exports, and the weekly digest, posted when a channel ("platform:channel") is set
    report_timezone: str | None = None
    report_default_period: str = "7d"
    report_csv_max_rows: int = 100_000
    report_dir: str = "var/reports"
    report_digest_channel: str = ""
    report_digest_day: str = "mon"
    report_digest_time: str = "09:00"
    report_digest_period: str = "last-week"

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
    slack_command: str = "/ticket"
    slack_report_command: str = "/report"
    slack_intake_reaction: str = "ticket"
    slack_http_host: str = "0.0.0.0"
    slack_http_path: str = "/slack/events"
    slack_rate_limit_retries: int = 3
    slack_status_reactions: bool = True
    # keep shared Slack files here (empty: only their Slack links are kept); see docs/slack.md
    slack_download_dir: str = ""
    slack_download_max_bytes: int = 10_000_000

    discord_token: str | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_message_content: bool = True
    discord_guilds: str = ""
    # issue 4: channel ids in any served guild; each guild uses the ones that are in it
    discord_support_channels: str = ""
    discord_panel_channels: str = ""
    discord_staff_channels: str = ""
    discord_log_channels: str = ""
    discord_panel_modal: bool = True
    discord_delete_intake: bool = True
    discord_dm_intake: bool = True
    discord_command_scope: str = "global"
    discord_upload_limit_mb: float = 10.0
    discord_status_reactions: bool = True
    discord_lock_sweep_seconds: float = 900.0
    discord_ready_timeout: float = 60.0
    discord_shards: str = ""
    discord_shard_ids: str = ""

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
    # email (issue 5); see docs/email.md
    email_addresses: str = ""  # more addresses (mailboxes) we answer for; `mailbox` rules route
    email_from_name: str = "Support"
    email_trusted_domains: str = ""  # their mail counts as authenticated (joins customers)
    email_authserv_id: str | None = None  # only this server's Authentication-Results count
    email_attachments_dir: str | None = "var/attachments"
    email_attachment_max_bytes: int = 10_000_000
    email_parse_processes: int = 0  # >0: parse mail in that many worker processes
    imap_idle: bool = True
    imap_idle_seconds: float = 1500.0
    imap_poll_seconds: float = 60.0
    imap_processed_folder: str | None = None  # move processed mail there (else flag it)
    imap_reconnect_max_seconds: float = 300.0
    imap_timeout: float = 30.0
    smtp_timeout: float = 30.0

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
