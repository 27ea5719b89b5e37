"""Who a Slack user is: profile (name, email, locale) and role-group membership, cached."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import PLATFORM
from bot.messages import Identity

log = logging.getLogger(__name__)

USER_TTL = 3600.0  # profiles change rarely; users.info is Tier 4
GROUP_TTL = 300.0  # group membership decides roles, so it is refreshed more often
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class Directory:
    """Resolves user ids to Identities. Failures degrade to an id-only identity, never raise."""

    def __init__(self, client: AsyncWebClient, role_groups: tuple[str, ...] = ()) -> None:
        self.client = client
        self.role_groups = role_groups
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._loading: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._groups: tuple[float, dict[str, frozenset[str]]] | None = None
        self._groups_lock = asyncio.Lock()

    async def user(self, user_id: str) -> dict[str, Any]:
        """users.info's `user` object ({} when it cannot be read). A burst of requests from
        one person makes one call, not one per request."""
        hit = self._users.get(user_id)
        if hit and time.monotonic() - hit[0] < USER_TTL:
            return hit[1]
        if user_id in self._loading:
            return await asyncio.shield(self._loading[user_id])
        loading = asyncio.get_running_loop().create_future()
        self._loading[user_id] = loading
        try:
            data = await self._fetch(user_id)
        finally:
            del self._loading[user_id]
        loading.set_result(data)
        return data

    async def _fetch(self, user_id: str) -> dict[str, Any]:
        try:
            answer = await self.client.users_info(user=user_id, include_locale=True)
            data: dict[str, Any] = answer.get("user") or {}
        except SlackApiError as exc:
            log.info("users.info %s failed: %s", user_id, exc.response.get("error"))
            data = {}
        except Exception as exc:  # the network: not cached, the next message tries again
            log.warning("users.info %s failed: %r", user_id, exc)
            return {}
        self._users[user_id] = (time.monotonic(), data)
        return data

    async def groups_of(self, user_id: str) -> tuple[str, ...]:
        """The configured role groups (Slack user groups) this user belongs to."""
        if not self.role_groups:
            return ()
        async with self._groups_lock:  # one refresh at a time, however many requests wait
            if self._groups is None or time.monotonic() - self._groups[0] > GROUP_TTL:
                members: dict[str, frozenset[str]] = {}
                for group in self.role_groups:
                    try:
                        answer = await self.client.usergroups_users_list(usergroup=group)
                        members[group] = frozenset(answer.get("users") or [])
                    except SlackApiError as exc:
                        error = exc.response.get("error")
                        log.warning("usergroups.users.list %s: %s", group, error)
                        members[group] = frozenset()
                self._groups = (time.monotonic(), members)
        assert self._groups is not None
        return tuple(g for g, users in self._groups[1].items() if user_id in users)

    async def identity(self, user_id: str, fallback_name: str | None = None) -> Identity:
        """The Identity for a Slack user: display name, profile email, locale, role groups."""
        data = await self.user(user_id)
        profile = data.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or data.get("real_name")
            or data.get("name")
            or fallback_name
        )
        email = profile.get("email") or None
        return Identity(
            PLATFORM,
            user_id,
            display_name=name or None,
            # Slack only shows addresses its users confirmed (needs users:read.email).
            email=email,
            email_verified=bool(email),
            locale=data.get("locale"),
            groups=await self.groups_of(user_id),
            phone=profile.get("phone") or None,
        )

    def name(self, user_id: str) -> str | None:
        """A cached display name, for text conversion (call `prefetch_mentions` first)."""
        hit = self._users.get(user_id)
        if not hit:
            return None
        profile = hit[1].get("profile") or {}
        return profile.get("display_name") or profile.get("real_name") or hit[1].get("name")

    async def prefetch_mentions(self, text: str) -> None:
        """Load the users mentioned in `text` so `name` can show them as names."""
        for user_id in dict.fromkeys(_MENTION.findall(text or "")):
            await self.user(user_id)
