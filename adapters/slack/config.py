"""The Slack adapter's view of the settings: channels, triage per queue, commands, role groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings, split_ids

PLATFORM = "slack"


def _slack_ids(values: list[str]) -> list[str]:
    """Ids meant for Slack: `slack:X` or a bare id (a bare id may name any platform)."""
    out = []
    for value in values:
        platform, sep, rest = value.partition(":")
        if not sep:
            out.append(value)
        elif platform == PLATFORM:
            out.append(rest)
    return out


@dataclass(frozen=True)
class SlackConfig:
    """Everything the adapter reads from Settings, resolved once."""

    bot_token: str
    app_token: str | None = None
    signing_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    mode: str = "socket"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    http_path: str = "/slack/events"
    support_channels: frozenset[str] = frozenset()
    triage_default: str | None = None
    triage_by_queue: dict[str, str] = field(default_factory=dict)
    command: str = "/ticket"
    report_command: str = "/report"
    intake_reaction: str = "ticket"
    rate_limit_retries: int = 3
    status_reactions: bool = True
    # Slack user-group ids (S…) named in the role settings: membership makes someone an agent.
    role_groups: tuple[str, ...] = ()
    # Shared files are downloaded here (None: only their links are kept), up to this size.
    download_dir: Path | None = None
    download_max_bytes: int = 10_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig:
        if not settings.slack_bot_token:
            raise ValueError("DESKBOT_SLACK_BOT_TOKEN is not set")
        mode = settings.slack_mode.strip().lower()
        if mode not in ("socket", "http"):
            raise ValueError(f"DESKBOT_SLACK_MODE must be socket or http, not {mode!r}")
        if mode == "socket" and not settings.slack_app_token:
            raise ValueError("Socket Mode needs DESKBOT_SLACK_APP_TOKEN (an xapp-… token)")
        if mode == "http" and not settings.slack_signing_secret:
            raise ValueError("HTTP mode needs DESKBOT_SLACK_SIGNING_SECRET")
        data: dict[str, Any] = settings.structured()
        triage = {
            q["name"]: str(q["triage"][PLATFORM])
            for q in data.get("queues", [])
            if isinstance(q.get("triage"), dict) and q["triage"].get(PLATFORM)
        }
        ids = [*split_ids(settings.agents), *split_ids(settings.leads), *split_ids(settings.admins)]
        for person in data.get("people", []):
            ids += list(person.get("ids", []))
        groups = tuple(dict.fromkeys(i for i in _slack_ids(ids) if i.startswith("S")))
        return cls(
            bot_token=settings.slack_bot_token,
            app_token=settings.slack_app_token,
            signing_secret=settings.slack_signing_secret,
            api_url=settings.slack_api_url,
            mode=mode,
            http_host=settings.slack_http_host,
            http_port=settings.slack_http_port,
            http_path=settings.slack_http_path,
            support_channels=frozenset(split_ids(settings.slack_support_channels)),
            triage_default=settings.slack_triage_channel or None,
            triage_by_queue=triage,
            command=settings.slack_command,
            report_command=settings.slack_report_command,
            intake_reaction=settings.slack_intake_reaction.strip(":"),
            rate_limit_retries=settings.slack_rate_limit_retries,
            status_reactions=settings.slack_status_reactions,
            role_groups=groups,
            download_dir=Path(settings.slack_download_dir) if settings.slack_download_dir else None,
            download_max_bytes=settings.slack_download_max_bytes,
        )

    @property
    def triage_channels(self) -> frozenset[str]:
        chans = set(self.triage_by_queue.values())
        if self.triage_default:
            chans.add(self.triage_default)
        return frozenset(chans)

    def triage_for(self, queue: str | None) -> str | None:
        """The channel a queue's cards go to: the queue's own, else the default triage channel."""
        return self.triage_by_queue.get(queue or "", self.triage_default)
