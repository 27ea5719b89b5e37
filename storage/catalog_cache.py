"""Routing rules, queues, agents and "is any KB article public" kept between units of work.

Every new ticket reads them and they change a few times a year, so each process keeps what
it read, stamped with the database's `catalog_version` (migration 0012: triggers bump it on
any change to those tables, made by any process or by hand). A unit of work reads the version
once — on SQLite with its BEGIN, in the same thread hop — and uses what is kept only if it was
read at that version. A unit that changes the catalog itself reads the database directly and
keeps nothing (what it reads may yet be rolled back).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import sqlite_hop

VERSION_SQL = "SELECT version FROM catalog_version WHERE id = 1"


class SharedCatalog:
    """One process's values for one database, all read at `version`."""

    def __init__(self) -> None:
        self.version = -1
        self.values: dict[Hashable, Any] = {}


_SHARED: WeakKeyDictionary[Engine, SharedCatalog] = WeakKeyDictionary()


def shared_for(engine: Engine) -> SharedCatalog:
    shared = _SHARED.get(engine)
    if shared is None:
        shared = _SHARED[engine] = SharedCatalog()
    return shared


class Catalog:
    """One unit of work's view: `get` answers from the shared values when they are current."""

    def __init__(self, conn: AsyncConnection, shared: SharedCatalog | None) -> None:
        self._conn = conn
        self._shared = shared
        self._version: int | None = None
        self.changed = False

    @property
    def shared(self) -> bool:
        """Whether `get` may answer from (and fill) the values kept between units."""
        return self._shared is not None and not self.changed

    def mark_changed(self) -> None:
        """This unit writes to the catalog: from now on it reads the database and keeps
        nothing."""
        self.changed = True

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        shared = self._shared
        if shared is None or self.changed:
            return await load()
        version = await self.version()
        if version is None:  # the row is gone: nothing would tell us of a change
            return await load()
        if version != shared.version:  # changed since (or, restored from a backup, before)
            shared.version, shared.values = version, {}
        if key in shared.values:
            return shared.values[key]
        value = await load()  # read after the version: as new as it, or newer
        # not if another unit has since seen another version (PostgreSQL: units overlap)
        if shared.version == version and not self.changed:
            shared.values[key] = value
        return value

    async def version(self) -> int | None:
        """The catalog's version as this unit sees it; None without the row."""
        if self._version is None:
            rows = sqlite_hop.begin_read(self._conn, "catalog_version")
            if rows is None:
                rows = list(await self._conn.execute(text(VERSION_SQL)))
            self._version = int(rows[0][0]) if rows else -1
        return self._version if self._version >= 0 else None
