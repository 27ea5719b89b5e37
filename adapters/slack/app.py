"""The bolt AsyncApp: request checks, event de-duplication and every listener, registered once."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
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

    @app.middleware
    async def drop_redeliveries(body: dict[str, Any], next: Any, request: Any) -> Any:
        # Messages are idempotent in the core by (channel, ts); this also covers mentions and
        # reactions. A middleware must return a response or call next(), else bolt answers 404.
        if isinstance(body, dict) and body.get("type") == "app_rate_limited":
            # Over 30,000 events an hour Slack drops events for a minute and says so.
            log.warning("Slack is rate-limiting events for this app: %s", body)
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not adapter.recent_events.add(str(event_id)):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("duplicate event %s (retry %s) skipped", event_id, retry)
            return BoltResponse(status=200, body="")
        return await next()

    intake.register(app, adapter)
    commands.register(app, adapter)
    interactive.register(app, adapter)

    @app.event(re.compile(".*"))
    async def other_events() -> None:
        # Subscribed events nobody handles still get a 200, so Slack does not retry them.
        return None

    return app
