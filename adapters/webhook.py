"""The "webhook" platform: POSTs signed JSON lifecycle events written to the outbox.

Signature: `X-Deskbot-Signature: sha256=<hex>` where hex is HMAC-SHA256 with the shared secret
over `<X-Deskbot-Timestamp>.<raw body>` (so a captured request cannot be replayed later with a
new timestamp). `verify()` is the receiver's side. 2xx is delivered; 408, 429 and 5xx and
network errors are retried by the outbox with backoff (honouring Retry-After); other 4xx fail
for good.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.messages import DeliveryError, DeliveryResult, Outbound

if TYPE_CHECKING:
    from bot.gateway import Gateway

log = logging.getLogger(__name__)

PLATFORM = "webhook"
SIGNATURE = "X-Deskbot-Signature"
TIMESTAMP = "X-Deskbot-Timestamp"
RETRYABLE = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Receiver's check: the signature matches and the timestamp is recent."""
    timestamp = headers.get(TIMESTAMP, "")
    given = headers.get(SIGNATURE, "")
    if not timestamp.isdigit() or not given:
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), given)


class WebhookAdapter:
    """Delivery only: it has no inbound side and shows nothing to agents."""

    platform = PLATFORM
    agent_facing = False

    def __init__(self, secret: str | None, *, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        if not secret:
            log.warning("webhooks are sent unsigned: set DESKBOT_WEBHOOK_SECRET")

    async def start(self, gateway: Gateway) -> None:
        self._ensure_session()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def headers(self, message: Outbound, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        out = {
            "Content-Type": "application/json",
            "User-Agent": "deskbot-webhooks/1",
            "X-Deskbot-Event": str(message.payload.get("event", "")),
            "X-Deskbot-Delivery": str(message.id),
            TIMESTAMP: timestamp,
        }
        if self.secret:
            out[SIGNATURE] = sign(self.secret, timestamp, body)
        return out

    async def send(self, message: Outbound) -> DeliveryResult:
        url = message.payload.get("url")
        if not url:
            raise DeliveryError("webhook row without a URL", permanent=True)
        body = message.text.encode()
        try:
            async with self._ensure_session().post(
                url, data=body, headers=self.headers(message, body)
            ) as resp:
                status = resp.status
                retry_after = _seconds(resp.headers.get("Retry-After"))
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"webhook {url}: {type(exc).__name__}: {exc}") from exc
        if 200 <= status < 300:
            return DeliveryResult(external_id=str(message.id))
        error = f"webhook {url} answered HTTP {status}"
        if status in RETRYABLE or status >= 500:
            raise DeliveryError(error, retry_after=retry_after)
        raise DeliveryError(error, permanent=True)


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def webhook_adapters(settings: Any) -> list[WebhookAdapter]:
    """The adapter when webhook URLs are configured (bootstrap registers it)."""
    if not settings.webhook_urls.strip():
        return []
    return [WebhookAdapter(settings.webhook_secret, timeout=settings.webhook_timeout)]
