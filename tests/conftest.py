"""Shared test set-up: no network but loopback, and databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        raise ConnectionRefusedError(f"test network guard: {address!r} is not loopback")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        raise ConnectionRefusedError(f"test network guard: {address!r} is not loopback")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _network_guard() -> Iterator[None]:
    """Fail any connection that is not to this machine (asyncio uses sock_connect too)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    import asyncio.selector_events as se

    real_sock_connect = se.BaseSelectorEventLoop.sock_connect

    async def sock_connect(self: Any, sock: socket.socket, address: Any) -> Any:
        if not _allowed(address):
            raise ConnectionRefusedError(f"test network guard: {address!r} is not loopback")
        return await real_sock_connect(self, sock, address)

    se.BaseSelectorEventLoop.sock_connect = sock_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    se.BaseSelectorEventLoop.sock_connect = real_sock_connect  # type: ignore[method-assign]


def postgres_url() -> str | None:
    url = os.environ.get("DESKBOT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("DESKBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail("DESKBOT_REQUIRE_POSTGRES=1 but DESKBOT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need DESKBOT_TEST_POSTGRES_URL (make test sets it)")
    return url


async def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so each test starts from an empty database."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn)
    except Exception as exc:
        if os.environ.get("DESKBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


# What the foreign keys from history and outbox to tickets checked until migration 0014
# dropped them (a sweep paid for them row by row): no row names a ticket that is not there.
# Every database test ends with this check, so a bug that would have tripped them still fails.
ORPHANS = """
SELECT 'history', id, ticket_id FROM history h
 WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = h.ticket_id)
UNION ALL
SELECT 'outbox', id, ticket_id FROM outbox o
 WHERE o.ticket_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = o.ticket_id)
"""


async def orphan_rows(url: str) -> list[tuple[Any, ...]]:
    """History and outbox rows whose ticket does not exist (none when there are no tables)."""
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split(":///", 1)[-1]
        if not path or not Path(path).exists():
            return []
        with sqlite3.connect(path) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"history", "outbox", "tickets"} <= tables:
                return []
            return [tuple(r) for r in conn.execute(ORPHANS)]
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if await conn.fetchval("SELECT to_regclass('public.outbox') IS NULL"):
            return []
        return [tuple(r) for r in await conn.fetch(ORPHANS)]
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'deskbot.db'}"
    else:
        found = postgres_url()
        assert found is not None
        await reset_postgres(found)
        url = found
    yield url
    assert await orphan_rows(url) == [], "history or outbox rows of tickets that do not exist"


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'deskbot.db'}"
    yield url
    assert await orphan_rows(url) == [], "history or outbox rows of tickets that do not exist"
