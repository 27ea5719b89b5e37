"""FakeDiscord plus what a help desk's closed-ticket threads need: archived thread listings and
customers writing in archived threads (Discord unarchives an unlocked thread; a locked one
refuses non-moderators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.discord_api import (
    PRIVATE_THREAD,
    ApiError,
    FakeDiscord,
    FakeMessage,
    FakeUser,
    _Call,
    perm,
    thread_member_payload,
)


class ThreadLocked(Exception):
    """A user tried to write in a locked thread (the Discord client does not let them)."""


class FakeDiscordThreads(FakeDiscord):
    """``FakeDiscord`` with GET /channels/{id}/threads/archived/private and archive-aware
    user messages."""

    async def __aenter__(self) -> FakeDiscordThreads:
        await super().__aenter__()
        return self

    def _routes(self) -> list[tuple[str, str, Callable[[_Call], Any]]]:
        return [
            ("GET", "/channels/{channel_id}/threads/archived/private", self._archived_private),
            *super()._routes(),
        ]

    async def _archived_private(self, call: _Call) -> Any:
        parent = self._channel(call.params["channel_id"])
        # Discord: needs Read Message History and Manage Threads.
        self._require(parent, perm("read_message_history", "manage_threads"))
        threads = sorted(
            (
                t
                for t in self.threads(parent.id)
                if t.type == PRIVATE_THREAD and t.archived and not t.deleted
            ),
            key=lambda t: t.archive_ts,
            reverse=True,
        )
        limit = int(call.query.get("limit", 50))
        return {
            "threads": [t.payload(self.bot.id) for t in threads[:limit]],
            "members": [
                thread_member_payload(t.id, self.bot.id, t.thread_members[self.bot.id])
                for t in threads[:limit]
                if self.bot.id in t.thread_members
            ],
            "has_more": len(threads) > limit,
        }

    async def user_message(
        self,
        channel_id: int,
        author: FakeUser | int | None = None,
        content: str = "",
        **kwargs: Any,
    ) -> FakeMessage:
        channel = self.channels[channel_id]
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise ThreadLocked(f"thread {channel.name!r} is locked")
            self._set_archived(channel, False)  # a member's message unarchives the thread
        return await super().user_message(channel_id, author, content, **kwargs)

    def thread_messages(self, thread_id: int) -> list[str]:
        return [m.content for m in self.messages(thread_id)]


__all__ = ["ApiError", "FakeDiscordThreads", "ThreadLocked"]
