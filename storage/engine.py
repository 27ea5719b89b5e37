"""Engine construction: SQLite pragmas and transaction mode, PostgreSQL pool settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import sqlite_hop
from storage.catalog_cache import VERSION_SQL
from storage.ids import SEQUENCES_SQL

CHECKPOINT_PAGES = 500  # SQLite wal_autocheckpoint (pages of 4 KiB)
CACHE_KIB = 32 * 1024  # SQLite page cache per connection


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def dump_json(value: Any) -> str:
    """JSON columns (history data, outbox payloads, tags) are written on every message: orjson
    is several times faster than the standard library here; int keys become strings as with json."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine. On SQLite: WAL, foreign keys, busy timeout, and `BEGIN IMMEDIATE`.

    pysqlite's own transaction handling would defer the write lock until the first write, so
    two concurrent read-then-write transactions deadlock; taking the lock at BEGIN serialises
    writers instead, and also makes SAVEPOINT work as documented.
    """
    kwargs.setdefault("json_serializer", dump_json)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    sqlite_hop.install()
    sqlite_hop.read_at_begin("sqlite_sequence", SEQUENCES_SQL)  # storage/ids.py
    sqlite_hop.read_at_begin("catalog_version", VERSION_SQL)  # storage/catalog_cache.py
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # The pool's rollback when a connection goes back costs no thread hop unless a
    # transaction is open (storage/sqlite_hop.py), as after a failed COMMIT it can be.
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Inbound latency (bench/ingest.py, docs/benchmarks.md): the commit that takes the
        # write-ahead log past this many pages copies it into the database first, and every
        # message of its group waits. 500 instead of SQLite's 1,000 makes those stalls half as
        # long (twice as often): p99 at 10–12 senders 21–26 → 16–20 ms for ~2 % throughput.
        # Checkpointing beside the writers or between groups was measured and not kept (p99
        # rose: writers waited on the checkpointer's locks).
        cur.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        # a writer updates a dozen indexes per message: keep their pages (SQLite's default
        # cache is 2 MB) rather than read them again from the OS each group
        cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # sent with the transaction's first statement, in the same thread hop
        sqlite_hop.defer_begin(conn.connection.driver_connection)

    return engine
