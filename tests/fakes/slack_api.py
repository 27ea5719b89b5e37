"""Faithful fake of the Slack Web API on 127.0.0.1 for deskbot's Slack adapter tests.

Point an unmodified slack_sdk ``AsyncWebClient(base_url=slack.base_url)`` at it. It keeps a small
workspace model (users, channels, user groups, messages, views, files), enforces the limits real
Slack enforces with the real error strings, rate-limits ``chat.postMessage`` per channel, and
records every call so tests can assert what the adapter did.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, quote

from aiohttp import WSMsgType, web

MAX_TEXT = 40_000  # longer message text is truncated with a warning (changelog 2018-04)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_VIEW_TITLE = 24  # also submit/close labels
MAX_ACTION_ELEMENTS = 25  # elements in one actions block
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTION_ID = 255
MAX_PRIVATE_METADATA = 3_000
TRIGGER_TTL = 3.0
RESPONSE_URL_USES = 5  # a response_url takes at most 5 posts (within 30 minutes)
MAX_VIEW_STACK = 3  # views.push: at most 3 views in a modal stack
TRUNCATED_WARNING = (
    "[WARN] Your message was truncated but still posted. The `text` field accepts up to "
    "40,000 characters."
)
DEFAULT_SCOPES = (
    "chat:write,commands,reactions:read,reactions:write,channels:read,groups:read,im:read,"
    "im:write,mpim:read,users:read,users:read.email,usergroups:read,files:write,channels:join,"
    "channels:history,groups:history,im:history,files:read"
)
# Scope a method needs (any one of them). Real Slack answers missing_scope without it.
NEEDED_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "reactions.add": ("reactions:write",),
    "reactions.remove": ("reactions:write",),
    "conversations.open": ("im:write",),
    "conversations.join": ("channels:join",),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.members": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
INJECTED_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


class SlackError(Exception):
    """An error answer: ``{"ok": false, "error": error, ...}`` with an HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}
        self.body: dict[str, Any] = {"ok": False, "error": error, **(extra or {})}
        if messages:
            self.body["response_metadata"] = {"messages": messages}


@dataclass
class Call:
    """One recorded request: API method (or "response_url"), its arguments, wall time, outcome."""

    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    error: str | None = None


@dataclass
class User:
    id: str
    name: str
    team_id: str
    email: str | None = None
    real_name: str = ""
    display_name: str = ""
    locale: str = "en-US"
    tz: str = "Europe/London"
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, *, with_email: bool, with_locale: bool) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": self.team_id,
        }
        if with_email and self.email:
            profile["email"] = self.email
        out: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }
        if with_locale:
            out["locale"] = self.locale
        return out


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_ext_shared: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    im_user: str | None = None  # the human in a DM
    created: int = field(default_factory=lambda: int(time.time()))

    def to_api(self, bot_user_id: str, team_id: str) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "created": self.created}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "context_team_id": team_id,
            "created": self.created,
            "num_members": len(self.members),
        }


@dataclass
class Message:
    """A message as the fake stores it; ``updates`` counts successful chat.update calls."""

    channel: str
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = None
    reply_broadcast: bool = False
    updates: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier text/blocks versions
    reactions: dict[str, list[str]] = field(default_factory=dict)  # name -> user ids
    replies: list[str] = field(default_factory=list)  # ts of thread replies (on the parent)
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        out["user"] = self.user
        for key in ("bot_id", "blocks", "attachments", "thread_ts", "metadata", "files"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.replies:
            out.update(reply_count=len(self.replies), latest_reply=self.replies[-1])
        if self.updates:
            out["edited"] = {"user": self.user, "ts": self.history[-1]["edited_ts"]}
        if self.reactions:
            out["reactions"] = [
                {"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()
            ]
        return out


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    ts: str


@dataclass
class View:
    id: str
    user_id: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    updates: int = 0
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    def to_api(self, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        p = self.payload
        out = {
            "id": self.id,
            "team_id": team_id,
            "type": p.get("type"),
            "blocks": p.get("blocks", []),
            "private_metadata": p.get("private_metadata", ""),
            "callback_id": p.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.hash,
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": p.get("external_id", ""),
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }
        for key in ("title", "close", "submit"):
            if key in p:
                out[key] = p[key]
        return out


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None  # None until the upload URL received the bytes
    title: str | None = None
    shared_to: list[str] = field(default_factory=list)


@dataclass
class SharedFile:
    """A file someone shared in the workspace, served at its url_private(_download)."""

    id: str
    name: str
    mimetype: str
    content: bytes


@dataclass
class ResponsePost:
    url: str
    body: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class _Bucket:
    """Token bucket: ``burst`` requests at once, refilled at ``rate`` per second."""

    rate: float
    burst: int
    tokens: float
    last: float

    def take(self, now: float) -> float:
        """Spend one token; answer 0 when allowed, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _text_len_error(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, dict) and len(str(value.get("text", ""))) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []


def block_errors(blocks: Any, pointer: str, max_blocks: int) -> list[str]:
    """Block Kit limits Slack checks server-side; messages in Slack's own wording."""
    if not isinstance(blocks, list):
        return [f"[ERROR] expected array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        at = f"{pointer}/{i}"
        if not isinstance(block, dict) or "type" not in block:
            errors.append(f"[ERROR] missing required field: type [json-pointer:{at}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                errors.append(f"[ERROR] duplicate block_id {block_id} [json-pointer:{at}/block_id]")
            seen_ids.add(block_id)
        if block["type"] == "section":
            errors += _text_len_error(block.get("text"), MAX_SECTION_TEXT, f"{at}/text")
            fields = block.get("fields") or []
            if len(fields) > MAX_SECTION_FIELDS:
                errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{at}/fields]")
            for j, f in enumerate(fields):
                errors += _text_len_error(f, MAX_FIELD_TEXT, f"{at}/fields/{j}")
        elif block["type"] == "header":
            errors += _text_len_error(block.get("text"), MAX_HEADER_TEXT, f"{at}/text")
        elif block["type"] == "actions":
            errors += _action_errors(block.get("elements"), f"{at}/elements")
    return errors


def _action_errors(elements: Any, pointer: str) -> list[str]:
    """An actions block: 1–25 elements; buttons with short labels and values, unique ids."""
    if not isinstance(elements, list) or not elements:
        return [f"[ERROR] must provide at least 1 items [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(elements) > MAX_ACTION_ELEMENTS:
        errors.append(f"[ERROR] no more than 25 items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for i, element in enumerate(elements):
        at = f"{pointer}/{i}"
        action_id = str(element.get("action_id") or "")
        if len(action_id) > MAX_ACTION_ID:
            errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{at}/action_id]")
        if action_id and action_id in seen:
            errors.append(f"[ERROR] duplicate action_id {action_id} [json-pointer:{at}/action_id]")
        seen.add(action_id)
        if element.get("type") != "button":
            continue
        if not isinstance(element.get("text"), dict):
            errors.append(f"[ERROR] missing required field: text [json-pointer:{at}]")
        errors += _text_len_error(element.get("text"), MAX_BUTTON_TEXT, f"{at}/text")
        if len(str(element.get("value") or "")) > MAX_BUTTON_VALUE:
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{at}/value]")
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"[ERROR] must be one of primary, danger [json-pointer:{at}/style]")
    return errors


def view_errors(view: dict[str, Any], kind: str) -> list[str]:
    """Limits of a modal or Home tab view (views.* answer invalid_arguments on these)."""
    if view.get("type") != kind:
        return [f"[ERROR] must be '{kind}' [json-pointer:/view/type]"]
    errors = block_errors(view.get("blocks", []), "/view/blocks", MAX_VIEW_BLOCKS)
    if kind == "modal" and not isinstance(view.get("title"), dict):
        errors.append("[ERROR] missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        errors += _text_len_error(view.get(key), MAX_VIEW_TITLE, f"/view/{key}")
    if len(str(view.get("private_metadata", ""))) > MAX_PRIVATE_METADATA:
        errors.append(
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
        )
    return errors


def _parse_json_arg(args: dict[str, Any], key: str, error: str) -> Any:
    """Form bodies carry blocks/view/attachments as JSON strings; JSON bodies carry objects."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except ValueError as exc:
            raise SlackError(error) from exc
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


class FakeSlack:
    """A Slack workspace plus Web API on loopback. Use as ``async with FakeSlack() as slack``."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        team_id: str = "T0TEAM",
        team_name: str = "Example",
        team_domain: str = "example",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0APP",
        scopes: str = DEFAULT_SCOPES,
        post_rate: float | None = 1.0,
        post_burst: int = 3,
        trigger_ttl: float = TRIGGER_TTL,
    ) -> None:
        self.tokens = {token}
        self.app_tokens = {app_token}
        self.sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.team_id, self.team_name, self.team_domain = team_id, team_name, team_domain
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.scopes = set(scopes.split(","))
        self.trigger_ttl = trigger_ttl
        self.calls: list[Call] = []
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, list[str]] = {}  # id -> user ids
        self.usergroup_handles: dict[str, str] = {}  # handle -> id
        self.views: dict[str, View] = {}
        self.home_views: dict[str, View] = {}
        self.files: dict[str, UploadedFile] = {}
        self.shared_files: dict[str, SharedFile] = {}  # files people shared, by id
        self.ephemerals: list[Ephemeral] = []
        self.posts_to_response_urls: list[ResponsePost] = []
        self.unknown_thread_ts: list[tuple[str, str]] = []  # (channel, thread_ts) Slack accepted
        self._messages: dict[str, dict[str, Message]] = {}
        self._triggers: dict[str, tuple[float, str | None]] = {}  # id -> (issued, user)
        self._response_urls: dict[str, int] = {}  # url -> uses
        self._failures: dict[str, list[tuple[int, int, str | None]]] = {}
        self._rate_limits: dict[str, tuple[float, int]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._ids = itertools.count(1)
        self._last_us = 0
        if post_rate is not None:
            self.set_rate_limit("chat.postMessage", post_rate, post_burst)
        self.users[bot_user_id] = User(bot_user_id, "deskbot", team_id, is_bot=True)
        self._runner: web.AppRunner | None = None
        self.root_url = ""
        self.base_url = ""
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            # Retired on 2025-11-12 for every app: uploads go through the two methods above.
            "files.upload": self._files_upload_retired,
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/hooks/{rest:.*}", self._handle_response_url)
        app.router.add_get("/link", self._handle_socket)
        app.router.add_get("/files-pri/{key}/{rest:.*}", self._handle_file_download)
        app.router.add_get("/signin", self._handle_signin)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/"

    async def stop(self) -> None:
        await self.close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ workspace helpers
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        # Integer microseconds so two posts never share a ts (ts is a message's identity).
        self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def add_user(
        self,
        name: str,
        *,
        id: str | None = None,
        email: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        locale: str = "en-US",
        tz: str = "Europe/London",
        is_bot: bool = False,
        team_id: str | None = None,
        deleted: bool = False,
    ) -> User:
        """Add a user; ``team_id`` other than ours models a Slack Connect (external) user."""
        user = User(
            id or self._new_id("U"),
            name,
            team_id or self.team_id,
            email=email,
            real_name=real_name if real_name is not None else name.title(),
            display_name=display_name if display_name is not None else name,
            locale=locale,
            tz=tz,
            is_bot=is_bot,
            deleted=deleted,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        id: str | None = None,
        private: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = True,
        ext_shared: bool = False,
        archived: bool = False,
    ) -> Channel:
        """Add a channel; the bot is a member unless ``bot_member=False``."""
        member_ids = list(dict.fromkeys([*members, *([self.bot_user_id] if bot_member else [])]))
        chan = Channel(
            id or self._new_id("G" if private else "C"),
            name,
            is_private=private,
            is_ext_shared=ext_shared,
            is_archived=archived,
            members=member_ids,
        )
        self.channels[chan.id] = chan
        self._messages[chan.id] = {}
        return chan

    def add_usergroup(self, handle: str, users: Iterable[str], *, id: str | None = None) -> str:
        """Add a user group (``@handle``); answers its id for usergroups.users.list."""
        group_id = id or self._new_id("S")
        self.usergroup_handles[handle] = group_id
        self.usergroups[group_id] = list(users)
        return group_id

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        bot_id: str | None = None,
    ) -> Message:
        """Seed a message someone else posted (e.g. the customer message a ticket starts from)."""
        chan = self.channel(channel)
        msg = Message(chan.id, ts or self._next_ts(), text, user, bot_id=bot_id, blocks=blocks)
        self._store(msg, thread_ts)
        return msg

    def share_file(
        self,
        name: str,
        content: bytes,
        *,
        user: str = "U0USER",
        mimetype: str = "application/octet-stream",
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file someone shares: the file object a message event carries (put it in the
        event's ``files``). Its bytes are served at ``url_private``/``url_private_download``
        only to a request with a bot token (``Authorization: Bearer``) and the ``files:read``
        scope; anything else is sent to the sign-in page, as real Slack does."""
        file = SharedFile(self._new_id("F"), name, mimetype, content)
        self.shared_files[file.id] = file
        base = f"{self.root_url}/files-pri/{self.team_id}-{file.id}"
        quoted = quote(name, safe="")
        return {
            "id": file.id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rpartition(".")[2] if "." in name else "binary",
            "size": len(content) if size is None else size,
            "user": user,
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{base}/{quoted}",
            "url_private_download": f"{base}/download/{quoted}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file.id}/{quoted}",
        }

    def channel(self, ref: str) -> Channel:
        """Channel by id or name (``#name`` too); KeyError when unknown."""
        if ref in self.channels:
            return self.channels[ref]
        for chan in self.channels.values():
            if chan.name == ref.lstrip("#") and not chan.is_im:
                return chan
        raise KeyError(ref)

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's DM with a user (what conversations.open answers), created on first use."""
        for chan in self.channels.values():
            if chan.is_im and chan.im_user == user_id:
                return chan
        chan = Channel(self._new_id("D"), user_id, is_im=True, im_user=user_id)
        chan.members = [user_id, self.bot_user_id]
        self.channels[chan.id] = chan
        self._messages[chan.id] = {}
        return chan

    def issue_trigger_id(self, *, user_id: str | None = None, age: float = 0.0) -> str:
        """A trigger_id valid for ``trigger_ttl`` seconds; ``age`` back-dates it (expiry tests)."""
        trigger = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
        self._triggers[trigger] = (time.monotonic() - age, user_id)
        return trigger

    def new_response_url(self, kind: str = "commands") -> str:
        """A response_url on the fake; posts to it are recorded in ``posts_to_response_urls``."""
        url = (
            f"{self.root_url}/hooks/{kind}/{self.team_id}/{next(self._ids)}/{secrets.token_hex(8)}"
        )
        self._response_urls[url] = 0
        return url

    def fail_next(
        self,
        method: str,
        status: int = 429,
        times: int = 1,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (HTTP 429/5xx, or an ok:false error).

        ``method`` may also be "response_url" or "upload". 429 answers carry Retry-After.
        ``status=0`` drops the connection without answering (the client sees a disconnect).
        """
        self._failures.setdefault(method, []).extend([(status, retry_after, error)] * times)

    def set_rate_limit(self, method: str, per_second: float | None, burst: int = 3) -> None:
        """Token bucket per (method, channel); ``per_second=None`` removes the limit."""
        self._buckets = {k: b for k, b in self._buckets.items() if k[0] != method}
        if per_second is None:
            self._rate_limits.pop(method, None)
        else:
            self._rate_limits[method] = (per_second, burst)

    # ------------------------------------------------------------------ assertions
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(
        self, channel: str, thread_ts: str | None = None, *, include_deleted: bool = False
    ) -> list[Message]:
        """Top-level messages of a channel in post order, or the replies (not the parent) of
        the thread ``thread_ts``."""
        chan = self.channel(channel)
        out = []
        for msg in self._messages[chan.id].values():
            if msg.deleted and not include_deleted:
                continue
            in_thread = msg.thread_ts is not None and msg.thread_ts != msg.ts
            if (thread_ts is None and not in_thread) or (in_thread and msg.thread_ts == thread_ts):
                out.append(msg)
        return out

    def message(self, channel: str, ts: str) -> Message:
        return self._messages[self.channel(channel).id][ts]

    def response_posts(self, url: str | None = None) -> list[ResponsePost]:
        return [p for p in self.posts_to_response_urls if url is None or p.url == url]

    # ------------------------------------------------------------------ HTTP plumbing
    async def _read_args(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "multipart/form-data":
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
            return args, False
        raw = await request.read()
        if request.content_type == "application/json":
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise SlackError("invalid_json") from exc
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
            return args, True
        args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        return args, False

    def _check_auth(self, request: web.Request, args: dict[str, Any], is_json: bool) -> None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        if token is None and not is_json:  # form/query token is accepted; a JSON body's is not
            token = args.pop("token", None)
        if not token:
            raise SlackError("not_authed")
        if token not in self.tokens and token not in self.app_tokens:
            raise SlackError("invalid_auth")
        # apps.connections.open takes only an app-level token; every other method rejects one.
        app_only = request.match_info.get("method") == "apps.connections.open"
        if (token in self.app_tokens) != app_only:
            raise SlackError("not_allowed_token_type")

    def _injected(self, method: str) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        status, retry_after, error = queue.pop(0)
        headers = {"Retry-After": str(retry_after)} if status == 429 else None
        raise SlackError(
            error or INJECTED_ERRORS.get(status, "fatal_error"), status=status, headers=headers
        )

    def _rate_limit(self, method: str, args: dict[str, Any]) -> None:
        if method not in self._rate_limits:
            return
        rate, burst = self._rate_limits[method]
        now = time.monotonic()
        key = (method, str(args.get("channel", "")))
        bucket = self._buckets.setdefault(key, _Bucket(rate, burst, float(burst), now))
        wait = bucket.take(now)
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _check_scope(self, method: str) -> None:
        needed = NEEDED_SCOPES.get(method, ())
        if needed and not self.scopes.intersection(needed):
            extra = {"needed": needed[0], "provided": ",".join(sorted(self.scopes))}
            raise SlackError("missing_scope", extra=extra)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, time.time())
        self.calls.append(call)
        headers = {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}
        try:
            args, is_json = await self._read_args(request)
            call.args = args
            queue = self._failures.get(method)
            if queue and queue[0][0] == 0:
                queue.pop(0)
                call.status, call.error = 0, "disconnected"
                assert request.transport is not None
                request.transport.close()  # no answer at all: ServerDisconnectedError
                return web.Response(status=500)
            self._injected(method)
            self._check_auth(request, args, is_json)
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            self._check_scope(method)
            self._rate_limit(method, args)
            result = handler(args)
        except SlackError as err:
            call.status, call.error = err.status, err.error
            return web.json_response(
                err.body, status=err.status, headers={**headers, **err.headers}
            )
        return web.json_response({"ok": True, **result}, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"]}, time.time()))
        try:
            self._injected("upload")
        except SlackError as err:
            return web.Response(status=err.status, text=err.error, headers=err.headers)
        if file is None:
            return web.Response(status=404, text="file_not_found")
        file.content = data
        return web.Response(text=f"OK - {len(data)}")

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        """GET of a shared file's url_private(_download): the bytes, for the bot token only."""
        file_id = request.match_info["key"].partition("-")[2]
        call = Call("file_download", {"file_id": file_id, "path": request.path}, time.time())
        self.calls.append(call)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        if token not in self.tokens or "files:read" not in self.scopes:
            # Slack does not say 401 here: it redirects to a sign-in page (HTML, status 200).
            call.status, call.error = 302, "not_authed" if token is None else "invalid_auth"
            return web.Response(
                status=302, headers={"Location": f"{self.root_url}/signin?redir={request.path}"}
            )
        file = self.shared_files.get(file_id)
        if file is None:
            call.status, call.error = 404, "file_not_found"
            return web.Response(status=404, text="file_not_found")
        return web.Response(body=file.content, content_type=file.mimetype)

    async def _handle_signin(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"<!DOCTYPE html><title>Sign in | {self.team_name}</title>",
            content_type="text/html",
        )

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url = f"{self.root_url}{request.path}"
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = dict(parse_qsl(raw.decode()))
        post = ResponsePost(url, body, time.time())
        self.calls.append(Call("response_url", body, post.at))
        self.posts_to_response_urls.append(post)
        try:
            self._injected("response_url")
        except SlackError as err:
            post.status = err.status
            return web.json_response(err.body, status=err.status, headers=err.headers)
        if url not in self._response_urls:
            post.status = 404
            return web.json_response({"ok": False, "error": "no_service"}, status=404)
        self._response_urls[url] += 1
        if self._response_urls[url] > RESPONSE_URL_USES:
            post.status = 404
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        if len(str(body.get("text", ""))) > MAX_TEXT:
            body["text"] = body["text"][:MAX_TEXT]
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------ shared rules
    def _visible_channel(self, ref: Any) -> Channel:
        """Resolve a channel the bot can see: private ones it is not in are channel_not_found."""
        if not ref:
            raise SlackError("channel_not_found")
        ref = str(ref)
        if ref in self.users and not ref.startswith(("C", "G", "D")):
            return self.dm_channel(ref)  # posting to a user id lands in the bot's DM
        try:
            chan = self.channel(ref)
        except KeyError as exc:
            raise SlackError("channel_not_found") from exc
        if chan.is_private and self.bot_user_id not in chan.members:
            raise SlackError("channel_not_found")
        return chan

    def _postable_channel(self, ref: Any) -> Channel:
        chan = self._visible_channel(ref)
        if chan.is_archived:
            raise SlackError("is_archived")
        public_ok = not chan.is_private and not chan.is_im and "chat:write.public" in self.scopes
        if self.bot_user_id not in chan.members and not public_ok:
            raise SlackError("not_in_channel")
        return chan

    def _content(
        self, args: dict[str, Any], *, truncate: bool
    ) -> tuple[str | None, list[dict[str, Any]] | None, list[Any] | None, dict[str, Any]]:
        """Validate text/blocks/attachments; answer extra response fields (warnings)."""
        text = args.get("text")
        blocks = _parse_json_arg(args, "blocks", "invalid_blocks_format")
        attachments = _parse_json_arg(args, "attachments", "invalid_attachments")
        if blocks is not None:
            errors = block_errors(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
            if errors:
                raise SlackError("invalid_blocks", messages=errors)
        extra: dict[str, Any] = {}
        if text is not None and len(str(text)) > MAX_TEXT:
            if not truncate:
                raise SlackError("msg_too_long")
            text = str(text)[:MAX_TEXT]
            extra["warning"] = "message_truncated"
            extra["response_metadata"] = {
                "warnings": ["message_truncated"],
                "messages": [TRUNCATED_WARNING],
            }
        return (None if text is None else str(text)), blocks, attachments, extra

    def _store(self, msg: Message, thread_ts: str | None) -> None:
        store = self._messages[msg.channel]
        if thread_ts:
            parent = store.get(thread_ts)
            if parent is None:
                self.unknown_thread_ts.append((msg.channel, thread_ts))
            elif parent.thread_ts and parent.thread_ts != parent.ts:
                parent = store.get(parent.thread_ts, parent)  # a reply to a reply joins the root
            if parent is not None:
                thread_ts = parent.ts
                parent.thread_ts = parent.ts
                parent.replies.append(msg.ts)
            msg.thread_ts = thread_ts
        store[msg.ts] = msg

    def _find_message(self, chan: Channel, ts: Any) -> Message:
        msg = self._messages[chan.id].get(str(ts))
        if msg is None or msg.deleted:
            raise SlackError("message_not_found")
        return msg

    # ------------------------------------------------------------------ Socket Mode
    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.root_url.replace("http://", "ws://") + "/link"}

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: hello, then envelopes we push; acks resolve them."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.sockets),
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            waiter = self._socket_acks.pop(str(data.get("envelope_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
        if ws in self.sockets:
            self.sockets.remove(ws)
        return ws

    async def socket_send(
        self, kind: str, payload: dict[str, Any], *, within: float = 3.0
    ) -> dict[str, Any]:
        """Push one envelope (events_api, slash_commands, interactive) to the first connected
        app and answer its ack (``{"envelope_id": …, "payload": …}``); fails after 3 s."""
        if not self.sockets:
            raise RuntimeError("no Socket Mode connection")
        envelope_id = secrets.token_hex(8)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = waiter
        await self.sockets[0].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(waiter, within)

    async def close_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    # ------------------------------------------------------------------ methods
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.users[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._postable_channel(args.get("channel"))
        text, blocks, attachments, extra = self._content(args, truncate=True)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        msg = Message(
            chan.id,
            self._next_ts(),
            text or "",
            self.bot_user_id,
            bot_id=self.bot_id,
            blocks=blocks,
            attachments=attachments,
            metadata=_parse_json_arg(args, "metadata", "invalid_metadata_format"),
            reply_broadcast=_truthy(args.get("reply_broadcast")),
        )
        self._store(msg, str(args["thread_ts"]) if args.get("thread_ts") else None)
        return {"channel": chan.id, "ts": msg.ts, "message": msg.to_api(), **extra}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._postable_channel(args.get("channel"))
        user = str(args.get("user", ""))
        if user not in self.users:
            raise SlackError("user_not_found")
        if user not in chan.members:
            raise SlackError("user_not_in_channel")
        text, blocks, attachments, extra = self._content(args, truncate=True)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        ts = self._next_ts()
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        self.ephemerals.append(Ephemeral(chan.id, user, text or "", blocks, thread_ts, ts))
        return {"message_ts": ts, **extra}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._visible_channel(args.get("channel"))
        msg = self._find_message(chan, args.get("ts"))
        if msg.user != self.bot_user_id:
            raise SlackError("cant_update_message")
        text, blocks, attachments, extra = self._content(args, truncate=False)
        msg.history.append({"text": msg.text, "blocks": msg.blocks, "edited_ts": self._next_ts()})
        # Slack keeps fields the update leaves out; an empty blocks list clears them.
        if text is not None:
            msg.text = text
        if blocks is not None:
            msg.blocks = blocks or None
        if attachments is not None:
            msg.attachments = attachments or None
        msg.updates += 1
        return {
            "channel": chan.id,
            "ts": msg.ts,
            "text": msg.text,
            "message": msg.to_api(),
            **extra,
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._visible_channel(args.get("channel"))
        msg = self._find_message(chan, args.get("ts"))
        if msg.user != self.bot_user_id:
            raise SlackError("cant_delete_message")
        msg.deleted = True
        return {"channel": chan.id, "ts": msg.ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._visible_channel(args.get("channel"))
        msg = self._find_message(chan, args.get("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{chan.id}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts and msg.thread_ts != msg.ts:
            link += f"?thread_ts={msg.thread_ts}&cid={chan.id}"
        return {"channel": chan.id, "permalink": link}

    def _reaction_target(self, args: dict[str, Any]) -> tuple[Message, str]:
        if not args.get("channel") or not args.get("timestamp"):
            raise SlackError("no_item_specified")
        chan = self._visible_channel(args["channel"])
        name = str(args.get("name", "")).strip(":")
        if not name:
            raise SlackError("invalid_name")
        return self._find_message(chan, args["timestamp"]), name

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        msg, name = self._reaction_target(args)
        users = msg.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def _reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        msg, name = self._reaction_target(args)
        users = msg.reactions.get(name, [])
        if self.bot_user_id not in users:
            raise SlackError("no_reaction")
        users.remove(self.bot_user_id)
        if not users:
            del msg.reactions[name]
        return {}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            chan = self._visible_channel(args["channel"])
            return {"channel": {"id": chan.id}, "no_op": True, "already_open": True}
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_implemented_in_fake", messages=["group DMs are not modelled"])
        if users[0] not in self.users or self.users[users[0]].deleted:
            raise SlackError("user_not_found")
        existed = any(c.is_im and c.im_user == users[0] for c in self.channels.values())
        chan = self.dm_channel(users[0])
        body = (
            chan.to_api(self.bot_user_id, self.team_id)
            if _truthy(args.get("return_im"))
            else {"id": chan.id}
        )
        out: dict[str, Any] = {"channel": body}
        if existed:
            out.update(no_op=True, already_open=True)
        return out

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            chan = self.channel(str(args.get("channel", "")))
        except KeyError as exc:
            raise SlackError("channel_not_found") from exc
        if chan.is_private or chan.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if chan.is_archived:
            raise SlackError("is_archived")
        if self.bot_user_id not in chan.members:
            chan.members.append(self.bot_user_id)
        return {"channel": chan.to_api(self.bot_user_id, self.team_id)}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._visible_channel(args.get("channel"))
        return {"channel": chan.to_api(self.bot_user_id, self.team_id)}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._visible_channel(args.get("channel"))
        limit = int(args.get("limit") or 100)
        start = 0
        if args.get("cursor"):
            try:
                after = base64.b64decode(str(args["cursor"])).decode().removeprefix("user:")
                start = chan.members.index(after)
            except ValueError as exc:
                raise SlackError("invalid_cursor") from exc
        page = chan.members[start : start + limit]
        rest = chan.members[start + limit : start + limit + 1]
        cursor = base64.b64encode(f"user:{rest[0]}".encode()).decode() if rest else ""
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _readable_channel(self, args: dict[str, Any]) -> Channel:
        chan = self._visible_channel(args.get("channel"))
        if self.bot_user_id not in chan.members:
            raise SlackError("not_in_channel")
        return chan

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages, newest first, within latest/oldest (inclusive when asked)."""
        chan = self._readable_channel(args)
        latest, oldest = float(args.get("latest") or "inf"), float(args.get("oldest") or 0)
        inclusive = _truthy(args.get("inclusive"))
        limit = min(int(args.get("limit") or 100), 999)
        found = [
            m
            for m in self.messages(chan.id)
            if (oldest < float(m.ts) < latest) or (inclusive and float(m.ts) in (oldest, latest))
        ]
        found.sort(key=lambda m: float(m.ts), reverse=True)
        page = found[:limit]
        return {"messages": [m.to_api() for m in page], "has_more": len(found) > limit}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """The thread a message belongs to (its parent first), oldest first."""
        chan = self._readable_channel(args)
        msg = self._messages[chan.id].get(str(args.get("ts") or ""))
        if msg is None or msg.deleted:
            raise SlackError("thread_not_found")
        root = self._messages[chan.id].get(msg.thread_ts or msg.ts, msg)
        thread = [root, *(self._messages[chan.id][ts] for ts in root.replies)]
        limit = min(int(args.get("limit") or 1000), 1000)
        page = [m.to_api() for m in thread if not m.deleted][:limit]
        return {"messages": page, "has_more": len(thread) > limit}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        with_email = "users:read.email" in self.scopes
        return {
            "user": user.to_api(
                with_email=with_email, with_locale=_truthy(args.get("include_locale"))
            )
        }

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email and not user.deleted:
                return {"user": user.to_api(with_email=True, with_locale=False)}
        raise SlackError("users_not_found")

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args.get("usergroup", "")))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group)}

    # ------------------------------------------------------------------ views
    def _view_arg(self, args: dict[str, Any], kind: str) -> dict[str, Any]:
        view = _parse_json_arg(args, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
        errors = view_errors(view, kind)
        if errors:
            raise SlackError("invalid_arguments", messages=errors)
        return view

    def _use_trigger(self, args: dict[str, Any]) -> str | None:
        trigger = str(args.get("trigger_id") or "")
        if trigger not in self._triggers:
            raise SlackError("invalid_trigger_id")
        issued, user = self._triggers[trigger]
        if issued == float("-inf"):
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        self._triggers[trigger] = (float("-inf"), user)  # a trigger_id opens one view only
        return user

    def _new_view(self, payload: dict[str, Any], user: str, previous: View | None) -> View:
        view_id = self._new_id("V")
        root = previous.root_view_id if previous else view_id
        view = View(
            view_id, user, payload, self._view_hash(), root, previous.id if previous else None
        )
        self.views[view_id] = view
        return view

    def _view_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def _view_answer(self, view: View) -> dict[str, Any]:
        return {"view": view.to_api(self.team_id, self.app_id, self.bot_id)}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = self._view_arg(args, "modal")
        user = self._use_trigger(args)
        return self._view_answer(self._new_view(payload, user or "", None))

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = self._view_arg(args, "modal")
        user = self._use_trigger(args)
        open_modals = [v for v in self.views.values() if v.user_id == (user or "") and not v.closed]
        previous = open_modals[-1] if open_modals else None
        depth = sum(1 for v in open_modals if previous and v.root_view_id == previous.root_view_id)
        if depth >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        return self._view_answer(self._new_view(payload, user or "", previous))

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = self._view_arg(args, "modal")
        view = self.views.get(str(args.get("view_id", "")))
        if view is None and args.get("external_id"):
            matches = [
                v
                for v in self.views.values()
                if v.payload.get("external_id") == args["external_id"]
            ]
            view = matches[-1] if matches else None
        if view is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != view.hash:
            raise SlackError("hash_conflict")
        view.payload, view.hash = payload, self._view_hash()
        view.updates += 1
        return self._view_answer(view)

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = self._view_arg(args, "home")
        user = str(args.get("user_id", ""))
        if user not in self.users:
            raise SlackError("user_not_found")
        current = self.home_views.get(user)
        if current is not None and args.get("hash") and args["hash"] != current.hash:
            raise SlackError("hash_conflict")
        if current is None:
            current = self._new_view(payload, user, None)
        else:
            current.payload, current.hash = payload, self._view_hash()
            current.updates += 1
        self.home_views[user] = current
        return self._view_answer(current)

    # ------------------------------------------------------------------ files (upload v2)
    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        file = UploadedFile(self._new_id("F"), str(args["filename"]), int(args["length"]))
        self.files[file.id] = file
        return {"upload_url": f"{self.root_url}/upload/v1/{file.id}", "file_id": file.id}

    def _files_upload_retired(self, args: dict[str, Any]) -> dict[str, Any]:
        raise SlackError("method_deprecated")

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        items = _parse_json_arg(args, "files", "invalid_arguments")
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments")
        if not all(isinstance(item, dict) and item.get("id") for item in items):
            raise SlackError("invalid_arguments", messages=["[ERROR] files need an id"])
        files = []
        for item in items:
            file = self.files.get(str(item.get("id")))
            if file is None or file.content is None:
                raise SlackError("file_not_found")
            file.title = item.get("title") or file.filename
            files.append(file)
        targets = [c for c in str(args.get("channels") or args.get("channel_id") or "").split(",")]
        if args.get("thread_ts") and len([c for c in targets if c]) != 1:
            # A file is posted as a reply in exactly one channel's thread.
            raise SlackError("invalid_arguments", messages=["[ERROR] thread_ts needs one channel"])
        answer = [
            {"id": f.id, "name": f.filename, "title": f.title, "size": len(f.content or b"")}
            for f in files
        ]
        for ref in filter(None, targets):
            chan = self._postable_channel(ref)
            for f in files:
                f.shared_to.append(chan.id)
            msg = Message(
                chan.id,
                self._next_ts(),
                str(args.get("initial_comment") or ""),
                self.bot_user_id,
                bot_id=self.bot_id,
                files=answer,
            )
            self._store(msg, str(args["thread_ts"]) if args.get("thread_ts") else None)
        return {"files": answer}
