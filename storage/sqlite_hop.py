"""One thread hop per SQLite statement instead of four.

aiosqlite runs every call on its own thread, and SQLAlchemy's aiosqlite cursor makes four calls
per statement (open a cursor, execute, fetch all, close), each a round trip through a queue,
the GIL and the event loop's self-pipe: measured 0.53 ms of CPU for `SELECT 1` against 0.08 ms
for one aiosqlite call. A group commit runs about fifteen statements, so the hops were most of
an inbound message's fixed cost. This cursor does the four steps in one function on the
connection's thread. It relies on aiosqlite's `_execute` (queue a function for its thread) and
`_conn` (the sqlite3 connection), both stable across aiosqlite 0.17–0.22; the tests pin the
behaviour (rows, rowcount, lastrowid, errors) on the real driver.

A transaction's `BEGIN IMMEDIATE` rides along in the hop of its first statement
(`defer_begin`), and a commit or rollback of a transaction that ran no statement makes no
hop: one hop (~0.15 ms) fewer per unit of work, whose fixed cost is ~2.9 ms on the ingest
path (the pool's reset on return makes none either unless a transaction is open).

Small reads every unit of work needs (`read_at_begin`: sqlite_sequence for ids chosen before
insert, the catalog's version) run in the hop that sends BEGIN, and `begin_read` answers from
them until the transaction writes: under BEGIN IMMEDIATE nobody else can change them.

Bulk INSERTs whose result nobody reads (`defer_many`: the write-behind buffers, while a unit
of work commits) ride in the next hop too, in order, ahead of that hop's own statement: usually
the COMMIT. A unit of work's half a dozen INSERTs and its COMMIT are then one hop. An error in
one of them is raised by that hop (SQLAlchemy's error type, as for any statement), so the
commit fails as before; a rollback drops what was not sent.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.dialects.sqlite import aiosqlite as dialect_module
from sqlalchemy.ext.asyncio import AsyncConnection

_Base = dialect_module.AsyncAdapt_aiosqlite_cursor


_BEGIN = "_deskbot_begin"  # attribute on the aiosqlite connection: BEGIN still to be sent
_PENDING = "_deskbot_pending"  # and the deferred writes still to be sent: [(sql, rows)]
_COMMITTING = "_deskbot_committing"  # a unit of work is writing its buffers and committing
_READS = "_deskbot_begin_reads"  # what BEGIN_READS found, while the transaction wrote nothing

Pending = list[tuple[str, list[Any]]]
Reads = dict[str, list[Any]]
BEGIN_READS: dict[str, str] = {}  # name → SELECT run right after each BEGIN (`read_at_begin`)


def _send(conn: sqlite3.Connection, begin: bool, pending: Pending | None) -> Reads | None:
    """On the connection's thread: what is owed before the next statement. Returns what
    BEGIN_READS found when it sent BEGIN (and no write came with it)."""
    reads: Reads | None = None
    if begin:
        conn.execute("BEGIN IMMEDIATE")
        reads = {}
        for name, sql in BEGIN_READS.items():
            try:
                reads[name] = conn.execute(sql).fetchall()
            except sqlite3.OperationalError:  # a database not migrated yet: no such table
                continue
    for sql, rows in pending or ():
        reads = None
        conn.executemany(sql, rows)
    return reads


def _run(
    conn: sqlite3.Connection,
    operation: str,
    parameters: Any,
    many: bool,
    begin: bool = False,
    pending: Pending | None = None,
) -> tuple[Any, list[Any], int | None, int, Reads | None]:
    """On the connection's thread: the whole statement (after the transaction's deferred
    BEGIN and writes, if any), returning what the cursor exposes."""
    reads = _send(conn, begin, pending)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount, reads
    finally:
        cursor.close()


class OneHopCursor(_Base):
    """SQLAlchemy's aiosqlite cursor, with execute and executemany in one hop each."""

    __slots__ = ()

    def _hop(self, operation: str, parameters: Any, many: bool) -> None:
        try:
            aio = self._connection
            begin, pending = _take_begin(aio), _take_pending(aio)
            description, rows, lastrowid, rowcount, reads = self.await_(
                aio._execute(_run, aio._conn, operation, parameters, many, begin, pending)
            )
        except Exception as error:
            _forget_reads(aio)
            self._adapt_connection._handle_exception(error)
            raise  # pragma: no cover - _handle_exception always raises
        if begin or pending:
            aio.__dict__[_READS] = reads  # None if writes went with it
        if operation.lstrip()[:6].upper() != "SELECT":
            _forget_reads(aio)  # it may have written what they read
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows)
        else:
            self.lastrowid, self.rowcount = lastrowid, rowcount

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._hop(operation, parameters, False)

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        self._hop(operation, seq_of_parameters, True)


def _take_begin(aio: Any) -> bool:
    """Whether a deferred BEGIN is pending on this connection; it is then no longer."""
    if aio.__dict__.get(_BEGIN):
        aio.__dict__[_BEGIN] = False
        return True
    return False


def _take_pending(aio: Any) -> Pending | None:
    pending: Pending | None = aio.__dict__.get(_PENDING)
    if pending:
        aio.__dict__[_PENDING] = None
    return pending or None


def _forget_reads(aio: Any) -> None:
    aio.__dict__[_READS] = None


def read_at_begin(name: str, sql: str) -> None:
    """Run the SELECT `sql` right after each transaction's BEGIN, in the same hop, so that
    `begin_read(conn, name)` can answer without a hop of its own."""
    BEGIN_READS[name] = sql


def begin_read(conn: AsyncConnection, name: str) -> list[Any] | None:
    """The rows of `read_at_begin(name, …)` as of this transaction's BEGIN, or None: not sent
    yet, not SQLite, or the transaction has written since (they may be out of date)."""
    sync = conn.sync_connection
    if sync is None or conn.dialect.name != "sqlite":
        return None
    try:
        driver = sync.connection.driver_connection
    except Exception:  # closed or invalidated: nothing was read
        return None
    reads: Reads | None = getattr(driver, "__dict__", {}).get(_READS)
    return reads.get(name) if reads else None


def defer_many(driver_connection: Any, sql: str, rows: list[Any]) -> bool:
    """Run `executemany(sql, rows)` in this connection's next hop, before its statement; False
    (nothing queued) unless a unit of work is committing (`commit_writes`).

    Only then: an error in a deferred row surfaces at the next statement, and between a unit's
    buffered writes and its COMMIT no code runs that could mistake it for its own (a caller
    catching IntegrityError around a SAVEPOINT, say)."""
    if not driver_connection.__dict__.get(_COMMITTING):
        return False
    pending = driver_connection.__dict__.get(_PENDING)
    if pending is None:
        pending = driver_connection.__dict__[_PENDING] = []
    pending.append((sql, rows))
    return True


@contextmanager
def commit_writes(driver_connection: Any) -> Iterator[None]:
    """While a unit of work writes its buffers and commits: bulk INSERTs ride with the next
    statement (`defer_many`)."""
    driver_connection.__dict__[_COMMITTING] = True
    try:
        yield
    finally:
        driver_connection.__dict__[_COMMITTING] = False


def defer_begin(driver_connection: Any) -> None:
    """Send `BEGIN IMMEDIATE` with the next statement on this connection (the engine's
    "begin" event), instead of in a hop of its own."""
    driver_connection.__dict__[_BEGIN] = True


def _flush_begin(adapter: Any) -> None:
    """Send a pending BEGIN and deferred writes now (before anything that does not go
    through `_hop`)."""
    aio = adapter._connection
    begin, pending = _take_begin(aio), _take_pending(aio)
    _forget_reads(aio)  # a statement follows that does not go through `_hop`
    if begin or pending:
        try:
            adapter.await_(aio._execute(_send, aio._conn, begin, pending))
        except Exception as error:  # as the cursor does: the driver's error, SQLAlchemy's type
            adapter._handle_exception(error)
            raise  # pragma: no cover - _handle_exception always raises


_Connection = dialect_module.AsyncAdapt_aiosqlite_connection
_stock_rollback = _Connection.rollback
_stock_execute = _Connection.execute


def _send_and_commit(conn: sqlite3.Connection, begin: bool, pending: Pending | None) -> None:
    """On the connection's thread: the deferred writes, then COMMIT. If anything fails the
    transaction is rolled back here: SQLAlchemy counts a failed commit as the end of its
    transaction and sends no ROLLBACK, and SQLite would otherwise keep it open."""
    try:
        _send(conn, begin, pending)
        conn.commit()
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def _cursor(self: Any, server_side: bool = False) -> Any:
    if server_side:
        _flush_begin(self)
        return dialect_module.AsyncAdapt_aiosqlite_ss_cursor(self)
    return OneHopCursor(self)


def _commit(self: Any) -> None:
    aio = self._connection
    _forget_reads(aio)
    begin, pending = _take_begin(aio), _take_pending(aio)
    if begin and not pending:
        return  # a transaction that ran nothing has nothing to end
    try:  # the deferred writes and the COMMIT: one hop
        self.await_(aio._execute(_send_and_commit, aio._conn, begin, pending))
    except Exception as error:
        self._handle_exception(error)
        raise  # pragma: no cover - _handle_exception always raises


def _rollback(self: Any) -> None:
    aio = self._connection
    _forget_reads(aio)
    _take_pending(aio)  # never sent: nothing to undo
    if _take_begin(aio):
        return  # nothing was begun
    if aio._connection is not None and not aio._connection.in_transaction:
        return  # nothing open (so the pool's reset on return costs no hop either)
    _stock_rollback(self)  # also reports a closed connection as SQLAlchemy expects


def _execute(self: Any, *args: Any, **kw: Any) -> Any:
    _flush_begin(self)
    return _stock_execute(self, *args, **kw)


def install() -> None:
    """Make SQLAlchemy's aiosqlite connections hand out the one-hop cursor and take a
    deferred BEGIN (idempotent)."""
    _Connection.cursor = _cursor  # type: ignore[method-assign]
    _Connection.commit = _commit  # type: ignore[method-assign]
    _Connection.rollback = _rollback  # type: ignore[method-assign]
    _Connection.execute = _execute  # type: ignore[method-assign]
