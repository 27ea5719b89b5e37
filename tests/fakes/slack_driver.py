"""Send signed requests INTO a bolt app the way Slack does (Events API, commands, interactivity).

Two transports: real HTTP to a served ``app.web_app()`` (``SlackDriver.serve(app, secret)``), or
in-process ``app.async_dispatch(AsyncBoltRequest(...))`` (``SlackDriver(app, secret)``). Payload
shapes follow the bolt-python test fixtures in /work/shared/fixtures/slack_payloads/.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, Self
from urllib.parse import urlencode

from aiohttp import ClientSession, web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import FakeSlack, Message

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
STALE_SECONDS = 6 * 60  # bolt rejects timestamps older than 5 minutes
JSON_TYPES = {"event_callback", "url_verification", "app_rate_limited"}
NO_FAKE_URL = "http://127.0.0.1:9/hooks/no-fake"  # loopback discard port: never the internet


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for ``body`` (HMAC-SHA256 of ``v0:{ts}:{body}``)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None  # None only when secret/timestamp are missing
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def encode_payload(payload: dict[str, Any] | str | bytes) -> tuple[str, str]:
    """(body, content type) as Slack sends it: JSON for Events API, a form for slash commands,
    ``payload=<json>`` form for interactivity. Raw str/bytes (a fixture file) pass through."""
    if isinstance(payload, bytes | str):
        text = payload.decode() if isinstance(payload, bytes) else payload
        return text, JSON if text.lstrip().startswith("{") else FORM
    if payload.get("type") in JSON_TYPES:
        return json.dumps(payload), JSON
    if "command" in payload and "type" not in payload:
        return urlencode(payload), FORM
    return urlencode({"payload": json.dumps(payload)}), FORM


class DriverResponse(NamedTuple):
    """What the app answered: HTTP status, body text and seconds until the answer arrived."""

    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackDriver:
    """Plays Slack towards a bolt app. ``target`` is a URL (HTTP) or an ``AsyncApp`` (direct).

    With ``slack`` (a FakeSlack) the payloads use its workspace ids, real trigger_ids and
    response_urls on the fake; without it they use placeholders.
    """

    def __init__(
        self,
        target: str | AsyncApp,
        signing_secret: str,
        *,
        slack: FakeSlack | None = None,
        team_id: str | None = None,
        api_app_id: str | None = None,
        enterprise_id: str | None = None,
    ) -> None:
        self.target, self.signing_secret, self.slack = target, signing_secret, slack
        self.team_id = team_id or (slack.team_id if slack else "T0TEAM")
        self.team_domain = slack.team_domain if slack else "example"
        self.api_app_id = api_app_id or (slack.app_id if slack else "A0APP")
        self.bot_user_id = slack.bot_user_id if slack else "U0BOT"
        self.enterprise_id = enterprise_id
        self._session: ClientSession | None = None

    @classmethod
    @asynccontextmanager
    async def serve(
        cls,
        app: AsyncApp,
        signing_secret: str,
        *,
        slack: FakeSlack | None = None,
        path: str = "/slack/events",
    ) -> AsyncIterator[SlackDriver]:
        """Serve ``app.web_app()`` on 127.0.0.1 (port 0) and yield an HTTP driver for it."""
        runner = web.AppRunner(app.web_app(path=path), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
        driver = cls(url, signing_secret, slack=slack)
        try:
            yield driver
        finally:
            await driver.aclose()
            await runner.cleanup()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ transport
    async def send(
        self,
        body: str,
        content_type: str,
        *,
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> DriverResponse:
        """Sign ``body`` and deliver it. ``forge`` signs with a wrong secret; ``stale`` with a
        timestamp six minutes old; ``timestamp`` sets it exactly."""
        if stale and timestamp is None:
            timestamp = int(time.time()) - STALE_SECONDS
        secret = "forged-" + self.signing_secret if forge else self.signing_secret
        all_headers = {"Content-Type": content_type, **sign(body, secret, timestamp)}
        all_headers.update(headers or {})
        started = time.perf_counter()
        if isinstance(self.target, str):
            if self._session is None:
                self._session = ClientSession()
            async with self._session.post(
                self.target, data=body.encode(), headers=all_headers
            ) as resp:
                text = await resp.text()
                return DriverResponse(resp.status, text, time.perf_counter() - started)
        request = AsyncBoltRequest(
            body=body, headers={k.lower(): [v] for k, v in all_headers.items()}
        )
        answer = await self.target.async_dispatch(request)
        return DriverResponse(answer.status, answer.body, time.perf_counter() - started)

    async def send_payload(
        self, payload: dict[str, Any] | str | bytes, **opts: Any
    ) -> DriverResponse:
        """Encode like Slack (see ``encode_payload``) and ``send``; use it to replay fixtures."""
        body, content_type = encode_payload(payload)
        return await self.send(body, content_type, **opts)

    # ------------------------------------------------------------------ shared pieces
    def _trigger_id(self, user_id: str) -> str:
        return self.slack.issue_trigger_id(user_id=user_id) if self.slack else "0.0.no-fake"

    def _response_url(self, kind: str) -> str:
        return self.slack.new_response_url(kind) if self.slack else NO_FAKE_URL

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.slack.users.get(user_id) if self.slack else None
        name = user.name if user else user_id.lower()
        team = user.team_id if user else self.team_id
        return {"id": user_id, "username": name, "name": name, "team_id": team}

    def _channel(self, channel_id: str) -> dict[str, Any]:
        name = channel_id
        if self.slack and channel_id in self.slack.channels:
            chan = self.slack.channels[channel_id]
            name = "directmessage" if chan.is_im else chan.name
        return {"id": channel_id, "name": name}

    def _team(self) -> dict[str, Any]:
        team: dict[str, Any] = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id:
            team["enterprise_id"] = self.enterprise_id
        return team

    def _message(self, channel: str, ts: str, message: dict[str, Any] | Message | None) -> Any:
        if isinstance(message, Message):
            return message.to_api()
        if message is not None:
            return message
        if self.slack and channel in self.slack.channels:
            try:
                return self.slack.message(channel, ts).to_api()
            except KeyError:
                pass
        return {"type": "message", "ts": ts, "text": "", "user": self.bot_user_id}

    def _interactive(self, kind: str, user_id: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "verification-token",
            "team": self._team(),
            "enterprise": {"id": self.enterprise_id} if self.enterprise_id else None,
            "is_enterprise_install": False,
            **fields,
        }

    # ------------------------------------------------------------------ request kinds
    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        team_id: str | None = None,
        **opts: Any,
    ) -> DriverResponse:
        """An Events API delivery. ``team_id`` sets the outer team (Slack Connect: the other org);
        ``authorizations[0]`` always names our installation. ``retry_num`` adds retry headers."""
        event = {**event}
        event.setdefault("event_ts", event.get("ts") or f"{time.time():.6f}")
        ext_shared = bool(
            self.slack
            and event.get("channel") in self.slack.channels
            and self.slack.channels[event["channel"]].is_ext_shared
        )
        envelope = {
            "token": "verification-token",
            "team_id": team_id or self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": ext_shared,
            "event_context": f"4-{secrets.token_hex(8)}",
        }
        if retry_num is not None:
            retry = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            opts["headers"] = {**retry, **opts.get("headers", {})}
        return await self.send_payload(envelope, **opts)

    async def slash_command(
        self,
        command: str,
        text: str,
        user_id: str,
        channel_id: str,
        *,
        trigger_id: str | None = None,
        response_url: str | None = None,
        **opts: Any,
    ) -> DriverResponse:
        """A slash command, form-encoded exactly like Slack's (fields as in the fixture)."""
        form = {
            "token": "verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel(channel_id)["name"],
            "user_id": user_id,
            "user_name": self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url("commands"),
            "trigger_id": trigger_id or self._trigger_id(user_id),
        }
        if self.enterprise_id:
            form["enterprise_id"] = self.enterprise_id
        return await self.send_payload(form, **opts)

    async def block_action(
        self,
        action_id: str,
        value: str | None,
        user_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        *,
        block_id: str = "b",
        action_type: str = "button",
        message: dict[str, Any] | Message | None = None,
        view: dict[str, Any] | None = None,
        **opts: Any,
    ) -> DriverResponse:
        """A ``block_actions`` payload from a message button/select, or from a view if ``view``."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if action_type == "users_select":
            action["selected_user"] = value
        elif action_type.endswith("select"):
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": value},
                "value": value,
            }
        else:
            action["value"] = value
        fields: dict[str, Any] = {"trigger_id": self._trigger_id(user_id), "actions": [action]}
        if view is not None:
            fields["container"] = {"type": "view", "view_id": view.get("id")}
            fields["view"] = view
        else:
            if channel is None or message_ts is None:
                raise ValueError("a message action needs channel and message_ts")
            fields["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            fields["channel"] = self._channel(channel)
            fields["message"] = self._message(channel, message_ts, message)
            fields["state"] = {"values": {}}
            fields["response_url"] = self._response_url("actions")
        return await self.send_payload(
            self._interactive("block_actions", user_id, **fields), **opts
        )

    def _view(
        self, callback_id: str, view_id: str | None, values: dict[str, Any], private_metadata: str
    ) -> dict[str, Any]:
        stored = self.slack.views.get(view_id or "") if self.slack else None
        view: dict[str, Any] = (
            stored.to_api(self.team_id, self.api_app_id, self.slack.bot_id)
            if stored and self.slack
            else {
                "id": view_id or f"V{secrets.token_hex(4).upper()}",
                "team_id": self.team_id,
                "type": "modal",
                "blocks": [],
                "title": {"type": "plain_text", "text": "deskbot"},
                "app_id": self.api_app_id,
                "root_view_id": view_id,
                "previous_view_id": None,
                "hash": f"{int(time.time())}.abc",
                "external_id": "",
            }
        )
        view.update(callback_id=callback_id, private_metadata=private_metadata)
        view["state"] = {
            "values": {
                block: {
                    action: {"type": "plain_text_input", "value": v} if isinstance(v, str) else v
                    for action, v in actions.items()
                }
                for block, actions in values.items()
            }
        }
        return view

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        user_id: str,
        private_metadata: str = "",
        *,
        view_id: str | None = None,
        response_urls: list[dict[str, Any]] | None = None,
        **opts: Any,
    ) -> DriverResponse:
        """A modal submit. ``values`` is ``{block_id: {action_id: "text" | element_state}}``;
        a plain string becomes a plain_text_input state. A known ``view_id`` reuses the view
        the fake stored (blocks, title)."""
        view = self._view(callback_id, view_id, values, private_metadata)
        payload = self._interactive(
            "view_submission",
            user_id,
            view=view,
            trigger_id=self._trigger_id(user_id),
            response_urls=response_urls or [],
        )
        return await self.send_payload(payload, **opts)

    async def view_closed(
        self, callback_id: str, user_id: str, *, view_id: str | None = None, **opts: Any
    ) -> DriverResponse:
        view = self._view(callback_id, view_id, {}, "")
        payload = self._interactive("view_closed", user_id, view=view, is_cleared=False)
        return await self.send_payload(payload, **opts)

    async def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any] | Message,
        user_id: str,
        channel: str,
        **opts: Any,
    ) -> DriverResponse:
        """A message shortcut (``message_action``) on ``message`` in ``channel``."""
        msg = self._message(channel, "", message)
        payload = self._interactive(
            "message_action",
            user_id,
            callback_id=callback_id,
            action_ts=f"{time.time():.6f}",
            channel=self._channel(channel),
            trigger_id=self._trigger_id(user_id),
            message_ts=msg.get("ts"),
            message=msg,
            response_url=self._response_url("app"),
        )
        return await self.send_payload(payload, **opts)

    async def global_shortcut(self, callback_id: str, user_id: str, **opts: Any) -> DriverResponse:
        payload = self._interactive(
            "shortcut",
            user_id,
            callback_id=callback_id,
            action_ts=f"{time.time():.6f}",
            trigger_id=self._trigger_id(user_id),
        )
        return await self.send_payload(payload, **opts)

    async def options(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str = "U0USER",
        block_id: str = "b",
        view: dict[str, Any] | None = None,
        **opts: Any,
    ) -> DriverResponse:
        """A ``block_suggestion`` (external_select typing) inside a modal."""
        view = view or self._view("options", None, {}, "")
        payload = self._interactive(
            "block_suggestion",
            user_id,
            container={"type": "view", "view_id": view["id"]},
            action_id=action_id,
            block_id=block_id,
            value=value,
            view=view,
        )
        return await self.send_payload(payload, **opts)
