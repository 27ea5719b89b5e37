"""Helpers to run a real discord.py client against ``FakeDiscord`` in tests."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import discord

from tests.fakes.discord_api import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


def make_intents(*, message_content: bool = True, members: bool = False) -> discord.Intents:
    """Default intents plus the privileged ones deskbot asks for."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    intents.members = members
    return intents


def make_client(
    *,
    intents: discord.Intents | None = None,
    cls: type[discord.Client] = discord.Client,
    **kwargs: Any,
) -> discord.Client:
    """A client tuned for tests: ``on_ready`` 50 ms after the last GUILD_CREATE (default 2 s)
    and ``max_ratelimit_timeout=30`` (the smallest discord.py accepts), so a long 429 such as
    the channel rename limit raises ``discord.RateLimited`` instead of sleeping 10 minutes."""
    kwargs.setdefault("guild_ready_timeout", 0.05)
    kwargs.setdefault("max_ratelimit_timeout", 30.0)
    return cls(intents=intents or make_intents(), **kwargs)


async def start_client(
    client: discord.Client, dc: FakeDiscord, *, ready_within: float = 5.0
) -> asyncio.Task[None]:
    """Start ``client`` against ``dc`` and wait for on_ready; startup errors are re-raised."""
    task = asyncio.create_task(client.start(dc.token))
    deadline = asyncio.get_running_loop().time() + ready_within
    while not client.is_ready():
        if task.done():
            task.result()  # raises LoginFailure, PrivilegedIntentsRequired, ...
            raise RuntimeError("client stopped before it was ready")
        if asyncio.get_running_loop().time() > deadline:
            task.cancel()
            raise TimeoutError(f"client not ready within {ready_within}s")
        await asyncio.sleep(0.01)
    return task


async def stop_client(client: discord.Client, task: asyncio.Task[None]) -> None:
    """Close the client and wait for its ``start`` task to end."""
    await client.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 5.0)


@contextlib.asynccontextmanager
async def running(
    client: ClientT, dc: FakeDiscord, *, ready_within: float = 5.0
) -> AsyncIterator[ClientT]:
    """``async with running(client, dc):`` — connected and ready inside, closed after."""
    task = await start_client(client, dc, ready_within=ready_within)
    try:
        yield client
    finally:
        await stop_client(client, task)


def record_errors(client: discord.Client) -> list[BaseException]:
    """Collect exceptions raised in event handlers (discord.py only logs them)."""
    errors: list[BaseException] = []

    async def on_error(event: str, /, *args: Any, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            errors.append(exc)

    client.on_error = on_error  # type: ignore[method-assign]
    return errors
