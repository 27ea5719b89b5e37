"""Benchmark: the scheduler's sweep over 1,000,000 tickets, 50,000 open, 500 due.

Loads the tickets once (SQLite: stdlib sqlite3 executemany; PostgreSQL: COPY) and keeps the
database between runs (SQLite under bench/.data/). Then prints:

* the "what is due" query (and the "next due" query) alone, median and p95, plus their plans;
  and "breaching soon" (App Home, `list due:1h`: due within the hour or breached, LIMIT 20);
* a full sweep that fires the 500 due SLA breaches (history, card edits, which the
  dispatcher draws when it sends them: bench/sla_dispatch.py, and the notices: the tickets
  share a queue, so one digest, bot/services/sla_notices.py), median over rounds; the due
  tickets are reset between rounds; then sweeps firing only 50 and 100 of them (``--fire``),
  the rest pushed an hour ahead;
* tracemalloc peak of a sweep as the number of open tickets grows (memory should stay flat);
* a CPU reference (a fixed Python loop) before and after, as this class of machine's speed
  drifts over a session.

    .venv/bin/python bench/sla_sweep.py
    .venv/bin/python bench/sla_sweep.py --url postgresql+asyncpg://postgres@127.0.0.1/sla_bench
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.services.ports import FakeClock
from storage import tables as t
from storage import timers_repo
from storage.engine import create_engine
from storage.migrate import migrate

DATA = Path(__file__).resolve().parent / ".data"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=30)
HOUR = timedelta(hours=1)
COLUMNS = (
    "id", "subject", "status", "priority", "queue", "customer_id", "tags", "origin",
    "conversation_key", "created_at", "updated_at", "first_response_due", "resolution_due",
    "sla_timers", "claim_expires_at", "paused_secs", "version", "sla_due_at",
)  # fmt: skip


def due_ids(open_count: int, due: int) -> list[int]:
    step = open_count // due
    return [1 + i * step for i in range(due)]


def ticket_row(i: int, open_count: int, due_set: set[int]) -> tuple[Any, ...]:
    """Open tickets are ids 1..open_count; every open one has future timers except the due."""
    is_open = i <= open_count
    if i in due_set:
        at = NOW - timedelta(minutes=1)
    elif is_open:
        at = NOW + timedelta(minutes=1 + i % 2880)
    else:
        at = CREATED + timedelta(hours=4)  # stale values on closed tickets, as in real life
    timers = {"first_response:breach": at.isoformat()}
    return (
        i, f"ticket {i}", "open" if is_open else "closed", "normal", "general", 1, [], "bench",
        f"bench:c{i}:", CREATED, CREATED, at, at + timedelta(hours=4), timers,
        NOW + timedelta(hours=1) if is_open and i % 5 == 0 else None, 0, 1, at if is_open else None,
    )  # fmt: skip


def alarm_row(i: int, open_count: int, due_set: set[int]) -> tuple[Any, ...] | None:
    """The pending alarm row of an open ticket (sla_alarms): its breach, as its sla_timers say."""
    if i > open_count:
        return None
    at = ticket_row(i, open_count, due_set)[11]
    return (at, i, "first_response:breach")


def load_sqlite(path: str, total: int, open_count: int, due: set[int]) -> None:
    def ts(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(v, dict | list):
            return json.dumps(v)
        return v

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    sql = f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    batch = 20_000
    for start in range(1, total + 1, batch):
        rows = [
            tuple(ts(v) for v in ticket_row(i, open_count, due))
            for i in range(start, min(start + batch, total + 1))
        ]
        conn.executemany(sql, rows)
    alarms = [alarm_row(i, open_count, due) for i in range(1, open_count + 1)]
    conn.executemany(
        "INSERT INTO sla_alarms (at, ticket_id, alarm) VALUES (?, ?, ?)",
        [(ts(r[0]), r[1], r[2]) for r in alarms if r is not None],
    )
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'tickets'", (total,))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(url: str, total: int, open_count: int, due: set[int]) -> None:
    import asyncpg

    raw = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        batch = 50_000
        for start in range(1, total + 1, batch):
            rows = [
                tuple(
                    json.dumps(v) if isinstance(v, dict | list) else v
                    for v in ticket_row(i, open_count, due)
                )
                for i in range(start, min(start + batch, total + 1))
            ]
            await raw.copy_records_to_table("tickets", records=rows, columns=list(COLUMNS))
        alarms = [alarm_row(i, open_count, due) for i in range(1, open_count + 1)]
        await raw.copy_records_to_table(
            "sla_alarms",
            records=[r for r in alarms if r is not None],
            columns=["at", "ticket_id", "alarm"],
        )
        await raw.execute(f"SELECT setval(pg_get_serial_sequence('tickets', 'id'), {total})")
        await raw.execute("ANALYZE tickets")
        await raw.execute("ANALYZE sla_alarms")
    finally:
        await raw.close()


async def prepare(app: App, url: str, total: int, open_count: int, due: list[int]) -> None:
    async with app.engine.begin() as conn:
        have = (await conn.execute(select(func.count()).select_from(t.tickets))).scalar_one()
        if have >= total:
            return
        if have:
            raise SystemExit(f"{url} holds {have} tickets, not {total}: remove it first")
        exists = (await conn.execute(select(t.customers.c.id).where(t.customers.c.id == 1))).first()
        if not exists:
            await conn.execute(t.customers.insert().values(id=1, name="bench", created_at=CREATED))
    started = time.perf_counter()
    if app.engine.dialect.name == "sqlite":
        load_sqlite(app.engine.url.database or "", total, open_count, set(due))
    else:
        await load_postgres(url, total, open_count, set(due))
    print(f"loaded {total:,} tickets in {time.perf_counter() - started:.1f} s")


async def reset_due(app: App, due: list[int], open_count: int, fire: int | None = None) -> None:
    """Put the due tickets back to "breach due a minute ago" (only the first ``fire`` of them;
    the others an hour ahead), with their pending alarm rows, and drop what the last sweep
    wrote; close any tickets a memory step opened beyond ``open_count``."""
    at = NOW - timedelta(minutes=1)
    later = NOW + timedelta(hours=1)
    fire = len(due) if fire is None else fire
    async with app.engine.begin() as conn:
        await conn.execute(t.history.delete().where(t.history.c.ticket_id.in_(due)))
        await conn.execute(t.outbox.delete())
        await conn.execute(t.sla_alarms.delete().where(t.sla_alarms.c.ticket_id.in_(due)))
        for ids, when in ((due[:fire], at), (due[fire:], later)):
            if not ids:
                continue
            await conn.execute(
                t.tickets.update()
                .where(t.tickets.c.id.in_(ids))
                .values(
                    status="open",
                    warn_at=None,
                    first_response_due=when,
                    sla_due_at=when,
                    sla_timers={"first_response:breach": when.isoformat()},
                    version=1,
                )
            )
            await conn.execute(
                t.sla_alarms.insert(),
                [{"at": when, "ticket_id": i, "alarm": "first_response:breach"} for i in ids],
            )
        opened = t.tickets.c.id > open_count
        await conn.execute(t.sla_alarms.delete().where(t.sla_alarms.c.ticket_id > open_count))
        await conn.execute(
            t.tickets.update()
            .where(opened, t.tickets.c.status == "open")
            .values(status="closed", sla_due_at=None, claim_expires_at=None)
        )


async def vacuum(app: App, url: str) -> None:
    """PostgreSQL: what autovacuum does between sweeps in production. Each round deletes and
    writes again the same 500 alarm rows at the same time, and deletes the history and outbox
    rows the last sweep wrote; their dead index entries would otherwise be counted against the
    queries and the INSERTs, more with every run (servers set up for CI, this machine's among
    them, run with autovacuum off: 126,000 dead history rows after this session's first runs
    had made the sweep slower and far noisier)."""
    if app.engine.dialect.name != "postgresql":
        return
    import asyncpg

    raw = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await raw.execute("VACUUM ANALYZE tickets, sla_alarms, history, outbox")
    finally:
        await raw.close()


async def open_more(app: App, open_count: int, new_count: int) -> None:
    later = NOW + 2 * HOUR
    if new_count <= open_count:
        return
    async with app.engine.begin() as conn:
        ids = t.tickets.c.id > open_count, t.tickets.c.id <= new_count
        await conn.execute(
            t.tickets.update()
            .where(*ids)
            .values(
                status="open",
                sla_due_at=later,
                first_response_due=later,
                sla_timers={"first_response:breach": later.isoformat()},
            )
        )
        await conn.execute(
            t.sla_alarms.insert(),
            [
                {"at": later, "ticket_id": i, "alarm": "first_response:breach"}
                for i in range(open_count + 1, new_count + 1)
            ],
        )


async def timed(fn: Any, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


async def explain(app: App) -> None:
    pg = app.engine.dialect.name == "postgresql"
    for name, stmt in (("due", timers_repo._DUE), ("next", timers_repo._NEXT)):
        dialect = (
            postgresql.dialect(paramstyle="named") if pg else sqlite.dialect(paramstyle="named")
        )
        compiled = stmt.compile(dialect=dialect)
        params = {**compiled.params, "now": NOW}
        prefix = "EXPLAIN ANALYZE " if pg else "EXPLAIN QUERY PLAN "
        sql = str(compiled)
        async with app.engine.connect() as conn:
            rows = (await conn.execute(text(prefix + sql), params)).all()
        print(f"plan of the {name!r} query:")
        for r in rows:
            print("   ", r[-1])


async def run(
    url: str, total: int, open_count: int, due_count: int, rounds: int, fire: list[int]
) -> None:
    print(f"before: {cpu_reference()}")
    clock = FakeClock(NOW)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(url)
    await migrate(engine)  # the kept database may predate newer migrations
    await engine.dispose()
    app = await build_app(settings, clock=clock)
    due = due_ids(open_count, due_count)
    await prepare(app, url, total, open_count, due)
    await reset_due(app, due, open_count)
    await vacuum(app, url)
    gc.freeze()  # as `deskbot run` does once started (bot/cli.py)

    async def due_query() -> None:
        async with app.uow() as uow:
            found, _ = await uow.tickets.due_for_timers(NOW)
        assert len(found) == min(due_count, timers_repo.DUE_LIMIT), len(found)

    async def next_query() -> None:
        async with app.uow() as uow:
            await uow.tickets.next_due_time()

    async def breaching_soon() -> None:
        # App Home and `list due:1h`: running tickets due within the hour or breached
        async with app.uow() as uow:
            found = await uow.tickets.due_before(NOW + timedelta(hours=1))
        assert len(found) == 20, len(found)

    q50, q95 = await timed(due_query, rounds * 5)
    n50, n95 = await timed(next_query, rounds * 5)
    b50, b95 = await timed(breaching_soon, rounds * 5)
    await explain(app)

    sweeps = []
    for _ in range(rounds):
        await reset_due(app, due, open_count)
        await vacuum(app, url)
        started = time.perf_counter()
        fired = await app.scheduler.sweep(NOW)
        sweeps.append((time.perf_counter() - started) * 1000)
        assert fired == due_count, fired
    empty50, _ = await timed(lambda: app.scheduler.sweep(NOW), rounds)
    fewer = {}
    for n in (n for n in fire if n < due_count):
        samples = []
        for _ in range(rounds):
            await reset_due(app, due, open_count, fire=n)
            await vacuum(app, url)
            started = time.perf_counter()
            assert await app.scheduler.sweep(NOW) == n
            samples.append((time.perf_counter() - started) * 1000)
        fewer[n] = statistics.median(samples)

    db = app.engine.dialect.name
    print(f"database: {db}  tickets: {total:,}  open: {open_count:,}  due: {due_count}")
    print(f"due query:  median {q50:.2f} ms  p95 {q95:.2f} ms  (LIMIT {timers_repo.DUE_LIMIT})")
    print(f"next query: median {n50:.2f} ms  p95 {n95:.2f} ms")
    print(f"breaching soon (App Home, LIMIT 20): median {b50:.2f} ms  p95 {b95:.2f} ms")
    print(f"sweep with nothing due: median {empty50:.2f} ms")
    print(
        f"sweep firing {due_count} breaches: median {statistics.median(sweeps):.0f} ms "
        f"({statistics.median(sweeps) / due_count:.2f} ms per ticket), min {min(sweeps):.0f} ms"
    )
    for n, ms in fewer.items():
        print(f"sweep firing {n} of them (the rest an hour ahead): median {ms:.0f} ms")

    print(f"memory (tracemalloc peak) of one sweep firing {due_count}, by open tickets:")
    current = open_count
    for target in (open_count, open_count * 2, open_count * 4):
        await open_more(app, current, target)
        current = target
        await reset_due(app, due, current)
        tracemalloc.start()
        started = time.perf_counter()
        fired = await app.scheduler.sweep(NOW)
        elapsed = (time.perf_counter() - started) * 1000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"  open {target:>7,}: peak {peak / 1024:,.0f} KiB, "
            f"{fired} fired, {elapsed:.0f} ms (traced)"
        )
    await reset_due(app, due, open_count)
    await app.stop()
    machine = f"{platform.machine()} · {os.cpu_count()} cores"
    print(f"machine: {machine} · Python {platform.python_version()} · {cpu_reference()}")


def cpu_reference() -> str:
    """A fixed pure-Python loop timed before and after, to say how fast the CPU was: this
    class of virtual machine runs it anywhere from ~13 to ~22 ms over a session, and the
    sweep's Python share moves with it, so figures of different runs compare only beside it."""
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i
        samples.append((time.perf_counter() - started) * 1000)
    return f"CPU reference loop {statistics.median(samples):.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", default=f"sqlite+aiosqlite:///{DATA / 'sla_sweep.db'}")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=50_000)
    ap.add_argument("--due", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fire", default="50,100", help="also time sweeps firing this many of them")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    fire = [int(n) for n in args.fire.split(",") if n]
    asyncio.run(run(args.url, args.tickets, args.open, args.due, args.rounds, fire))


if __name__ == "__main__":
    main()
