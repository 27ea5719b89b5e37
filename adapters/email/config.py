"""The email adapter's view of the settings: mailboxes, IMAP, SMTP, the listener, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings, split_ids

PLATFORM = "email"
# Re-issue IDLE well before the 29 minutes of RFC 2177 (servers may drop an older IDLE).
MAX_IDLE_SECONDS = 28 * 60.0


def _domain(address: str | None) -> str:
    return address.rsplit("@", 1)[1].lower() if address and "@" in address else ""


def parse_listen(value: str) -> tuple[str, str, int]:
    """`[lmtp://|smtp://]host:port` -> (protocol, host, port); LMTP when no scheme is given."""
    if "://" not in value:
        value = f"lmtp://{value}"
    parts = urlsplit(value)
    protocol = parts.scheme.lower()
    if protocol not in ("lmtp", "smtp") or not parts.hostname or parts.port is None:
        raise ValueError(
            f"DESKBOT_LMTP_LISTEN must look like lmtp://127.0.0.1:2424 or "
            f"smtp://127.0.0.1:2525, not {value!r}"
        )
    return protocol, parts.hostname, parts.port


@dataclass(frozen=True)
class EmailConfig:
    """Everything the adapter reads from Settings, resolved once."""

    address: str
    # Every address deskbot answers for (the support address first); lower-case.
    addresses: tuple[str, ...]
    from_name: str = "Support"
    ref_prefix: str = "T-"
    autoack_cap: int = 40
    trusted_domains: frozenset[str] = frozenset()
    authserv_id: str | None = None
    attachments_dir: Path | None = None
    attachment_max_bytes: int = 10_000_000
    parse_processes: int = 0
    # IMAP
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: str | None = None
    imap_ssl: bool = True
    imap_folder: str = "INBOX"
    imap_idle: bool = True
    imap_idle_seconds: float = 25 * 60.0
    imap_poll_seconds: float = 60.0
    imap_processed_folder: str | None = None
    imap_reconnect_max_seconds: float = 300.0
    imap_timeout: float = 30.0
    # SMTP (outbound)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout: float = 30.0
    # SMTP/LMTP listener (inbound from an MTA)
    listen: tuple[str, str, int] | None = None

    @property
    def message_id_domain(self) -> str:
        return _domain(self.address) or "deskbot.invalid"

    def is_ours(self, address: str | None) -> bool:
        return bool(address) and address.lower() in self.addresses  # type: ignore[union-attr]

    def trusted(self, address: str | None) -> bool:
        return _domain(address) in self.trusted_domains

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailConfig:
        address = (settings.email_address or settings.imap_user or "").strip()
        if "@" not in address:
            raise ValueError("DESKBOT_EMAIL_ADDRESS must be the support address (support@…)")
        others = [a.lower() for a in split_ids(settings.email_addresses) if "@" in a]
        addresses = tuple(dict.fromkeys([address.lower(), *others]))
        idle = min(settings.imap_idle_seconds, MAX_IDLE_SECONDS)
        return cls(
            address=address,
            addresses=addresses,
            from_name=settings.email_from_name,
            ref_prefix=settings.ref_prefix,
            autoack_cap=settings.email_autoack_cap,
            trusted_domains=frozenset(d.lower() for d in split_ids(settings.email_trusted_domains)),
            authserv_id=settings.email_authserv_id,
            attachments_dir=Path(settings.email_attachments_dir)
            if settings.email_attachments_dir
            else None,
            attachment_max_bytes=settings.email_attachment_max_bytes,
            parse_processes=settings.email_parse_processes,
            imap_host=settings.imap_host,
            imap_port=settings.imap_port,
            imap_user=settings.imap_user,
            imap_password=settings.imap_password,
            imap_ssl=settings.imap_ssl,
            imap_folder=settings.imap_folder,
            imap_idle=settings.imap_idle,
            imap_idle_seconds=idle,
            imap_poll_seconds=settings.imap_poll_seconds,
            imap_processed_folder=settings.imap_processed_folder,
            imap_reconnect_max_seconds=settings.imap_reconnect_max_seconds,
            imap_timeout=settings.imap_timeout,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_user=settings.smtp_user,
            smtp_password=settings.smtp_password,
            # TLS on connect (smtps, port 465) and STARTTLS exclude each other: SSL wins.
            smtp_starttls=settings.smtp_starttls and not settings.smtp_ssl,
            smtp_ssl=settings.smtp_ssl,
            smtp_timeout=settings.smtp_timeout,
            listen=parse_listen(settings.lmtp_listen) if settings.lmtp_listen else None,
        )
