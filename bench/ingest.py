"""Benchmark: inbound messages per second through the real gateway into SQLite (or PostgreSQL).

Each message goes the whole hot path: idempotency check, actor and customer lookup, ticket
create-or-update with the reopen rules, message row, history rows, outbox rows (ack + card for
new tickets). The database is preloaded with --preload tickets so lookups run against a
realistic table; on SQLite each run starts from a kept copy of exactly that database
(bench/.data/ingest-<N>.db; `--no-fresh` runs on top of what earlier runs added). Prints
throughput and latency, also without the first --warmup messages (the process's cold start).

    .venv/bin/python bench/ingest.py                      # SQLite, 100k tickets, 20k messages
    .venv/bin/python bench/ingest.py --rate 1000          # open loop: 1,000 messages/s offered
    .venv/bin/python bench/ingest.py --profile            # cProfile of the event-loop thread
    .venv/bin/python bench/ingest.py --url postgresql+asyncpg://postgres@127.0.0.1/deskbot_bench
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bot.bootstrap import build_app
from bot.config import Settings
from bot.messages import ConversationRef, Identity, InboundMessage
from storage import tables as t
from storage.engine import create_engine, is_sqlite
from storage.migrate import migrate

DATA = Path(__file__).resolve().parent / ".data"


async def fresh_copy(url: str, count: int) -> str:
    """SQLite: copy a database preloaded with exactly `count` tickets (made once, kept as
    ingest-<count>.db beside it) over the run's database, so that every run starts from the
    same state instead of on top of the tickets earlier runs added. Other URLs: unchanged."""
    path = make_url(url).database
    if not is_sqlite(url) or not path or path == ":memory:":
        return url
    target = Path(path)
    template = target.with_name(f"{target.stem}-{count}{target.suffix}")
    if not template.exists():
        made = f"sqlite+aiosqlite:///{template}"
        engine = create_engine(made)
        await migrate(engine)
        await preload(engine, count)
        await engine.dispose()  # the last connection checkpoints the log into the file
    for leftover in (target.with_name(target.name + s) for s in ("-wal", "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return url


async def preload(engine, count: int) -> int:  # type: ignore[no-untyped-def]
    """Bulk-insert `count` tickets (with customers, identities, one message each) once."""
    async with engine.connect() as conn:
        have = (await conn.execute(select(func.count()).select_from(t.tickets))).scalar_one()
    if have >= count:
        return int(have)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 5000
    async with engine.begin() as conn:
        for start in range(have, count, batch):
            ids = range(start + 1, min(start + batch, count) + 1)
            await conn.execute(
                insert(t.customers),
                [
                    {"id": i, "name": f"pre{i}", "email": f"pre{i}@example.com", "created_at": now}
                    for i in ids
                ],
            )
            await conn.execute(
                insert(t.identities),
                [{"platform": "bench", "external_id": f"pre{i}", "customer_id": i} for i in ids],
            )
            await conn.execute(
                insert(t.tickets),
                [
                    {
                        "id": i,
                        "subject": f"preloaded {i}",
                        "status": "open",
                        "priority": "normal",
                        "queue": "general",
                        "customer_id": i,
                        "tags": [],
                        "origin": "bench",
                        "conversation_key": f"bench:pre{i}:",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                insert(t.messages),
                [
                    {
                        "ticket_id": i,
                        "platform": "bench",
                        "external_id": f"pre-m{i}",
                        "author_kind": "customer",
                        "author_id": i,
                        "author_name": f"pre{i}",
                        "visibility": "public",
                        "text": "hello",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        if engine.dialect.name == "postgresql":
            for table in ("customers", "identities", "tickets", "messages"):
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    if engine.dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would have them on a database that grew over time:
        # right after a bulk load the planner thinks the loaded platform is rare and reads
        # every identity of it for each prefetch (measured: 113 messages/s instead of ~600).
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    return count


async def run(
    url: str,
    preload_count: int,
    messages: int,
    concurrency: int,
    reply_ratio: float,
    seed: int,
    rate: float = 0.0,
    profile: bool = False,
    warmup: int = 0,
    fresh: bool = True,
) -> None:
    if fresh:
        url = await fresh_copy(url, preload_count)
    engine = create_engine(url)
    await migrate(engine)  # the benchmark's own database, kept between runs: bring it up to date
    await engine.dispose()
    app = await build_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    await preload(app.engine, preload_count)
    gc.freeze()  # as `deskbot run` does once started
    rng = random.Random(seed)
    run_id = f"{time.time_ns():x}"
    latencies: list[float] = []
    order: list[int] = []  # message number of each latency
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(i)

    def message(i: int) -> InboundMessage:
        if rng.random() < reply_ratio:
            n = rng.randint(1, preload_count)
            who, conv = f"pre{n}", f"pre{n}"
        else:
            who, conv = f"{run_id}-c{i}", f"{run_id}-c{i}"
        return InboundMessage(
            "bench",
            f"{run_id}-m{i}",
            Identity("bench", who, who),
            ConversationRef("bench", conv),
            f"message {i}: the printer is on fire again",
        )

    async def timed(msg: InboundMessage, t0: float) -> None:
        await app.gateway.receive(msg)
        latencies.append(time.perf_counter() - t0)
        order.append(int(msg.message_id.rsplit("-m", 1)[1]))

    async def producer() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await timed(message(i), time.perf_counter())

    async def open_loop() -> None:
        """Messages arrive on a schedule (Poisson, `rate` per second) whether or not the
        earlier ones are done, as they do from many customers; latency counts from the
        scheduled arrival, so a stall that delays later arrivals is not hidden."""
        arrivals = random.Random(seed + 1)
        due = time.perf_counter()
        # only the messages in flight are kept: a list of every finished task made the
        # collector's full passes grow to 14 ms, stalls a server does not have
        pending: set[asyncio.Task[None]] = set()
        for i in range(messages):
            due += arrivals.expovariate(rate)
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            task = asyncio.create_task(timed(message(i), due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        while pending:
            await asyncio.gather(*pending)

    profiler = cProfile.Profile() if profile else None
    started, cpu0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    if rate:
        await open_loop()
    else:
        await asyncio.gather(*(producer() for _ in range(concurrency)))
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    if profiler:  # the event-loop thread only; the SQLite thread's work shows as waiting
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    await app.stop()
    steady = sorted(x for x, i in zip(latencies, order, strict=True) if i >= warmup)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"database: {url.split('://')[0]}  preloaded tickets: {preload_count:,}")
    mix = f"replies to existing: {reply_ratio:.0%}"
    load = f"offered {rate:,.0f}/s (open loop)" if rate else f"concurrency: {concurrency}"
    print(f"messages: {messages:,}  {load}  {mix}")
    print(f"throughput: {messages / elapsed:,.0f} messages/s  ({elapsed:.2f} s)")
    print(f"CPU per message (all threads of this process): {cpu / messages * 1000:.2f} ms")
    print(
        f"latency ms: p50 {p(0.50):.2f}  p90 {p(0.90):.2f}  p99 {p(0.99):.2f}  "
        f"max {latencies[-1] * 1000:.2f}  mean {statistics.mean(latencies) * 1000:.2f}"
    )
    if warmup and steady:  # the process's cold start left out: empty caches, first compiles
        q = lambda x: steady[min(len(steady) - 1, int(x * len(steady)))] * 1000  # noqa: E731
        print(
            f"after the first {warmup:,} messages: p50 {q(0.50):.2f}  p90 {q(0.90):.2f}  "
            f"p99 {q(0.99):.2f}  max {steady[-1] * 1000:.2f}"
        )
    py = platform.python_version()
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python {py}")


def install_sql_profile() -> Callable[[], None]:
    """Time every SQL statement; returns a function that prints the costliest ones."""
    from collections import Counter, defaultdict

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    total: defaultdict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, stmt: str, *args: Any) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, stmt: str, *args: Any) -> None:
        key = " ".join(stmt.split())[:100]
        total[key] += time.perf_counter() - conn.info["t0"]
        count[key] += 1

    def report() -> None:
        print("costliest statements (total ms, count, statement):")
        for key, secs in sorted(total.items(), key=lambda kv: -kv[1])[:30]:
            print(f"  {secs * 1000:8.0f} {count[key]:7d}  {key}")

    return report


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", default=f"sqlite+aiosqlite:///{DATA / 'ingest.db'}")
    ap.add_argument("--preload", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--reply-ratio", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--rate", type=float, default=0.0, help="open loop: messages offered per second"
    )
    ap.add_argument(
        "--warmup", type=int, default=1000, help="also print latency without the first N"
    )
    ap.add_argument(
        "--fresh",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SQLite: start from a copy of the preloaded database (exactly --preload tickets)",
    )
    ap.add_argument("--sql-profile", action="store_true", help="print the costliest statements")
    ap.add_argument("--profile", action="store_true", help="cProfile the event-loop thread")
    args = ap.parse_args()
    report = install_sql_profile() if args.sql_profile else None
    DATA.mkdir(exist_ok=True)
    asyncio.run(
        run(
            args.url,
            args.preload,
            args.messages,
            args.concurrency,
            args.reply_ratio,
            args.seed,
            args.rate,
            args.profile,
            args.warmup,
            args.fresh,
        )
    )
    if report:
        report()


if __name__ == "__main__":
    main()
