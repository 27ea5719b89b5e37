"""The bolt AsyncApp: request checks, event de-duplication and every listener, registered once."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack import commands, intake, interactive

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)


def build_bolt_app(adapter: SlackAdapter) -> AsyncApp:
    """A bolt app whose Web API client is the adapter's (base URL and retry handlers)."""
    http = adapter.cfg.mode == "http"
    app = AsyncApp(
        client=adapter.client,
        signing_secret=adapter.cfg.signing_secret or "",
        # HTTP requests must carry Slack's signature; Socket Mode has no HTTP requests.
        request_verification_enabled=http,
        process_before_response=False,
    )

    app.use(DropRedeliveries(adapter))
    # Slash commands first: bolt tries listeners in registration order, and each matcher it
    # tries costs time on the ack path (measured with bench/slack_ack.py).
    commands.register(app, adapter)
    interactive.register(app, adapter)
    intake.register(app, adapter)

    @app.event(re.compile(".*"))
    async def other_events() -> None:
        # Subscribed events nobody handles still get a 200, so Slack does not retry them.
        return None

    return app


class DropRedeliveries(AsyncMiddleware):
    """Events API redeliveries (same event_id) and rate-limit notices end here with a 200.

    Messages are idempotent in the core by (channel, ts); this also covers mentions and
    reactions. A middleware class, not a decorated function: bolt then calls it directly,
    without building keyword arguments for every request (the ack path stays short)."""

    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        if isinstance(body, dict) and body.get("type") == "app_rate_limited":
            # Over 30,000 events an hour Slack drops events for a minute and says so.
            log.warning("Slack is rate-limiting events for this app: %s", body)
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not self.adapter.recent_events.add(str(event_id)):
            retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("duplicate event %s (retry %s) skipped", event_id, retry)
            return BoltResponse(status=200, body="")
        return await next()
