"""Faithful fake of Discord (REST API v10 + gateway) on loopback for tests with real discord.py.

One aiohttp server on 127.0.0.1 serves the REST API under ``/api/v10``, the gateway websocket
under ``/gateway`` (resume URL ``/gateway/resume``) and uploaded files under ``/attachments``.
``async with FakeDiscord() as dc`` starts it and points discord.py at it (``Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``). Limits and error bodies follow Discord's documentation;
where Discord's real value would make a test suite slow it is an attribute you can change.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

MiB = 1024 * 1024
DISCORD_EPOCH_MS = 1420070400000

# Gateway intents (discord.com/developers/docs/events/gateway#gateway-intents).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Channel types.
TEXT, DM, CATEGORY, ANNOUNCEMENT, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 1, 4, 5, 11, 12, 15
THREAD_TYPES = (10, 11, 12)

# Message flags.
EPHEMERAL, LOADING, COMPONENTS_V2 = 1 << 6, 1 << 7, 1 << 15


def perm(*names: str) -> int:
    """Permission bits by discord.py flag name, e.g. ``perm("send_messages")``."""
    return discord.Permissions(**dict.fromkeys(names, True)).value


ALL_PERMISSIONS = discord.Permissions.all().value
EVERYONE_DEFAULT_PERMISSIONS = 1071698660929  # what Discord gives @everyone in a new server
BOT_ROLE_PERMISSIONS = discord.Permissions.text().value | perm("view_channel")


def iso(ts: float | None = None) -> str:
    """ISO-8601 UTC timestamp as Discord writes it."""
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).isoformat()


def field_error(code: str, message: str) -> dict[str, Any]:
    """One entry of Discord's nested ``errors`` object (what discord.py flattens into text)."""
    return {"_errors": [{"code": code, "message": message}]}


class ApiError(Exception):
    """An error answer in Discord's JSON shape: ``{"code": ..., "message": ..., "errors": ...}``."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        return out


def invalid_form(errors: dict[str, Any]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # discord.py only parses a body as JSON when Content-Type is *exactly* application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


# --------------------------------------------------------------------------- model


@dataclass(eq=False)
class FakeUser:
    """A Discord user (human or bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_open: bool = True  # False: the bot gets 50007 when it DMs this user

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            out["bot"] = True
        return out


@dataclass(eq=False)
class FakeRole:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeMember:
    """A user's membership of a guild."""

    user: FakeUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: float = field(default_factory=time.time)

    def payload(self, with_user: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": iso(self.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            out["user"] = self.user.payload()
        return out


@dataclass(eq=False)
class FakeGuild:
    """A server. Channels live in ``FakeDiscord.channels`` (``dc.guild_channels(id)``)."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]


@dataclass(eq=False)
class FakeMessage:
    """A message as stored by the fake; ``edits``/``history`` show in-place edits."""

    id: int
    channel_id: int
    author: FakeUser
    content: str = ""
    guild_id: int | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None  # exactly what the client sent (None: absent)
    type: int = 0
    tts: bool = False
    created: float = field(default_factory=time.time)
    edited: float | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)  # earlier contents, oldest first
    deleted: bool = False
    reactions: dict[str, list[int]] = field(default_factory=dict)  # emoji -> user ids
    webhook_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None
    mentioned_users: list[FakeUser] = field(default_factory=list)  # users actually pinged
    mentioned_roles: list[int] = field(default_factory=list)  # roles actually pinged
    mention_everyone: bool = False  # @everyone/@here actually pinged

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def pinged(self) -> bool:
        """True when this message notified anyone through a mention."""
        return bool(self.mentioned_users or self.mentioned_roles or self.mention_everyone)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created),
            "edited_timestamp": iso(self.edited) if self.edited else None,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [u.payload() for u in self.mentioned_users],
            "mention_roles": [str(r) for r in self.mentioned_roles],
            "attachments": [
                {k: v for k, v in a.items() if not k.startswith("_")} for a in self.attachments
            ],
            "embeds": self.embeds,
            "components": self.components,
            "reactions": [
                {"emoji": _emoji_payload(e), "count": len(u), "me": False, "burst_count": 0}
                for e, u in self.reactions.items()
                if u
            ],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.webhook_id:
            out["webhook_id"] = str(self.webhook_id)
            out["application_id"] = str(self.webhook_id)
        if self.interaction_metadata:
            out["interaction_metadata"] = self.interaction_metadata
        if self.reference:
            out["message_reference"] = self.reference
        return out


def _emoji_payload(emoji: str) -> dict[str, Any]:
    name, _, eid = emoji.partition(":")
    return {"id": eid or None, "name": name}


@dataclass(eq=False)
class FakeChannel:
    """Text channel, category, thread (public 11 / private 12) or DM (type 1)."""

    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 10080
    archive_ts: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)
    thread_members: dict[int, float] = field(default_factory=dict)  # user id -> joined at
    recipients: list[FakeUser] = field(default_factory=list)
    messages: list[FakeMessage] = field(default_factory=list)
    deny: int = 0  # permission bits denied to the bot here (an overwrite for the bot member)
    renames: list[float] = field(default_factory=list)  # monotonic times of accepted renames
    names: list[str] = field(default_factory=list)  # every name it had, oldest first
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self, bot_id: int) -> dict[str, Any]:
        last = next((m.id for m in reversed(self.messages) if not m.deleted), None)
        out: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "flags": 0,
            "last_message_id": str(last) if last else None,
        }
        if self.type == DM:
            out["recipients"] = [u.payload() for u in self.recipients]
            return out
        out.update({"guild_id": str(self.guild_id), "name": self.name, "position": self.position})
        out["parent_id"] = str(self.parent_id) if self.parent_id else None
        if self.is_thread:
            out.update(
                {
                    "owner_id": str(self.owner_id),
                    "message_count": sum(not m.deleted for m in self.messages),
                    "total_message_sent": len(self.messages),
                    "member_count": min(len(self.thread_members), 50),
                    "rate_limit_per_user": 0,
                    "thread_metadata": {
                        "archived": self.archived,
                        "locked": self.locked,
                        "invitable": self.invitable,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": iso(self.archive_ts),
                        "create_timestamp": iso(self.created),
                    },
                }
            )
            if bot_id in self.thread_members:
                out["member"] = thread_member_payload(self.id, bot_id, self.thread_members[bot_id])
            return out
        out["permission_overwrites"] = (
            [{"id": str(bot_id), "type": 1, "allow": "0", "deny": str(self.deny)}]
            if self.deny
            else []
        )
        out["nsfw"] = False
        if self.type != CATEGORY:
            out.update({"topic": self.topic, "rate_limit_per_user": 0})
        return out


def thread_member_payload(thread_id: int, user_id: int, joined: float) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "user_id": str(user_id),
        "join_timestamp": iso(joined),
        "flags": 0,
    }


# --------------------------------------------------------------------------- records


@dataclass
class Upload:
    """One file part of a multipart request."""

    field: str
    filename: str
    data: bytes


@dataclass
class RequestRecord:
    """One REST request the fake received and what it answered."""

    method: str
    path: str
    route: str | None  # e.g. "POST /channels/{channel_id}/messages"
    query: dict[str, str]
    json: Any
    uploads: list[Upload]
    at: float
    status: int = 0
    response: Any = None


@dataclass
class FailureRule:
    """An injected failure (see ``FakeDiscord.fail_next``)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    is_global: bool = False
    hits: int = 0


@dataclass
class _Bucket:
    limit: int
    per: float
    hash: str
    used: int = 0
    reset_at: float = 0.0


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``guild_id`` None: global)."""

    guild_id: int | None
    names: list[str]
    at: float
    status: int


@dataclass
class InteractionReply:
    """The first callback the bot made for an interaction."""

    type: int  # 4 message, 5 deferred message, 6 deferred update, 7 update, 8 choices, 9 modal
    data: dict[str, Any] | None
    at: float  # time.monotonic() when it arrived
    elapsed: float  # seconds after the fake dispatched INTERACTION_CREATE

    @property
    def deferred(self) -> bool:
        return self.type in (5, 6)


class InteractionHandle:
    """What the ``interaction_*`` injectors return: await the bot's answer to one interaction."""

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any]) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]  # 2 command, 3 component, 4 autocomplete, 5 modal
        self.channel_id = int(payload["channel_id"])
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.sent_at = time.monotonic()
        self.reply: InteractionReply | None = None
        self.rejected: list[tuple[float, int]] = []  # (elapsed, error code) of refused callbacks
        self.original: FakeMessage | None = None  # message made or updated by the response
        self.followups: list[FakeMessage] = []
        self._answered = asyncio.Event()

    async def response(self, within: float = 5.0) -> InteractionReply:
        """Wait for the bot's first interaction callback (fails after ``within`` seconds)."""
        await asyncio.wait_for(self._answered.wait(), within)
        assert self.reply is not None
        return self.reply

    async def followup(self, n: int = 1, within: float = 5.0) -> FakeMessage:
        """Wait until at least ``n`` follow-up messages exist; return the n-th."""
        await self._fake.wait_until(lambda: len(self.followups) >= n, within)
        return self.followups[n - 1]

    async def original_message(
        self, predicate: Callable[[FakeMessage], bool] | None = None, within: float = 5.0
    ) -> FakeMessage:
        """Wait for the response message (optionally until ``predicate`` holds, e.g. edited)."""

        def ok() -> bool:
            return self.original is not None and (predicate is None or predicate(self.original))

        await self._fake.wait_until(ok, within)
        assert self.original is not None
        return self.original


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int
    frames: list[dict[str, Any]] = field(default_factory=list)  # every dispatch; s = index + 1
    cursor: int = 0  # frames written to the current socket
    ws: web.WebSocketResponse | None = None
    valid: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)


# Discord's per-route limits that matter for a help desk bot; every other route uses
# FakeDiscord.default_route_limit. Values: (requests, per seconds).
DEFAULT_ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "POST /channels/{channel_id}/messages": (5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": (5, 5.0),
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}": (1, 0.25),
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}": (1, 0.25),
}

RATE_LIMITED = "You are being rate limited."
NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


class RateLimitError(Exception):
    """Raised by a handler to answer 429 (e.g. the channel rename limit)."""

    def __init__(
        self,
        retry_after: float,
        scope: str = "user",
        code: int | None = None,
        message: str = "You are being rate limited.",
    ) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after, self.scope, self.code, self.message = retry_after, scope, code, message


def _put(errors: dict[str, Any], path: list[Any], err: dict[str, Any]) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(str(key), {})
    node[str(path[-1])] = err


def _too_long(limit: int) -> dict[str, Any]:
    return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _bad_length(lo: int, hi: int) -> dict[str, Any]:
    return field_error("BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")


def validate_message(body: dict[str, Any], *, uploads: int = 0, partial: bool = False) -> None:
    """Discord's limits on a message create/edit body; raises ApiError like Discord does."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > 2000:
        errors["content"] = _too_long(2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = _too_long(10)
    else:
        total = 0
        for i, embed in enumerate(embeds):
            parts = [
                ("title", embed.get("title"), 256),
                ("description", embed.get("description"), 4096),
                ("footer", (embed.get("footer") or {}).get("text"), 2048),
                ("author", (embed.get("author") or {}).get("name"), 256),
            ]
            for j, fld in enumerate(embed.get("fields") or []):
                parts.append((f"fields.{j}.name", fld.get("name"), 256))
                parts.append((f"fields.{j}.value", fld.get("value"), 1024))
            for key, text, limit in parts:
                total += len(text or "")
                if len(text or "") > limit:
                    _put(errors, ["embeds", i, *key.split(".")], _too_long(limit))
            if len(embed.get("fields") or []) > 25:
                _put(errors, ["embeds", i, "fields"], _too_long(25))
        if total > 6000 and "embeds" not in errors:
            errors["embeds"] = field_error(
                "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
    _component_errors(body.get("components") or [], body.get("flags") or 0, errors)
    mentions = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (mentions.get("parse") or []) and mentions.get(kind):
            _put(
                errors,
                ["allowed_mentions", kind],
                field_error(
                    "SET_TYPE_ALREADY_CONTAINS_VALUE", f"Mutually exclusive with parse:{kind}"
                ),
            )
    if uploads > 10:
        errors["files"] = _too_long(10)
    if errors:
        raise invalid_form(errors)
    if not partial and not (
        content or embeds or uploads or body.get("components") or body.get("sticker_ids")
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _component_errors(rows: list[dict[str, Any]], flags: int, errors: dict[str, Any]) -> None:
    if flags & COMPONENTS_V2:
        return  # layout components: Discord allows 40 nested components; not modelled
    if len(rows) > 5:
        errors["components"] = _too_long(5)
        return
    seen: set[str] = set()
    for i, row in enumerate(rows):
        children = row.get("components") or []
        if len(children) > 5:
            _put(errors, ["components", i, "components"], _too_long(5))
        for j, comp in enumerate(children):
            where = ["components", i, "components", j]
            custom_id = comp.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= 100:
                    _put(errors, [*where, "custom_id"], _bad_length(1, 100))
                elif custom_id in seen:
                    _put(
                        errors,
                        [*where, "custom_id"],
                        field_error(
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                        ),
                    )
                seen.add(custom_id)
            if len(comp.get("label") or "") > 80:
                _put(errors, [*where, "label"], _too_long(80))
            if len(comp.get("options") or []) > 25:
                _put(errors, [*where, "options"], _too_long(25))


def _command_chars(node: dict[str, Any]) -> int:
    total = len(node.get("name") or "") + len(node.get("description") or "")
    for choice in node.get("choices") or []:
        total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total + sum(_command_chars(o) for o in node.get("options") or [])


def _option_errors(options: list[dict[str, Any]], errors: dict[str, Any], path: list[Any]) -> None:
    if len(options) > 25:
        _put(errors, path, _too_long(25))
        return
    optional_seen = False
    for j, opt in enumerate(options):
        where = [*path, j]
        name = opt.get("name") or ""
        if not NAME_RE.fullmatch(name) or name != name.lower():
            _put(
                errors,
                [*where, "name"],
                field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"),
            )
        if not 1 <= len(opt.get("description") or "") <= 100:
            _put(errors, [*where, "description"], _bad_length(1, 100))
        choices = opt.get("choices") or []
        if len(choices) > 25:
            _put(errors, [*where, "choices"], _too_long(25))
        for k, choice in enumerate(choices):
            if not 1 <= len(str(choice.get("name") or "")) <= 100:
                _put(errors, [*where, "choices", k, "name"], _bad_length(1, 100))
        if opt.get("type") in (1, 2):
            _option_errors(opt.get("options") or [], errors, [*where, "options"])
        elif opt.get("required"):
            if optional_seen:
                _put(
                    errors,
                    [*where, "required"],
                    field_error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    ),
                )
        else:
            optional_seen = True


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """Discord's checks on a bulk overwrite of application commands."""
    if sum(c.get("type", 1) == 1 for c in commands) > 100:
        raise ApiError(400, 30032, "Maximum number of application commands reached (100)")
    errors: dict[str, Any] = {}
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        ctype, name = cmd.get("type", 1), cmd.get("name") or ""
        if ctype == 1:
            if not NAME_RE.fullmatch(name) or name != name.lower():
                _put(
                    errors,
                    [i, "name"],
                    field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"),
                )
            if not 1 <= len(cmd.get("description") or "") <= 100:
                _put(errors, [i, "description"], _bad_length(1, 100))
            _option_errors(cmd.get("options") or [], errors, [i, "options"])
        else:
            if not 1 <= len(name) <= 32:
                _put(errors, [i, "name"], _bad_length(1, 32))
            if cmd.get("description"):
                _put(
                    errors,
                    [i, "description"],
                    field_error(
                        "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID",
                        "Context menu commands cannot have description",
                    ),
                )
        if (ctype, name) in seen:
            _put(
                errors,
                [i, "name"],
                field_error(
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                ),
            )
        seen.add((ctype, name))
        if _command_chars(cmd) > 4000:
            _put(
                errors,
                [i, "_"],
                field_error("APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (4000)"),
            )
    if errors:
        raise invalid_form(errors)


def _glob(pattern: str) -> re.Pattern[str]:
    """'/channels/*/messages' or '/channels/{channel_id}/messages'; '**' spans slashes."""
    pattern = re.sub(r"\{\w+\}", "*", pattern)
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile(
        "".join(".*" if p == "**" else "[^/]+" if p == "*" else re.escape(p) for p in parts)
    )


@dataclass
class _Call:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    uploads: list[Upload]


class FakeDiscord:
    """Fake Discord: state, REST API, gateway and injectors for what users do.

    ``async with FakeDiscord() as dc`` starts the server and patches discord.py to use it
    (``install=False`` to patch yourself with ``dc.install()`` / ``dc.patched()``). With
    ``populate=True`` (default) there is ``dc.guild`` ("Help Desk"), ``dc.channel`` (#support)
    and ``dc.alice`` (a member); ``dc.bot`` is the bot user, ``dc.app_id`` its application.
    """

    def __init__(
        self,
        *,
        token: str = "fake.bot.token",
        bot_name: str = "deskbot",
        populate: bool = True,
        install: bool = True,
        upload_limit: int = 10 * MiB,
    ) -> None:
        self.token = token
        self._install_on_enter = install
        self._seq = 0
        self._last_ms = 0
        self.app_id = self.snowflake()
        self.bot = FakeUser(self.app_id, bot_name, bot=True)
        self.owner = FakeUser(self.snowflake(), "appowner")
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, FakeMessage] = {}
        self._cdn: dict[int, bytes] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global)
        self.command_syncs: list[CommandSync] = []
        self._command_creates: dict[int | None, list[float]] = {}
        self.requests: list[RequestRecord] = []
        self.interactions: dict[int, InteractionHandle] = {}
        # ---- knobs (Discord's real values unless noted)
        self.portal_intents = PRIVILEGED_INTENTS  # privileged intents enabled in the portal
        self.upload_limit = upload_limit  # bytes per request; over it -> 413 / 40005
        self.global_limit = 50  # requests per second per bot (interaction endpoints exempt)
        self.route_limits = dict(DEFAULT_ROUTE_LIMITS)
        self.default_route_limit: tuple[int, float] = (50, 1.0)  # not a Discord value
        self.rename_limit: tuple[int, float] = (2, 600.0)  # renames per channel per seconds
        self.interaction_response_window = 3.0  # seconds to make the first callback
        self.interaction_token_ttl = 900.0  # seconds follow-ups stay possible
        self.max_active_threads = 1000
        self.max_channels = 500
        self.max_category_channels = 50
        self.daily_command_creates = 200
        self.invalid_request_ban = 10_000  # 401/403/429 answers per 10 minutes
        self.strict = True  # injected commands must be registered, modals must have been shown
        self.recommended_shards = 1
        self.max_concurrency = 1  # IDENTIFYs per 5 s (per bucket shard_id % max_concurrency)
        self.heartbeat_interval_ms = 41250
        self.ack_heartbeats = True
        self.echo_events = True  # also send the bot's own actions back over the gateway
        # ---- gateway state
        self.sessions: dict[str, _Session] = {}
        self.identifies: list[dict[str, Any]] = []
        self.identified_at: list[float] = []  # time.monotonic() of each IDENTIFY
        self.resumes: list[dict[str, Any]] = []
        self.refused_resumes = 0
        self.connections: list[str] = []  # path of every gateway connection
        self.heartbeats = 0
        self.presence_updates: list[dict[str, Any]] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._global_window: deque[float] = deque()
        self._invalid: deque[float] = deque()
        self._failures: list[FailureRule] = []
        self._changed = asyncio.Event()
        self._saved: tuple[str, yarl.URL] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        if populate:
            self.guild = self.add_guild("Help Desk")
            self.channel = self.add_text_channel(self.guild.id, "support")
            self.alice = self.add_user("alice", global_name="Alice")
            self.add_member(self.guild.id, self.alice)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        if self._install_on_enter:
            self.install()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.uninstall()
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=max(4 * self.upload_limit, 64 * MiB))
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/resume", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn_get)
        app.router.add_route("*", r"/api/v{version:\d+}/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._gateway_open.set()
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.http_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/resume"

    def install(self) -> None:
        """Point discord.py (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) at this fake."""
        if self._saved is None:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def uninstall(self) -> None:
        """Restore what ``install`` replaced."""
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    @contextlib.contextmanager
    def patched(self) -> Iterator[FakeDiscord]:
        """``with dc.patched():`` install for the block only."""
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    # ------------------------------------------------------------------ state helpers

    def snowflake(self) -> int:
        """A new id with a real timestamp (discord.py derives created_at from it)."""
        self._seq += 1
        self._last_ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms)
        return (self._last_ms << 22) | (self._seq & 0x3FFFFF)

    @property
    def require_message_content_consent(self) -> bool:
        """False: MESSAGE_CONTENT is not enabled in the portal -> IDENTIFY with it gets 4014."""
        return bool(self.portal_intents & MESSAGE_CONTENT)

    @require_message_content_consent.setter
    def require_message_content_consent(self, granted: bool) -> None:
        if granted:
            self.portal_intents |= MESSAGE_CONTENT
        else:
            self.portal_intents &= ~MESSAGE_CONTENT

    def add_user(
        self, username: str, *, global_name: str | None = None, bot: bool = False
    ) -> FakeUser:
        user = FakeUser(self.snowflake(), username, global_name, bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Help Desk",
        *,
        owner: FakeUser | None = None,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A server with the bot in it; ``shard=(shard_id, shards)`` picks an id whose events
        go to that shard (``(guild_id >> 22) % shards``, as Discord routes them)."""
        owner = owner or self.add_user(f"{name.lower().replace(' ', '')}-owner")
        gid = self.snowflake()
        if shard is not None and (gid >> 22) % shard[1] != shard[0]:
            shard_id, shards = shard
            self._last_ms += (shard_id - self._last_ms) % shards  # a few milliseconds ahead
            gid = (self._last_ms << 22) | (self._seq & 0x3FFFFF)
        guild = FakeGuild(gid, name, owner.id)
        guild.roles[gid] = FakeRole(gid, "@everyone", EVERYONE_DEFAULT_PERMISSIONS)
        bot_role = FakeRole(
            self.snowflake(), self.bot.username, BOT_ROLE_PERMISSIONS, 1, managed=True
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot.id] = FakeMember(self.bot, gid, [bot_role.id])
        guild.members[owner.id] = FakeMember(owner, gid)
        self.guilds[gid] = guild
        for session in self._live_sessions(gid):
            self._push(session, "GUILD_CREATE", self._guild_payload(guild, session, full=True))
        return guild

    def bot_role(self, guild_id: int) -> FakeRole:
        """The managed role Discord gives the bot in a guild (edit its ``permissions``)."""
        guild = self.guilds[guild_id]
        return next(r for r in guild.roles.values() if r.managed)

    def add_role(
        self, guild_id: int, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> FakeRole:
        guild = self.guilds[guild_id]
        role = FakeRole(self.snowflake(), name, permissions, len(guild.roles), mentionable)
        guild.roles[role.id] = role
        self.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild_id), "role": role.payload()},
            guild_id=guild_id,
        )
        return role

    def add_member(
        self, guild_id: int, user: FakeUser, *, roles: tuple[int, ...] = ()
    ) -> FakeMember:
        member = FakeMember(user, guild_id, list(roles))
        self.guilds[guild_id].members[user.id] = member
        self.dispatch(
            "GUILD_MEMBER_ADD",
            {**member.payload(), "guild_id": str(guild_id)},
            guild_id=guild_id,
            intent=GUILD_MEMBERS,
        )
        return member

    def _new_channel(self, channel: FakeChannel) -> FakeChannel:
        channel.names.append(channel.name)
        self.channels[channel.id] = channel
        if channel.guild_id is not None and self._bot_can_see(channel):
            event = "THREAD_CREATE" if channel.is_thread else "CHANNEL_CREATE"
            self.dispatch(event, self._channel_event(channel), guild_id=channel.guild_id)
        self._notify()
        return channel

    def add_text_channel(
        self, guild_id: int, name: str, *, parent_id: int | None = None, topic: str | None = None
    ) -> FakeChannel:
        position = len(self.guild_channels(guild_id))
        return self._new_channel(
            FakeChannel(self.snowflake(), TEXT, name, guild_id, parent_id, position, topic)
        )

    def add_category(self, guild_id: int, name: str) -> FakeChannel:
        position = len(self.guild_channels(guild_id))
        return self._new_channel(
            FakeChannel(self.snowflake(), CATEGORY, name, guild_id, None, position)
        )

    def add_thread(
        self,
        parent_id: int,
        name: str,
        *,
        private: bool = True,
        owner: FakeUser | None = None,
        members: tuple[FakeUser, ...] = (),
        invitable: bool = True,
    ) -> FakeChannel:
        """A thread someone else created (the bot joins it only if listed in ``members``)."""
        parent = self.channels[parent_id]
        owner = owner or self.alice
        thread = FakeChannel(
            self.snowflake(),
            PRIVATE_THREAD if private else PUBLIC_THREAD,
            name,
            parent.guild_id,
            parent.id,
            owner_id=owner.id,
            invitable=invitable,
        )
        thread.thread_members = {u.id: time.time() for u in (owner, *members)}
        return self._new_channel(thread)

    def add_dm(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created once)."""
        for ch in self.channels.values():
            if ch.type == DM and ch.recipients and ch.recipients[0].id == user.id:
                return ch
        channel = FakeChannel(self.snowflake(), DM, recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def deny(self, channel_id: int, *names: str) -> None:
        """Deny the bot permissions (discord.py names) in a channel, e.g. "send_messages"."""
        channel = self.channels[channel_id]
        channel.deny |= perm(*names)
        self.dispatch("CHANNEL_UPDATE", self._channel_event(channel), guild_id=channel.guild_id)

    def guild_channels(self, guild_id: int) -> list[FakeChannel]:
        return [
            c
            for c in self.channels.values()
            if c.guild_id == guild_id and not c.is_thread and not c.deleted
        ]

    def threads(self, parent_id: int | None = None) -> list[FakeChannel]:
        return [
            c
            for c in self.channels.values()
            if c.is_thread and not c.deleted and parent_id in (None, c.parent_id)
        ]

    def messages(self, channel_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """Messages in a channel, oldest first (ephemeral interaction messages included)."""
        return [m for m in self.channels[channel_id].messages if include_deleted or not m.deleted]

    def bot_messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages(channel_id) if m.author.id == self.bot.id]

    def message(self, message_id: int) -> FakeMessage:
        return self._messages[message_id]

    def calls(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        """Recorded REST requests filtered by method, path glob (see fail_next) and status."""
        rx = _glob(path) if path else None
        return [
            r
            for r in self.requests
            if method in (None, r.method)
            and (rx is None or rx.fullmatch(r.path))
            and status in (None, r.status)
        ]

    @property
    def invalid_requests(self) -> int:
        """401/403/429 answers in the last 10 minutes (Discord bans IPs over 10,000)."""
        now = time.monotonic()
        while self._invalid and now - self._invalid[0] > 600:
            self._invalid.popleft()
        return len(self._invalid)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` is true (re-checked on every state change)."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {within}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[FakeMessage], bool] | None = None,
        *,
        author_id: int | None = None,
        after_id: int = 0,
        within: float = 5.0,
    ) -> FakeMessage:
        """First live message in the channel by ``author_id`` (default: the bot) after an id."""
        author_id = author_id or self.bot.id

        def find() -> FakeMessage | None:
            for m in self.messages(channel_id):
                if m.id > after_id and m.author.id == author_id and (not predicate or predicate(m)):
                    return m
            return None

        await self.wait_until(lambda: find() is not None, within)
        found = find()
        assert found is not None
        return found

    # ------------------------------------------------------------------ permissions

    def permissions(self, user_id: int, channel: FakeChannel) -> int:
        """Effective permission bits of a user in a channel (roles, admin, bot overwrites)."""
        if channel.guild_id is None:
            return ALL_PERMISSIONS
        guild = self.guilds[channel.guild_id]
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        bits = guild.everyone.permissions
        for role_id in member.roles:
            if role_id in guild.roles:
                bits |= guild.roles[role_id].permissions
        if bits & perm("administrator"):
            return ALL_PERMISSIONS
        base = self.channels.get(channel.parent_id or 0) if channel.is_thread else channel
        if user_id == self.bot.id and base is not None:
            bits &= ~base.deny
        return bits

    def _bot_can_see(self, channel: FakeChannel) -> bool:
        if channel.type == DM:
            return True
        bits = self.permissions(self.bot.id, channel)
        if not bits & perm("view_channel"):
            return False
        if channel.type == PRIVATE_THREAD:
            return self.bot.id in channel.thread_members or bool(bits & perm("manage_threads"))
        return True

    def _require(self, channel: FakeChannel, bits: int) -> None:
        if self.permissions(self.bot.id, channel) & bits != bits:
            raise ApiError(403, 50013, "Missing Permissions")

    # ------------------------------------------------------------------ REST machinery

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int = 429,
        *,
        times: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> FailureRule:
        """Answer the next ``times`` matching requests with ``status`` (429 carries ``Via``).

        ``method`` may be "*"; ``path_pattern`` is a glob on the path after /api/v10
        ("/channels/*/messages", "{channel_id}" works like "*", "**" spans slashes).
        """
        rule = FailureRule(
            method.upper(), _glob(path_pattern), status, times, retry_after, is_global
        )
        self._failures.append(rule)
        return rule

    def _routes(self) -> list[tuple[str, str, Callable[[_Call], Any]]]:
        c, m, wh = (
            "/channels/{channel_id}",
            "/channels/{channel_id}/messages/{message_id}",
            ("/webhooks/{application_id}/{token}"),
        )
        return [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_app),
            ("GET", "/applications/@me", self._get_app),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._get_commands,
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
            ),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("POST", "/guilds/{guild_id}/channels", self._create_guild_channel),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("GET", "/guilds/{guild_id}/members", self._list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("GET", "/guilds/{guild_id}/threads/active", self._active_threads),
            ("GET", c, self._get_channel),
            ("PATCH", c, self._modify_channel),
            ("DELETE", c, self._delete_channel),
            ("POST", c + "/typing", self._typing),
            ("GET", c + "/messages", self._history),
            ("POST", c + "/messages", self._create_message),
            ("GET", m, self._get_message),
            ("PATCH", m, self._edit_message),
            ("DELETE", m, self._delete_message),
            ("PUT", m + "/reactions/{emoji}/{user_id}", self._add_reaction),
            ("DELETE", m + "/reactions/{emoji}/{user_id}", self._remove_reaction),
            ("DELETE", m + "/reactions", self._clear_reactions),
            ("POST", m + "/threads", self._thread_from_message),
            ("POST", c + "/threads", self._start_thread),
            ("GET", c + "/thread-members", self._list_thread_members),
            ("GET", c + "/thread-members/{user_id}", self._get_thread_member),
            ("PUT", c + "/thread-members/{user_id}", self._add_thread_member),
            ("DELETE", c + "/thread-members/{user_id}", self._remove_thread_member),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", wh, self._followup),
            ("GET", wh + "/messages/{message_id}", self._get_webhook_message),
            ("PATCH", wh + "/messages/{message_id}", self._edit_webhook_message),
            ("DELETE", wh + "/messages/{message_id}", self._delete_webhook_message),
        ]

    def _match(
        self, method: str, path: str
    ) -> tuple[str | None, Callable[[_Call], Any] | None, dict[str, str]]:
        if not hasattr(self, "_compiled"):
            self._compiled = [
                (meth, tpl, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", tpl)), fn)
                for meth, tpl, fn in self._routes()
            ]
        for meth, tpl, rx, fn in self._compiled:
            found = rx.fullmatch(path)
            if found and meth == method:
                return f"{meth} {tpl}", fn, found.groupdict()
        return None, None, {}

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Upload]]:
        uploads: list[Upload] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename is not None:
                    data = bytes(await part.read(decode=False))
                    uploads.append(Upload(part.name or "", part.filename, data))
            return body, uploads
        raw = await request.read() if request.body_exists else b""
        return (json.loads(raw) if raw else None), uploads

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        route, handler, params = self._match(request.method, path)
        record = RequestRecord(
            request.method, path, route, dict(request.query), None, [], time.monotonic()
        )
        self.requests.append(record)
        try:
            record.json, record.uploads = await self._read_body(request)
        except ValueError:
            response = json_response(
                {"message": "The request body contains invalid JSON.", "code": 50109}, 400
            )
        else:
            response = await self._answer(request, record, route, handler, params)
        record.status = response.status
        if isinstance(response, web.Response) and response.body:
            with contextlib.suppress(ValueError, TypeError):
                record.response = json.loads(response.body)  # type: ignore[arg-type]
        if response.status in (401, 403, 429):
            self._invalid.append(time.monotonic())
        self._notify()
        return response

    async def _answer(
        self,
        request: web.Request,
        record: RequestRecord,
        route: str | None,
        handler: Callable[[_Call], Any] | None,
        params: dict[str, str],
    ) -> web.Response:
        token_route = record.path.startswith(("/interactions/", "/webhooks/"))
        if self.invalid_requests > self.invalid_request_ban:
            # A Cloudflare ban: HTML and no Via header (discord.py raises instead of retrying).
            return web.Response(status=429, text="error code: 1015", content_type="text/html")
        if not token_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        rule = next(
            (
                r
                for r in self._failures
                if r.hits < r.times
                and r.method in ("*", record.method)
                and r.pattern.fullmatch(record.path)
            ),
            None,
        )
        if rule is not None:
            rule.hits += 1
            return self._failure(rule)
        if not token_route:
            now = time.monotonic()
            while self._global_window and now - self._global_window[0] >= 1.0:
                self._global_window.popleft()
            if len(self._global_window) >= self.global_limit:
                retry = 1.0 - (now - self._global_window[0])
                return self._too_many(retry, None, is_global=True, scope="global")
            self._global_window.append(now)
        if handler is None or route is None:
            return json_response({"message": "404: Not Found", "code": 0}, 404)
        if sum(len(u.data) for u in record.uploads) > self.upload_limit:
            return json_response({"message": "Request entity too large", "code": 40005}, 413)
        bucket = self._bucket(route, params)
        if bucket.used >= bucket.limit:
            return self._too_many(bucket.reset_at - time.monotonic(), bucket)
        bucket.used += 1
        call = _Call(record.method, record.path, params, record.query, record.json, record.uploads)
        try:
            result = await handler(call)
        except ApiError as err:
            response = json_response(err.body(), err.status)
        except RateLimitError as err:
            return self._too_many(
                err.retry_after, bucket, scope=err.scope, code=err.code, message=err.message
            )
        else:
            response = web.Response(status=204) if result is None else json_response(result)
        response.headers.update(self._bucket_headers(bucket))
        return response

    def _bucket(self, route: str, params: dict[str, str]) -> _Bucket:
        major = (
            params.get("channel_id")
            or params.get("guild_id")
            or params.get("interaction_id", "") + params.get("token", "")
        )
        limit, per = self.route_limits.get(route, self.default_route_limit)
        bucket = self._buckets.get((route, major))
        if bucket is None:
            digest = hashlib.sha1(route.encode()).hexdigest()[:16]
            bucket = self._buckets[(route, major)] = _Bucket(limit, per, digest)
        now = time.monotonic()
        if now >= bucket.reset_at:
            bucket.used, bucket.reset_at, bucket.limit, bucket.per = 0, now + per, limit, per
        return bucket

    @staticmethod
    def _bucket_headers(bucket: _Bucket) -> dict[str, str]:
        reset_after = max(0.0, bucket.reset_at - time.monotonic())
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.limit - bucket.used)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket.hash,
        }

    def _too_many(
        self,
        retry_after: float,
        bucket: _Bucket | None,
        *,
        is_global: bool = False,
        scope: str = "user",
        code: int | None = None,
        message: str = RATE_LIMITED,
    ) -> web.Response:
        retry_after = max(retry_after, 0.001)
        body: dict[str, Any] = {
            "message": message,
            "retry_after": round(retry_after, 3),
            "global": is_global,
        }
        if code is not None:
            body["code"] = code
        headers = {
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",  # without it discord.py takes a 429 for a Cloudflare ban
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        if bucket is not None:
            headers.update(self._bucket_headers(bucket))
            headers["X-RateLimit-Remaining"] = "0"
        return json_response(body, 429, headers)

    def _failure(self, rule: FailureRule) -> web.Response:
        if rule.status == 429:
            scope = "global" if rule.is_global else "user"
            return self._too_many(rule.retry_after, None, is_global=rule.is_global, scope=scope)
        if rule.status in (502, 503, 504):
            # What Cloudflare puts in front of Discord answers: HTML, not JSON.
            return web.Response(
                status=rule.status,
                text=f"<html><body><h1>{rule.status} Bad Gateway</h1></body></html>",
                content_type="text/html",
            )
        return json_response(
            {"message": f"{rule.status}: Injected failure", "code": 0}, rule.status
        )

    async def _cdn_get(self, request: web.Request) -> web.Response:
        data = self._cdn.get(int(request.match_info["attachment_id"]))
        if data is None:
            return web.Response(status=404, text="Not Found")
        ctype = mimetypes.guess_type(request.match_info["filename"])[0]
        return web.Response(body=data, content_type=ctype or "application/octet-stream")

    # ------------------------------------------------------------------ gateway

    def _live_sessions(self, guild_id: int | None) -> list[_Session]:
        out = []
        for session in self.sessions.values():
            shard_id, shards = session.shard
            target = (guild_id >> 22) % shards if guild_id else 0
            if session.valid and target == shard_id:
                out.append(session)
        return out

    def _push(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.frames.append({"op": 0, "t": event, "s": len(session.frames) + 1, "d": data})
        session.wake.set()

    def dispatch(
        self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0
    ) -> int:
        """Queue a gateway dispatch for every session that would get it (shard, intents).

        Sessions whose socket is down keep it for RESUME. Returns how many sessions got it.
        """
        sessions = [s for s in self._live_sessions(guild_id) if not intent or s.intents & intent]
        for session in sessions:
            self._push(session, event, self._redact(event, data, session))
        return len(sessions)

    def _redact(self, event: str, data: dict[str, Any], session: _Session) -> dict[str, Any]:
        # Without MESSAGE_CONTENT, Discord blanks content except in DMs, mentions of the bot
        # and the bot's own messages.
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        author = (data.get("author") or {}).get("id")
        mentioned = any(u.get("id") == str(self.bot.id) for u in data.get("mentions") or [])
        if "guild_id" not in data or author == str(self.bot.id) or mentioned:
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def flush(self, within: float = 2.0) -> None:
        """Wait until every connected session has written all queued dispatches."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pending = [
                s
                for s in self.sessions.values()
                if s.valid and s.ws is not None and not s.ws.closed and s.cursor < len(s.frames)
            ]
            if not pending:
                return
            await asyncio.sleep(0.005)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway socket (4000 "unknown error": discord.py RESUMEs)."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=code, message=b"Unknown error")

    @contextlib.asynccontextmanager
    async def gateway_outage(self, code: int = 4000) -> Any:
        """Drop the gateway and hold reconnects (no HELLO) until the block ends.

        Dispatches queued inside the block are replayed when the client RESUMEs.
        """
        self._gateway_open.clear()
        try:
            await self.drop_gateway(code)
            yield self
        finally:
            self._gateway_open.set()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connected client."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.send_str(json.dumps({"op": 7, "d": None, "s": None, "t": None}))

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` sessions are forgotten."""
        if not resumable:
            for session in self.sessions.values():
                session.valid = False
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.send_str(json.dumps({"op": 9, "d": resumable, "s": None, "t": None}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.connections.append(request.path)
        self._sockets.add(ws)
        session: _Session | None = None
        pump: asyncio.Task[None] | None = None
        try:
            await self._gateway_open.wait()
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await ws.send_str(json.dumps({"op": 10, "d": hello, "s": None, "t": None}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    self.heartbeats += 1
                    if self.ack_heartbeats:
                        await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op in (2, 6) and session is None:
                    session = await (
                        self._identify(ws, data) if op == 2 else self._resume(ws, data)
                    )
                    if session is not None:
                        pump = asyncio.create_task(self._pump(session, ws))
                elif op == 8 and session is not None:
                    self._member_chunk(session, data)
                elif op == 3:
                    self.presence_updates.append(data)
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away mid-write
        finally:
            self._sockets.discard(ws)
            if pump is not None:
                pump.cancel()
            if session is not None and session.ws is ws:
                session.ws = None
            self._notify()
        return ws

    async def _pump(self, session: _Session, ws: web.WebSocketResponse) -> None:
        # One writer per socket keeps dispatches in sequence order.
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            while not ws.closed and session.ws is ws:
                if session.cursor < len(session.frames):
                    await ws.send_str(json.dumps(session.frames[session.cursor]))
                    session.cursor += 1
                    self._notify()
                else:
                    session.wake.clear()
                    await session.wake.wait()

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        self.identifies.append(data)
        self.identified_at.append(time.monotonic())
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS & ~self.portal_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        shard_id, shards = data.get("shard") or (0, 1)
        if not 0 <= shard_id < shards:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        for old in self.sessions.values():
            if old.shard == (shard_id, shards):
                old.valid = False
        session = _Session(secrets.token_hex(16), (shard_id, shards), intents, ws=ws)
        self.sessions[session.id] = session
        guilds = [g for g in self.guilds.values() if (g.id >> 22) % shards == shard_id]
        ready_user = {**self.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}
        self._push(
            session,
            "READY",
            {
                "v": 10,
                "user": ready_user,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.resume_url,
                "shard": [shard_id, shards],
                "application": {"id": str(self.app_id), "flags": self._app_flags()},
                "private_channels": [],
                "relationships": [],
                "geo_ordered_rtc_regions": [],
            },
        )
        for guild in guilds:
            self._push(session, "GUILD_CREATE", self._guild_payload(guild, session, full=True))
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        session = self.sessions.get(data.get("session_id") or "")
        if session is None or not session.valid or data.get("token") != self.token:
            self.refused_resumes += 1
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        self.resumes.append(data)
        session.ws = ws
        session.cursor = min(int(data.get("seq") or 0), len(session.frames))  # replay the rest
        self._push(session, "RESUMED", {})
        return session

    def _member_chunk(self, session: _Session, data: dict[str, Any]) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        query = (data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            m.payload()
            for m in guild.members.values()
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        self._push(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _app_flags(self) -> int:
        # GATEWAY_PRESENCE_LIMITED, GATEWAY_GUILD_MEMBERS_LIMITED, GATEWAY_MESSAGE_CONTENT_LIMITED
        flags = 0
        for intent, bit in ((GUILD_PRESENCES, 13), (GUILD_MEMBERS, 15), (MESSAGE_CONTENT, 19)):
            if self.portal_intents & intent:
                flags |= 1 << bit
        return flags

    def _guild_payload(
        self, guild: FakeGuild, session: _Session | None = None, *, full: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "roles": [r.payload() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "rules_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "premium_progress_bar_enabled": False,
            "member_count": len(guild.members),
        }
        if not full:
            return out
        # Without GUILD_PRESENCES Discord only sends the bot's own member here; discord.py
        # then chunks (op 8) when it has GUILD_MEMBERS, else fetches members over REST.
        everyone = session is not None and session.intents & GUILD_PRESENCES
        members = [m for m in guild.members.values() if everyone or m.user.id == self.bot.id]
        out.update(
            {
                "joined_at": iso(guild.members[self.bot.id].joined_at),
                "large": len(guild.members) > 250,
                "unavailable": False,
                "channels": [
                    c.payload(self.bot.id)
                    for c in self.guild_channels(guild.id)
                    if self._bot_can_see(c)
                ],
                "threads": [
                    c.payload(self.bot.id)
                    for c in self.threads()
                    if c.guild_id == guild.id and not c.archived and self._bot_can_see(c)
                ],
                "members": [m.payload() for m in members],
                "voice_states": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return out

    def _channel_event(self, channel: FakeChannel, **extra: Any) -> dict[str, Any]:
        return {**channel.payload(self.bot.id), **extra}

    def _gateway_message(self, msg: FakeMessage) -> dict[str, Any]:
        out = msg.payload()
        if msg.guild_id is not None:
            out["guild_id"] = str(msg.guild_id)
            member = self.guilds[msg.guild_id].members.get(msg.author.id)
            if member is not None:
                out["member"] = member.payload(with_user=False)
        return out

    def _echo(self, event: str, msg: FakeMessage) -> None:
        if not self.echo_events or msg.ephemeral:
            return
        channel = self.channels[msg.channel_id]
        intent = DIRECT_MESSAGES if channel.type == DM else GUILD_MESSAGES
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
        else:
            data = self._gateway_message(msg)
        self.dispatch(event, data, guild_id=msg.guild_id, intent=intent)

    # ------------------------------------------------------------------ messages

    def _channel(self, channel_id: str | int) -> FakeChannel:
        channel = self.channels.get(int(channel_id)) if str(channel_id).isdigit() else None
        if channel is None or channel.deleted:
            raise ApiError(404, 10003, "Unknown Channel")
        if not self._bot_can_see(channel):
            raise ApiError(403, 50001, "Missing Access")
        return channel

    def _message(self, channel: FakeChannel, message_id: str | int) -> FakeMessage:
        msg = self._messages.get(int(message_id)) if str(message_id).isdigit() else None
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    def _guild(self, guild_id: str | int) -> FakeGuild:
        guild = self.guilds.get(int(guild_id)) if str(guild_id).isdigit() else None
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _check_can_post(self, channel: FakeChannel, *, files: bool) -> None:
        if channel.type == CATEGORY:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.type == DM:
            if not channel.recipients[0].dms_open:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        need = perm("send_messages_in_threads" if channel.is_thread else "send_messages")
        self._require(channel, need | (perm("attach_files") if files else 0))
        if channel.is_thread and channel.archived:
            if channel.locked and not self.permissions(self.bot.id, channel) & perm(
                "manage_threads"
            ):
                raise ApiError(400, 50083, "Thread is archived")
            self._set_archived(channel, False)  # posting in an archived thread unarchives it

    def _set_archived(self, thread: FakeChannel, archived: bool) -> None:
        thread.archived, thread.archive_ts = archived, time.time()
        self.dispatch("THREAD_UPDATE", self._channel_event(thread), guild_id=thread.guild_id)

    def _attachments(
        self,
        channel: FakeChannel,
        spec: list[dict[str, Any]] | None,
        uploads: list[Upload],
        existing: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        by_index: dict[int, Upload] = {}
        for n, upload in enumerate(uploads):
            found = re.fullmatch(r"files\[(\d+)\]", upload.field)
            by_index[int(found.group(1)) if found else n] = upload
        if spec is None:
            keep, described = list(existing), {}
        else:
            old = {a["id"]: a for a in existing}
            keep = [old[str(a["id"])] for a in spec if str(a.get("id")) in old]
            described = {int(a["id"]): a for a in spec if str(a.get("id")) not in old}
        out = list(keep)
        for index, upload in sorted(by_index.items()):
            meta = described.get(index, {})
            filename = meta.get("filename") or upload.filename
            aid = self.snowflake()
            self._cdn[aid] = upload.data
            url = f"{self.http_url}/attachments/{channel.id}/{aid}/{filename}"
            attachment = {
                "id": str(aid),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
            }
            if meta.get("description"):
                attachment["description"] = meta["description"]
            out.append(attachment)
        return out

    def _resolve_mentions(self, msg: FakeMessage) -> None:
        """Who the message really pings, after allowed_mentions and permissions."""
        content = msg.content
        users = [int(u) for u in re.findall(r"<@!?(\d+)>", content)]
        roles = [int(r) for r in re.findall(r"<@&(\d+)>", content)]
        everyone = "@everyone" in content or "@here" in content
        allowed = msg.allowed_mentions
        channel = self.channels[msg.channel_id]
        can_everyone = bool(self.permissions(msg.author.id, channel) & perm("mention_everyone"))
        guild = self.guilds.get(msg.guild_id or 0)
        if allowed is None:
            ok_users, ok_roles, ok_everyone = set(users), set(roles), True
        else:
            parse = allowed.get("parse") or []
            ok_users = (
                set(users) if "users" in parse else {int(u) for u in allowed.get("users") or []}
            )
            ok_roles = (
                set(roles) if "roles" in parse else {int(r) for r in allowed.get("roles") or []}
            )
            ok_everyone = "everyone" in parse
        msg.mentioned_users = [
            self.users[u] for u in dict.fromkeys(users) if u in ok_users and u in self.users
        ]
        msg.mentioned_roles = [
            r
            for r in dict.fromkeys(roles)
            if r in ok_roles
            and guild is not None
            and r in guild.roles
            and (guild.roles[r].mentionable or can_everyone)
        ]
        msg.mention_everyone = everyone and ok_everyone and can_everyone and guild is not None
        ref = msg.reference and self._messages.get(int(msg.reference.get("message_id") or 0))
        replied_ok = allowed is None or allowed.get("replied_user", False)
        if ref and replied_ok and ref.author not in msg.mentioned_users:
            msg.mentioned_users.append(ref.author)

    def _store_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: dict[str, Any],
        uploads: list[Upload],
        *,
        flags: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            id=self.snowflake(),
            channel_id=channel.id,
            author=author,
            content=body.get("content") or "",
            guild_id=channel.guild_id,
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=(body.get("flags") or 0) | flags,
            allowed_mentions=body.get("allowed_mentions"),
            tts=bool(body.get("tts")),
            webhook_id=webhook_id,
            interaction_metadata=interaction_metadata,
        )
        reference = body.get("message_reference")
        if reference:
            target = self._messages.get(int(reference.get("message_id") or 0))
            if target is None or target.channel_id != channel.id:
                if reference.get("fail_if_not_exists", True):
                    raise invalid_form(
                        {
                            "message_reference": field_error(
                                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                            )
                        }
                    )
            else:
                msg.type = 19
                msg.reference = {
                    "type": 0,
                    "message_id": str(target.id),
                    "channel_id": str(channel.id),
                    **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
                }
        if interaction_metadata and msg.type == 0:
            msg.type = 20 if interaction_metadata["type"] == 2 else 0
        msg.attachments = self._attachments(channel, body.get("attachments"), uploads, [])
        self._resolve_mentions(msg)
        channel.messages.append(msg)
        self._messages[msg.id] = msg
        self._notify()
        return msg

    def _apply_edit(self, msg: FakeMessage, body: dict[str, Any], uploads: list[Upload]) -> None:
        channel = self.channels[msg.channel_id]
        if "content" in body:
            msg.history.append(msg.content)
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = body["embeds"] or []
        if "components" in body:
            msg.components = body["components"] or []
        if body.get("flags") is not None:
            msg.flags = body["flags"] | (msg.flags & EPHEMERAL)
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "attachments" in body or uploads:
            msg.attachments = self._attachments(
                channel, body.get("attachments"), uploads, msg.attachments
            )
        if not (msg.content or msg.embeds or msg.attachments or msg.components):
            raise ApiError(400, 50006, "Cannot send an empty message")
        msg.flags &= ~LOADING
        msg.edits += 1
        msg.edited = time.time()
        self._resolve_mentions(msg)
        self._notify()

    async def _create_message(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        body = call.json or {}
        self._check_can_post(channel, files=bool(call.uploads))
        validate_message(body, uploads=len(call.uploads))
        msg = self._store_message(channel, self.bot, body, call.uploads)
        self._echo("MESSAGE_CREATE", msg)
        return msg.payload()

    async def _get_message(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        self._require(channel, perm("read_message_history"))
        return self._message(channel, call.params["message_id"]).payload()

    async def _history(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        if not self.permissions(self.bot.id, channel) & perm("read_message_history"):
            return []
        limit = min(max(int(call.query.get("limit", 50)), 1), 100)
        msgs = [m for m in channel.messages if not m.deleted and not m.ephemeral]
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if m.id > int(call.query["after"])][:limit]
        return [m.payload() for m in reversed(msgs[-limit:])]

    async def _edit_message(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        msg = self._message(channel, call.params["message_id"])
        body = call.json or {}
        if msg.author.id != self.bot.id and set(body) - {"flags"}:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        validate_message(body, uploads=len(call.uploads), partial=True)
        self._apply_edit(msg, body, call.uploads)
        self._echo("MESSAGE_UPDATE", msg)
        return msg.payload()

    async def _delete_message(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        msg = self._message(channel, call.params["message_id"])
        if msg.author.id != self.bot.id:
            if channel.type == DM:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            self._require(channel, perm("manage_messages"))
        msg.deleted = True
        self._echo("MESSAGE_DELETE", msg)
        self._notify()
        return None

    async def _typing(self, call: _Call) -> Any:
        self._channel(call.params["channel_id"])
        return None

    def _reaction_event(self, msg: FakeMessage, user_id: int, emoji: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": _emoji_payload(emoji),
            "burst": False,
            "type": 0,
        }
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
            member = self.guilds[msg.guild_id].members.get(user_id)
            if member is not None:
                data["member"] = member.payload()
        return data

    def _react(self, msg: FakeMessage, user_id: int, emoji: str, add: bool) -> None:
        users = msg.reactions.setdefault(emoji, [])
        if add == (user_id in users):
            return
        if add:
            users.append(user_id)
        else:
            users.remove(user_id)
        channel = self.channels[msg.channel_id]
        intent = DIRECT_MESSAGE_REACTIONS if channel.type == DM else GUILD_MESSAGE_REACTIONS
        event = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        self.dispatch(
            event, self._reaction_event(msg, user_id, emoji), guild_id=msg.guild_id, intent=intent
        )
        self._notify()

    async def _add_reaction(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        msg = self._message(channel, call.params["message_id"])
        emoji = call.params["emoji"]
        if call.params["user_id"] != "@me":
            raise ApiError(405, 0, "405: Method Not Allowed")
        if ":" not in emoji and emoji.isascii():
            raise ApiError(400, 10014, "Unknown Emoji")
        self._require(channel, perm("read_message_history"))
        if emoji not in msg.reactions or not msg.reactions[emoji]:
            self._require(channel, perm("add_reactions"))
            if sum(bool(u) for u in msg.reactions.values()) >= 20:
                raise ApiError(400, 30010, "Maximum number of reactions reached (20)")
        self._react(msg, self.bot.id, emoji, True)
        return None

    async def _remove_reaction(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        msg = self._message(channel, call.params["message_id"])
        who = call.params["user_id"]
        if who != "@me":
            self._require(channel, perm("manage_messages"))
        self._react(msg, self.bot.id if who == "@me" else int(who), call.params["emoji"], False)
        return None

    async def _clear_reactions(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        msg = self._message(channel, call.params["message_id"])
        self._require(channel, perm("manage_messages"))
        msg.reactions.clear()
        self._notify()
        return None

    # ------------------------------------------------------------------ channels, threads

    async def _get_channel(self, call: _Call) -> Any:
        return self._channel(call.params["channel_id"]).payload(self.bot.id)

    def _rename(self, channel: FakeChannel, name: Any) -> None:
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form({"name": _bad_length(1, 100)})
        if name == channel.name:
            return
        # Discord allows ~2 renames per 10 minutes per channel or thread, then answers 429
        # with a retry_after of up to 10 minutes.
        limit, window = self.rename_limit
        now = time.monotonic()
        channel.renames = [t for t in channel.renames if now - t < window]
        if len(channel.renames) >= limit:
            raise RateLimitError(window - (now - channel.renames[0]))
        channel.renames.append(now)
        channel.name = name
        channel.names.append(name)

    async def _modify_channel(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        body = call.json or {}
        if channel.type == DM:
            raise ApiError(400, 50003, "Cannot execute action on a DM channel")
        if channel.is_thread:
            manage = bool(self.permissions(self.bot.id, channel) & perm("manage_threads"))
            if not manage and (channel.owner_id != self.bot.id or "locked" in body):
                raise ApiError(403, 50013, "Missing Permissions")
            other_change = channel.locked or set(body) - {"archived", "locked"}
            if channel.archived and body.get("archived") is not False and other_change:
                raise ApiError(400, 50083, "Thread is archived")
        else:
            self._require(channel, perm("manage_channels"))
        if "name" in body:
            self._rename(channel, body["name"])
        for key in ("topic", "position", "locked", "invitable", "auto_archive_duration"):
            if key in body and body[key] is not None:
                setattr(channel, key, body[key])
        if "archived" in body and bool(body["archived"]) != channel.archived:
            channel.archived, channel.archive_ts = bool(body["archived"]), time.time()
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        self.dispatch(event, self._channel_event(channel), guild_id=channel.guild_id)
        self._notify()
        return channel.payload(self.bot.id)

    async def _delete_channel(self, call: _Call) -> Any:
        channel = self._channel(call.params["channel_id"])
        if channel.type != DM:
            self._require(
                channel, perm("manage_threads" if channel.is_thread else "manage_channels")
            )
            event = "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE"
            self.dispatch(event, self._channel_event(channel), guild_id=channel.guild_id)
        channel.deleted = True
        self._notify()
        return channel.payload(self.bot.id)

    def _new_thread(
        self, parent: FakeChannel, body: dict[str, Any], ttype: int, thread_id: int | None = None
    ) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form({"name": _bad_length(1, 100)})
        duration = body.get("auto_archive_duration") or 4320
        if duration not in (60, 1440, 4320, 10080):
            raise invalid_form(
                {
                    "auto_archive_duration": field_error(
                        "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}."
                    )
                }
            )
        active = [t for t in self.threads() if t.guild_id == parent.guild_id and not t.archived]
        if len(active) >= self.max_active_threads:
            raise ApiError(400, 160006, "Maximum number of active threads reached")
        thread = FakeChannel(
            thread_id or self.snowflake(),
            ttype,
            name,
            parent.guild_id,
            parent.id,
            owner_id=self.bot.id,
            invitable=bool(body.get("invitable", True)) if ttype == PRIVATE_THREAD else True,
            auto_archive_duration=duration,
        )
        thread.thread_members[self.bot.id] = time.time()
        thread.names.append(name)
        self.channels[thread.id] = thread
        self.dispatch(
            "THREAD_CREATE",
            self._channel_event(thread, newly_created=True),
            guild_id=thread.guild_id,
        )
        self._notify()
        return thread.payload(self.bot.id)

    async def _start_thread(self, call: _Call) -> Any:
        parent = self._channel(call.params["channel_id"])
        if parent.type not in (TEXT, ANNOUNCEMENT):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        body = call.json or {}
        ttype = int(body.get("type") or PRIVATE_THREAD)  # v10 default is a private thread
        if ttype not in (PUBLIC_THREAD, PRIVATE_THREAD) or (
            ttype == PRIVATE_THREAD and parent.type == ANNOUNCEMENT
        ):
            raise invalid_form(
                {"type": field_error("BASE_TYPE_CHOICES", "Value must be 11 or 12.")}
            )
        kind = "create_private_threads" if ttype == PRIVATE_THREAD else "create_public_threads"
        self._require(parent, perm(kind))
        return self._new_thread(parent, body, ttype)

    async def _thread_from_message(self, call: _Call) -> Any:
        parent = self._channel(call.params["channel_id"])
        msg = self._message(parent, call.params["message_id"])
        if parent.type not in (TEXT, ANNOUNCEMENT):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if msg.id in self.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        self._require(parent, perm("create_public_threads"))
        ttype = 10 if parent.type == ANNOUNCEMENT else PUBLIC_THREAD
        return self._new_thread(parent, call.json or {}, ttype, thread_id=msg.id)

    def _thread(self, channel_id: str) -> FakeChannel:
        thread = self._channel(channel_id)
        if not thread.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return thread

    def _thread_members_update(self, thread: FakeChannel, user_id: int, added: bool) -> None:
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": min(len(thread.thread_members), 50),
        }
        if added:
            member = thread_member_payload(thread.id, user_id, thread.thread_members[user_id])
            guild_member = self.guilds[thread.guild_id or 0].members.get(user_id)
            if guild_member is not None:
                member["member"] = guild_member.payload()
            data["added_members"] = [member]
        else:
            data["removed_member_ids"] = [str(user_id)]
        # Others' joins/leaves need GUILD_MEMBERS; the bot's own always arrive.
        intent = GUILDS if user_id == self.bot.id else GUILD_MEMBERS
        self.dispatch("THREAD_MEMBERS_UPDATE", data, guild_id=thread.guild_id, intent=intent)
        self._notify()

    async def _add_thread_member(self, call: _Call) -> Any:
        thread = self._thread(call.params["channel_id"])
        who = call.params["user_id"]
        user_id = self.bot.id if who == "@me" else int(who) if who.isdigit() else 0
        if thread.archived:
            raise ApiError(400, 50083, "Thread is archived")
        if user_id not in self.guilds[thread.guild_id or 0].members:
            raise ApiError(404, 10007, "Unknown Member")
        manage = bool(self.permissions(self.bot.id, thread) & perm("manage_threads"))
        outsider_invite = not thread.invitable and thread.owner_id != self.bot.id
        if (
            thread.type == PRIVATE_THREAD
            and user_id != self.bot.id
            and not manage
            and outsider_invite
        ):
            raise ApiError(403, 50013, "Missing Permissions")
        if user_id not in thread.thread_members:
            thread.thread_members[user_id] = time.time()
            self._thread_members_update(thread, user_id, True)
        return None

    async def _remove_thread_member(self, call: _Call) -> Any:
        thread = self._thread(call.params["channel_id"])
        who = call.params["user_id"]
        user_id = self.bot.id if who == "@me" else int(who) if who.isdigit() else 0
        if thread.archived:
            raise ApiError(400, 50083, "Thread is archived")
        own_private = thread.type == PRIVATE_THREAD and thread.owner_id == self.bot.id
        if user_id != self.bot.id and not own_private:
            self._require(thread, perm("manage_threads"))
        if user_id in thread.thread_members:
            del thread.thread_members[user_id]
            self._thread_members_update(thread, user_id, False)
        return None

    async def _list_thread_members(self, call: _Call) -> Any:
        thread = self._thread(call.params["channel_id"])
        return [thread_member_payload(thread.id, u, t) for u, t in thread.thread_members.items()]

    async def _get_thread_member(self, call: _Call) -> Any:
        thread = self._thread(call.params["channel_id"])
        who = call.params["user_id"]
        user_id = self.bot.id if who == "@me" else int(who) if who.isdigit() else 0
        if user_id not in thread.thread_members:
            raise ApiError(404, 10007, "Unknown Member")
        return thread_member_payload(thread.id, user_id, thread.thread_members[user_id])

    # ------------------------------------------------------------------ users, guilds, commands

    async def _get_me(self, call: _Call) -> Any:
        return {**self.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}

    async def _get_user(self, call: _Call) -> Any:
        user = (
            self.users.get(int(call.params["user_id"]))
            if call.params["user_id"].isdigit()
            else None
        )
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return user.payload()

    async def _get_app(self, call: _Call) -> Any:
        return {
            "id": str(self.app_id),
            "name": self.bot.username,
            "icon": None,
            "description": "",
            "summary": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.owner.payload(),
            "verify_key": "0" * 64,
            "team": None,
            "flags": self._app_flags(),
            "bot": self.bot.payload(),
            "approximate_guild_count": len(self.guilds),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "tags": [],
        }

    async def _get_gateway(self, call: _Call) -> Any:
        out: dict[str, Any] = {"url": self.gateway_url}
        if call.path.endswith("/bot"):
            out["shards"] = self.recommended_shards
            out["session_start_limit"] = {
                "total": 1000,
                "remaining": 1000 - len(self.identifies),
                "reset_after": 86_400_000,
                "max_concurrency": self.max_concurrency,
            }
        return out

    async def _create_dm(self, call: _Call) -> Any:
        rid = str((call.json or {}).get("recipient_id") or "")
        user = self.users.get(int(rid)) if rid.isdigit() else None
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        if user.id == self.bot.id:
            raise ApiError(400, 50007, "Cannot send messages to this user")
        return self.add_dm(user).payload(self.bot.id)

    async def _get_guild(self, call: _Call) -> Any:
        return self._guild_payload(self._guild(call.params["guild_id"]))

    async def _get_guild_channels(self, call: _Call) -> Any:
        guild = self._guild(call.params["guild_id"])
        return [
            c.payload(self.bot.id) for c in self.guild_channels(guild.id) if self._bot_can_see(c)
        ]

    async def _create_guild_channel(self, call: _Call) -> Any:
        guild = self._guild(call.params["guild_id"])
        body = call.json or {}
        if (
            self.permissions(self.bot.id, self.guild_channels(guild.id)[0])
            & perm("manage_channels")
            == 0
        ):
            raise ApiError(403, 50013, "Missing Permissions")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form({"name": _bad_length(1, 100)})
        if len(self.guild_channels(guild.id)) >= self.max_channels:
            raise ApiError(400, 30013, "Maximum number of guild channels reached (500)")
        parent_id = int(body["parent_id"]) if body.get("parent_id") else None
        if parent_id is not None:
            siblings = [c for c in self.guild_channels(guild.id) if c.parent_id == parent_id]
            if len(siblings) >= self.max_category_channels:
                raise invalid_form(
                    {
                        "parent_id": field_error(
                            "CHANNEL_PARENT_MAX_CHANNELS",
                            "Maximum number of channels in category reached (50)",
                        )
                    }
                )
        if int(body.get("type") or TEXT) == CATEGORY:
            return self.add_category(guild.id, name).payload(self.bot.id)
        channel = self.add_text_channel(
            guild.id, name, parent_id=parent_id, topic=body.get("topic")
        )
        return channel.payload(self.bot.id)

    async def _get_roles(self, call: _Call) -> Any:
        return [r.payload() for r in self._guild(call.params["guild_id"]).roles.values()]

    async def _get_member(self, call: _Call) -> Any:
        guild = self._guild(call.params["guild_id"])
        uid = call.params["user_id"]
        member = guild.members.get(int(uid)) if uid.isdigit() else None
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return member.payload()

    async def _list_members(self, call: _Call) -> Any:
        guild = self._guild(call.params["guild_id"])
        if not self.portal_intents & GUILD_MEMBERS:
            raise ApiError(403, 50001, "Missing Access")
        after = int(call.query.get("after", 0))
        limit = min(int(call.query.get("limit", 1)), 1000)
        members = sorted(
            (m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id
        )
        return [m.payload() for m in members[:limit]]

    async def _active_threads(self, call: _Call) -> Any:
        guild = self._guild(call.params["guild_id"])
        threads = [
            t
            for t in self.threads()
            if t.guild_id == guild.id and not t.archived and self._bot_can_see(t)
        ]
        return {
            "threads": [t.payload(self.bot.id) for t in threads],
            "members": [
                thread_member_payload(t.id, self.bot.id, t.thread_members[self.bot.id])
                for t in threads
                if self.bot.id in t.thread_members
            ],
        }

    def _scope(self, call: _Call) -> int | None:
        if call.params["application_id"] != str(self.app_id):
            raise ApiError(403, 50001, "Missing Access")
        gid = call.params.get("guild_id")
        return self._guild(gid).id if gid else None

    async def _get_commands(self, call: _Call) -> Any:
        return self.commands.get(self._scope(call), [])

    async def _put_commands(self, call: _Call) -> Any:
        scope = self._scope(call)
        body = call.json if isinstance(call.json, list) else []
        sync = CommandSync(scope, [c.get("name", "") for c in body], time.monotonic(), 400)
        self.command_syncs.append(sync)
        validate_commands(body)
        old = {(c.get("type", 1), c["name"]): c for c in self.commands.get(scope, [])}
        created = [c for c in body if (c.get("type", 1), c["name"]) not in old]
        now = time.monotonic()
        log = [t for t in self._command_creates.get(scope, []) if now - t < 86_400]
        if len(log) + len(created) > self.daily_command_creates:
            sync.status = 429
            raise RateLimitError(
                86_400 - (now - log[0]) if log else 86_400,
                code=30034,
                message="Max number of daily application command creates has been reached (200)",
            )
        self._command_creates[scope] = log + [now] * len(created)
        out = []
        for cmd in body:
            key = (cmd.get("type", 1), cmd["name"])
            stored = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **cmd,
                "id": old[key]["id"] if key in old else str(self.snowflake()),
                "application_id": str(self.app_id),
                "version": str(self.snowflake()),
            }
            if scope is not None:
                stored["guild_id"] = str(scope)
            out.append(stored)
        self.commands[scope] = out
        sync.status = 200
        self._notify()
        return out

    # ------------------------------------------------------------------ interactions (REST)

    def _interaction_metadata(self, handle: InteractionHandle) -> dict[str, Any]:
        payload = handle.payload
        user = (payload.get("member") or {}).get("user") or payload.get("user")
        return {
            "id": str(handle.id),
            "type": handle.type,
            "user": user,
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
        }

    async def _interaction_callback(self, call: _Call) -> Any:
        iid = call.params["interaction_id"]
        handle = self.interactions.get(int(iid)) if iid.isdigit() else None
        if handle is None or handle.token != call.params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        now = time.monotonic()
        elapsed = now - handle.sent_at
        if handle.reply is not None:
            handle.rejected.append((elapsed, 40060))
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.interaction_response_window:
            handle.rejected.append((elapsed, 10062))
            raise ApiError(404, 10062, "Unknown interaction")
        body = call.json or {}
        rtype, data = int(body.get("type") or 0), body.get("data")
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[handle.type]
        if rtype not in allowed:
            raise invalid_form(
                {
                    "type": field_error(
                        "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}."
                    )
                }
            )
        channel = self.channels[handle.channel_id]
        source = self._messages.get(int((handle.payload.get("message") or {}).get("id") or 0))
        meta = self._interaction_metadata(handle)
        msg: FakeMessage | None = None
        if rtype == 4:
            validate_message(data or {}, uploads=len(call.uploads))
            msg = self._store_message(
                channel,
                self.bot,
                data or {},
                call.uploads,
                webhook_id=self.app_id,
                interaction_metadata=meta,
            )
            self._echo("MESSAGE_CREATE", msg)
        elif rtype == 5:
            flags = LOADING | ((data or {}).get("flags", 0) & EPHEMERAL)
            msg = self._store_message(
                channel,
                self.bot,
                {},
                [],
                flags=flags,
                webhook_id=self.app_id,
                interaction_metadata=meta,
            )
            self._echo("MESSAGE_CREATE", msg)
        elif rtype in (6, 7) and source is not None:
            msg = source
            if rtype == 7:
                validate_message(data or {}, uploads=len(call.uploads), partial=True)
                self._apply_edit(msg, data or {}, call.uploads)
                self._echo("MESSAGE_UPDATE", msg)
        elif rtype == 8:
            choices = (data or {}).get("choices") or []
            if len(choices) > 25:
                raise invalid_form({"data": {"choices": _too_long(25)}})
            for k, choice in enumerate(choices):
                if not 1 <= len(str(choice.get("name") or "")) <= 100:
                    raise invalid_form(
                        {"data": {"choices": {str(k): {"name": _bad_length(1, 100)}}}}
                    )
        elif rtype == 9:
            self._validate_modal(data or {})
        handle.original = msg
        handle.reply = InteractionReply(rtype, data, now, elapsed)
        handle._answered.set()
        self._notify()
        if call.query.get("with_response") not in ("1", "true", "True"):
            return None
        out: dict[str, Any] = {
            "interaction": {
                "id": str(handle.id),
                "type": handle.type,
                "response_message_id": str(msg.id) if msg else None,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(msg and msg.ephemeral),
            },
            "resource": {"type": rtype},
        }
        if msg is not None and rtype in (4, 5, 7):
            out["resource"]["message"] = msg.payload()
        return out

    @staticmethod
    def _validate_modal(data: dict[str, Any]) -> None:
        errors: dict[str, Any] = {}
        if not 1 <= len(data.get("title") or "") <= 45:
            _put(errors, ["data", "title"], _bad_length(1, 45))
        if not 1 <= len(data.get("custom_id") or "") <= 100:
            _put(errors, ["data", "custom_id"], _bad_length(1, 100))
        if not 1 <= len(data.get("components") or []) <= 5:
            _put(errors, ["data", "components"], _bad_length(1, 5))
        if errors:
            raise invalid_form(errors)

    def _webhook_handle(self, call: _Call) -> InteractionHandle:
        handle = next(
            (h for h in self.interactions.values() if h.token == call.params["token"]), None
        )
        if call.params["application_id"] != str(self.app_id) or handle is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - handle.sent_at > self.interaction_token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if handle.reply is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        return handle

    def _webhook_message(self, handle: InteractionHandle, message_id: str) -> FakeMessage:
        if message_id == "@original":
            if handle.original is None or handle.original.deleted:
                raise ApiError(404, 10008, "Unknown Message")
            return handle.original
        msg = self._messages.get(int(message_id)) if message_id.isdigit() else None
        if (
            msg is None
            or msg.deleted
            or (msg is not handle.original and msg not in handle.followups)
        ):
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _followup(self, call: _Call) -> Any:
        handle = self._webhook_handle(call)
        body = call.json or {}
        validate_message(body, uploads=len(call.uploads))
        original = handle.original
        if original is not None and original.flags & LOADING:
            # The first follow-up after a deferred response replaces the "thinking" message.
            self._apply_edit(original, body, call.uploads)
            msg = original
            self._echo("MESSAGE_UPDATE", msg)
        else:
            msg = self._store_message(
                self.channels[handle.channel_id],
                self.bot,
                body,
                call.uploads,
                webhook_id=self.app_id,
                interaction_metadata=self._interaction_metadata(handle),
            )
            self._echo("MESSAGE_CREATE", msg)
        handle.followups.append(msg)
        self._notify()
        return msg.payload() if call.query.get("wait") in ("1", "true", "True") else None

    async def _get_webhook_message(self, call: _Call) -> Any:
        handle = self._webhook_handle(call)
        return self._webhook_message(handle, call.params["message_id"]).payload()

    async def _edit_webhook_message(self, call: _Call) -> Any:
        handle = self._webhook_handle(call)
        msg = self._webhook_message(handle, call.params["message_id"])
        body = call.json or {}
        validate_message(body, uploads=len(call.uploads), partial=True)
        self._apply_edit(msg, body, call.uploads)
        self._echo("MESSAGE_UPDATE", msg)
        return msg.payload()

    async def _delete_webhook_message(self, call: _Call) -> Any:
        handle = self._webhook_handle(call)
        msg = self._webhook_message(handle, call.params["message_id"])
        msg.deleted = True
        self._echo("MESSAGE_DELETE", msg)
        self._notify()
        return None

    # ------------------------------------------------------------------ injectors: users act

    def _as_user(self, user: FakeUser | int | None) -> FakeUser:
        if user is None:
            return self.alice
        return self.users[user] if isinstance(user, int) else user

    async def user_message(
        self,
        channel_id: int,
        author: FakeUser | int | None = None,
        content: str = "",
        *,
        attachments: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]] = (),
        embeds: list[dict[str, Any]] | None = None,
        reply_to: FakeMessage | int | None = None,
    ) -> FakeMessage:
        """A user posts a message (MESSAGE_CREATE). ``attachments``: (filename, bytes) pairs,
        served on the fake CDN so ``Attachment.read()`` works. Default author: ``dc.alice``."""
        channel = self.channels[channel_id]
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            ref = reply_to.id if isinstance(reply_to, FakeMessage) else reply_to
            body["message_reference"] = {"message_id": str(ref)}
        uploads = [Upload(f"files[{i}]", name, data) for i, (name, data) in enumerate(attachments)]
        msg = self._store_message(channel, self._as_user(author), body, uploads)
        if self._bot_can_see(channel):  # Discord never delivers what the bot cannot see
            intent = DIRECT_MESSAGES if channel.type == DM else GUILD_MESSAGES
            self.dispatch(
                "MESSAGE_CREATE",
                self._gateway_message(msg),
                guild_id=channel.guild_id,
                intent=intent,
            )
        await self.flush()
        return msg

    async def user_dm(
        self, user: FakeUser | int | None, content: str, **kwargs: Any
    ) -> FakeMessage:
        """A user writes to the bot in a DM."""
        channel = self.add_dm(self._as_user(user))
        return await self.user_message(channel.id, user, content, **kwargs)

    async def user_edit(self, message: FakeMessage, content: str) -> FakeMessage:
        """A user edits their message (MESSAGE_UPDATE)."""
        msg = self._messages[message.id]
        msg.history.append(msg.content)
        msg.content, msg.edits, msg.edited = content, msg.edits + 1, time.time()
        self._resolve_mentions(msg)
        channel = self.channels[msg.channel_id]
        intent = DIRECT_MESSAGES if channel.type == DM else GUILD_MESSAGES
        self.dispatch(
            "MESSAGE_UPDATE", self._gateway_message(msg), guild_id=msg.guild_id, intent=intent
        )
        await self.flush()
        return msg

    async def user_reaction(
        self,
        message: FakeMessage,
        emoji: str,
        user: FakeUser | int | None = None,
        *,
        remove: bool = False,
    ) -> None:
        """A user adds (or removes) a reaction (MESSAGE_REACTION_ADD / _REMOVE)."""
        self._react(self._messages[message.id], self._as_user(user).id, emoji, not remove)
        await self.flush()

    def _interaction_payload(
        self,
        itype: int,
        data: dict[str, Any],
        user: FakeUser,
        channel: FakeChannel,
        message: FakeMessage | None = None,
    ) -> dict[str, Any]:
        guild = self.guilds.get(channel.guild_id or 0)
        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "application_id": str(self.app_id),
            "type": itype,
            "token": "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            "version": 1,
            "data": data,
            "channel_id": str(channel.id),
            "channel": {
                **channel.payload(self.bot.id),
                "permissions": str(self.permissions(user.id, channel)),
            },
            "app_permissions": str(self.permissions(self.bot.id, channel)),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": self.upload_limit,
            "context": 0 if guild else 1,
            "authorizing_integration_owners": {"0": str(guild.id)}
            if guild
            else {"1": str(user.id)},
        }
        if guild is not None:
            member = guild.members.get(user.id)
            if member is None:
                raise LookupError(f"{user.username} is not a member of {guild.name}")
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "member": {
                        **member.payload(),
                        "permissions": str(self.permissions(user.id, channel)),
                    },
                }
            )
        else:
            payload["user"] = user.payload()
        if message is not None:
            payload["message"] = message.payload()
        return payload

    async def _send_interaction(self, payload: dict[str, Any]) -> InteractionHandle:
        handle = InteractionHandle(self, payload)
        self.interactions[handle.id] = handle
        self.dispatch("INTERACTION_CREATE", payload, guild_id=handle.guild_id)
        await self.flush()
        return handle

    def _find_command(self, name: str, guild_id: int | None, ctype: int) -> dict[str, Any] | None:
        for scope in (guild_id, None) if guild_id else (None,):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd
        return None

    def _option_value(
        self, otype: int, value: Any, channel: FakeChannel, resolved: dict[str, Any]
    ) -> Any:
        guild = self.guilds.get(channel.guild_id or 0)
        if otype == 6 or (otype == 9 and isinstance(value, FakeUser)):
            user = self._as_user(value)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if guild is not None and user.id in guild.members:
                resolved.setdefault("members", {})[str(user.id)] = {
                    **guild.members[user.id].payload(with_user=False),
                    "permissions": str(self.permissions(user.id, channel)),
                }
            return str(user.id)
        if otype == 7:
            target = value if isinstance(value, FakeChannel) else self.channels[int(value)]
            resolved.setdefault("channels", {})[str(target.id)] = {
                **target.payload(self.bot.id),
                "permissions": str(self.permissions(self.bot.id, target)),
            }
            return str(target.id)
        if otype in (8, 9) and guild is not None:
            role = value if isinstance(value, FakeRole) else guild.roles[int(value)]
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if otype == 11:
            filename, data = value
            [att] = self._attachments(channel, None, [Upload("files[0]", filename, data)], [])
            resolved.setdefault("attachments", {})[att["id"]] = att
            return att["id"]
        return value

    def _options(
        self,
        schema: dict[str, Any] | None,
        options: dict[str, Any] | list[dict[str, Any]] | None,
        channel: FakeChannel,
        resolved: dict[str, Any],
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        if options is None:
            return []
        if isinstance(options, list):
            return options  # raw Discord option objects
        by_name = {o["name"]: o for o in (schema or {}).get("options") or []}
        out: list[dict[str, Any]] = []
        for name, value in options.items():
            spec = by_name.get(name, {})
            otype = spec.get("type") or _infer_option_type(value)
            if otype in (1, 2):
                nested = self._options(spec, value, channel, resolved, focused)
                out.append({"name": name, "type": otype, "options": nested})
            elif name == focused:
                out.append({"name": name, "type": otype, "value": str(value), "focused": True})
            else:
                out.append(
                    {
                        "name": name,
                        "type": otype,
                        "value": self._option_value(otype, value, channel, resolved),
                    }
                )
        return out

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        options: dict[str, Any] | list[dict[str, Any]] | None,
        user: FakeUser | int | None,
        channel_id: int | None,
        guild_id: int | None,
        *,
        command_type: int = 1,
        target: FakeUser | FakeMessage | None = None,
        focused: str | None = None,
    ) -> InteractionHandle:
        channel = self.channels[channel_id or self.channel.id]
        gid = guild_id if guild_id is not None else channel.guild_id
        cmd = self._find_command(name, gid, command_type)
        if cmd is None and self.strict:
            raise LookupError(f"command {name!r} is not registered (sync the command tree first)")
        resolved: dict[str, Any] = {}
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else str(self.snowflake()),
            "name": name,
            "type": command_type,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if command_type == 1:
            data["options"] = self._options(cmd, options, channel, resolved, focused)
        if isinstance(target, FakeUser):
            data["target_id"] = self._option_value(6, target, channel, resolved)
        elif isinstance(target, FakeMessage):
            data["target_id"] = str(target.id)
            resolved.setdefault("messages", {})[str(target.id)] = target.payload()
        if resolved:
            data["resolved"] = resolved
        user_obj = self._as_user(user)
        return await self._send_interaction(
            self._interaction_payload(itype, data, user_obj, channel)
        )

    async def interaction_command(
        self,
        name: str,
        options: dict[str, Any] | list[dict[str, Any]] | None = None,
        user: FakeUser | int | None = None,
        channel_id: int | None = None,
        guild_id: int | None = None,
        *,
        command_type: int = 1,
        target: FakeUser | FakeMessage | None = None,
    ) -> InteractionHandle:
        """A user runs an application command. ``options`` as {name: value} (types from the
        registered command; users/channels/roles/(filename, bytes) get ``resolved`` data) or
        raw option objects. Context menus: ``command_type=2|3`` with ``target``."""
        return await self._command_interaction(
            2, name, options, user, channel_id, guild_id, command_type=command_type, target=target
        )

    async def interaction_autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        user: FakeUser | int | None = None,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> InteractionHandle:
        """A user types into option ``focused`` of a command (answer: type 8 choices)."""
        return await self._command_interaction(
            4, name, options, user, channel_id, guild_id, focused=focused
        )

    def _component_message(self, custom_id: str, channel_id: int | None) -> FakeMessage | None:
        pool = (
            self.messages(channel_id)
            if channel_id
            else [m for m in self._messages.values() if not m.deleted]
        )
        return next((m for m in reversed(pool) if custom_id in _custom_ids(m.components)), None)

    async def interaction_button(
        self,
        custom_id: str,
        user: FakeUser | int | None = None,
        channel_id: int | None = None,
        message_id: int | None = None,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> InteractionHandle:
        """A user clicks a button (or picks in a select: ``component_type=3, values=[...]``).
        Without ``message_id`` the newest message carrying ``custom_id`` is used."""
        msg = self._messages.get(message_id or 0) or self._component_message(custom_id, channel_id)
        if msg is None or (self.strict and custom_id not in _custom_ids(msg.components)):
            raise LookupError(f"no message has a component with custom_id {custom_id!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        channel = self.channels[msg.channel_id]
        payload = self._interaction_payload(3, data, self._as_user(user), channel, message=msg)
        return await self._send_interaction(payload)

    async def interaction_select(
        self,
        custom_id: str,
        values: list[str],
        user: FakeUser | int | None = None,
        channel_id: int | None = None,
        message_id: int | None = None,
    ) -> InteractionHandle:
        """A user picks ``values`` in a string select."""
        return await self.interaction_button(
            custom_id, user, channel_id, message_id, component_type=3, values=values
        )

    async def interaction_modal_submit(
        self,
        custom_id: str,
        values: dict[str, str],
        user: FakeUser | int | None = None,
        channel_id: int | None = None,
        *,
        message_id: int | None = None,
    ) -> InteractionHandle:
        """A user submits a modal the bot showed them: ``values`` maps text input custom_id
        to the text typed."""
        who = self._as_user(user)
        opener = next(
            (
                h
                for h in reversed(list(self.interactions.values()))
                if h.reply is not None
                and h.reply.type == 9
                and (h.reply.data or {}).get("custom_id") == custom_id
                and _interaction_user_id(h.payload) == who.id
            ),
            None,
        )
        if opener is None and self.strict:
            raise LookupError(f"no modal {custom_id!r} was shown to {who.username}")
        channel = self.channels[channel_id or (opener.channel_id if opener else self.channel.id)]
        source_id = message_id or int(
            ((opener.payload.get("message") or {}).get("id") if opener else 0) or 0
        )
        data = {
            "custom_id": custom_id,
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ],
        }
        msg = self._messages.get(source_id)
        return await self._send_interaction(
            self._interaction_payload(5, data, who, channel, message=msg)
        )


def _interaction_user_id(payload: dict[str, Any]) -> int:
    user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    return int(user.get("id") or 0)


def _custom_ids(components: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for comp in components:
        if comp.get("custom_id"):
            found.add(comp["custom_id"])
        children = list(comp.get("components") or [])
        children += [c for c in (comp.get("component"), comp.get("accessory")) if c]
        found |= _custom_ids(children)
    return found


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    if isinstance(value, tuple):
        return 11
    if isinstance(value, dict):
        return 1
    return 3
