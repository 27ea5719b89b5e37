"""Benchmark: `/report 30d` and `/report 30d by agent` on 1,000,000 tickets / 5,000,000 messages.

Generates a year of help-desk data once (kept under bench/.data/ and in the PostgreSQL
database between runs), then times the report through the real gateway as a lead would run
it: SQL aggregates, text, and the chart. Prints the SQL+text time and the chart time apart,
and checks that SQLite and PostgreSQL produce the same report text.

    .venv/bin/python bench/report.py                       # both databases, 1M / 5M
    .venv/bin/python bench/report.py --tickets 100000 --skip-pg
    .venv/bin/python bench/report.py --years 3   # the same tickets over three years
    .venv/bin/python bench/report.py --profile    # each aggregate alone, one at a time
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report_data import (
    AGENTS,
    CUSTOMERS,
    HISTORY_COLS,
    MESSAGE_COLS,
    NOW,
    RATING_COLS,
    TAG_COLS,
    TICKET_COLS,
    chunks,
    sqlite_ts,
)  # fmt: skip
from sqlalchemy import func, select

from bot.bootstrap import build_app
from bot.config import Settings
from bot.messages import CommandInvocation, Identity
from bot.services.ports import FakeClock
from storage import tables as tb
from storage.engine import create_engine
from storage.migrate import ensure_schema, migrate

DATA = Path(__file__).resolve().parent / ".data"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/deskbot_report_bench"
LEAD = Identity("console", "lead", "lead")
COMMANDS = ("report 30d", "report 30d by agent")
AGENT_COLS = ("id", "name", "role", "queues", "skills", "created_at")


async def ticket_count(url: str) -> int:
    engine = create_engine(url)
    try:
        await ensure_schema(engine)
    except Exception:
        await migrate(engine)  # an older bench database: add the new indexes
    async with engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(tb.tickets))).scalar_one()
    await engine.dispose()
    return int(n)


def people() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    agents = [(i, f"agent{i:02d}", "agent", "[]", "[]", NOW) for i in range(1, AGENTS + 1)]
    agents.append((AGENTS + 1, "lead", "lead", "[]", "[]", NOW))
    customers = [(i, f"customer {i}", NOW) for i in range(1, CUSTOMERS + 1)]
    return agents, customers


def load_sqlite(path: Path, tickets: int, mpt: float, span: timedelta) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    agents, customers = people()

    def put(table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ",".join("?" * len(cols))
        db.executemany(
            f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
            [tuple(sqlite_ts(v) for v in r) for r in rows],
        )

    put("agents", AGENT_COLS, agents)
    put("customers", ("id", "name", "created_at"), customers)
    for chunk in chunks(tickets, mpt, span=span):
        put("tickets", TICKET_COLS, chunk.tickets)
        put("messages", MESSAGE_COLS, chunk.messages)
        put("history", HISTORY_COLS, chunk.history)
        put("ratings", RATING_COLS, chunk.ratings)
        put("ticket_tags", TAG_COLS, chunk.tags)
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def load_pg(url: str, tickets: int, mpt: float, span: timedelta) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    agents, customers = people()
    await conn.copy_records_to_table("agents", records=agents, columns=list(AGENT_COLS))
    await conn.copy_records_to_table("customers", records=customers,
                                     columns=["id", "name", "created_at"])  # fmt: skip
    for chunk in chunks(tickets, mpt, span=span):
        for table, cols, rows in (
            ("tickets", TICKET_COLS, chunk.tickets),
            ("messages", MESSAGE_COLS, chunk.messages),
            ("history", HISTORY_COLS, chunk.history),
            ("ratings", RATING_COLS, chunk.ratings),
            ("ticket_tags", TAG_COLS, chunk.tags),
        ):
            await conn.copy_records_to_table(table, records=rows, columns=list(cols))
    for table in ("agents", "customers", "tickets", "messages", "history"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    await conn.execute("VACUUM ANALYZE")
    await conn.close()


async def prepare(url: str, tickets: int, mpt: float, span: timedelta) -> None:
    have = await ticket_count(url)
    if have == tickets:
        return
    if have:
        raise SystemExit(f"{url} holds {have} tickets, not {tickets}: drop it or use another")
    began = time.perf_counter()
    if url.startswith("sqlite"):
        await asyncio.to_thread(load_sqlite, Path(url.split("///", 1)[1]), tickets, mpt, span)
    else:
        await load_pg(url, tickets, mpt, span)
    print(f"  generated {tickets:,} tickets in {time.perf_counter() - began:.0f} s", flush=True)


async def counts(app: Any) -> str:
    async with app.engine.connect() as conn:
        found = [
            (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (tb.tickets, tb.messages, tb.history, tb.ratings)
        ]
    return "tickets {:,} · messages {:,} · history {:,} · ratings {:,}".format(*found)


async def bench(url: str, runs: int) -> dict[str, str]:
    settings = Settings(database_url=url, leads="console:lead", _env_file=None,  # type: ignore[call-arg]
                        report_timezone="UTC")  # fmt: skip
    app = await build_app(settings, clock=FakeClock(NOW))
    print(f"  {await counts(app)}")
    texts: dict[str, str] = {}
    from bot.reports.chart import render_chart
    from bot.reports.figures import Scope
    from bot.reports.request import parse_request
    from bot.reports.runner import produce

    for command in COMMANDS:
        full, sql, chart, cpu = [], [], [], []
        for i in range(runs + 1):
            began, cpu_began = time.perf_counter(), time.process_time()
            reply = await app.gateway.execute(CommandInvocation("console", LEAD, command))
            elapsed = time.perf_counter() - began
            used = time.process_time() - cpu_began  # this process, every thread
            assert reply.ok and reply.files, reply.text
            request = parse_request(command.removeprefix("report "))
            began = time.perf_counter()
            out = await produce(app.bus, app.core, request, scope=Scope(), tz="UTC")
            text_only = time.perf_counter() - began
            began = time.perf_counter()
            render_chart(out.report)
            drawing = time.perf_counter() - began
            if i:  # the first run warms caches
                full.append(elapsed)
                cpu.append(used)
                sql.append(text_only)
                chart.append(drawing)
            texts[command] = reply.text
        print(
            f"  /{command:<22} total median {statistics.median(full) * 1000:6.0f} ms "
            f"(min {min(full) * 1000:.0f}) · SQL+text {statistics.median(sql) * 1000:.0f} ms "
            f"· chart {statistics.median(chart) * 1000:.0f} ms · PNG {len(reply.files[0].data):,} B"
            f" · CPU here {statistics.median(cpu) * 1000:.0f} ms"
        )
    await app.stop()
    return texts


class Timed:
    """The report repository with every aggregate run alone (a lock) and timed."""

    def __init__(self, repo: Any) -> None:
        self.repo, self.lock, self.times = repo, asyncio.Lock(), []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.repo, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def timed(*args: Any, **kw: Any) -> Any:
            async with self.lock:
                began = time.perf_counter()
                result = await attr(*args, **kw)
                label = " ".join(str(a) for a in args if isinstance(a, str | type(None)))
                self.times.append((time.perf_counter() - began, f"{name}({label})"))
                return result

        return timed


async def profile(url: str, runs: int) -> None:
    """Each aggregate of the two reports run alone: where the time goes."""
    from bot.reports.figures import Scope
    from bot.reports.periods import parse_period
    from bot.reports.request import parse_request
    from bot.reports.service import build_report, sla_policies_of

    settings = Settings(database_url=url, leads="console:lead", _env_file=None,  # type: ignore[call-arg]
                        report_timezone="UTC")  # fmt: skip
    app = await build_app(settings, clock=FakeClock(NOW))

    async def reports(uow: Any) -> Any:
        return uow.reports

    repo = await app.bus.query(reports)
    policies = sla_policies_of(app.core.policy.sla)
    for command in COMMANDS:
        request = parse_request(command.removeprefix("report "))
        period = parse_period(request.period, NOW, "UTC")
        found: dict[str, list[float]] = {}
        for _ in range(runs):
            timed = Timed(repo)
            await build_report(timed, request, period, Scope(), NOW, policies)
            for seconds, label in timed.times:
                found.setdefault(label, []).append(seconds)
        total = sum(statistics.median(v) for v in found.values())
        print(f"  /{command}: {total * 1000:.0f} ms one after another")
        for label, values in sorted(found.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"    {statistics.median(values) * 1000:7.1f} ms  {label}")
    await app.stop()


def cpu_probe() -> float:
    """Seconds for a fixed loop: ~0.2 on an idle core of this machine kind; more means the
    machine is shared with other work and every figure above is inflated alike."""
    began = time.perf_counter()
    sum(range(10_000_000))
    return time.perf_counter() - began


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    return f"{os.cpu_count()} CPUs ({cpu}), {versions}"


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--messages-per-ticket", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--years", type=int, default=1, help="tickets are spread over this many years")
    p.add_argument("--pg-url", default=os.environ.get("DESKBOT_BENCH_PG_URL", PG_URL))
    p.add_argument("--skip-pg", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--generate-only", action="store_true", help="fill the databases, time nothing")
    p.add_argument("--profile", action="store_true", help="time each aggregate alone")
    args = p.parse_args()
    DATA.mkdir(exist_ok=True)
    print(f"machine: {machine()}")
    urls = []
    if not args.skip_sqlite:
        suffix = "" if args.years == 1 else f"-{args.years}y"
        urls.append(f"sqlite+aiosqlite:///{DATA / f'report-{args.tickets}{suffix}.db'}")
    if not args.skip_pg:
        urls.append(args.pg_url + ("" if args.years == 1 else f"_{args.years}y"))
    texts = []
    for url in urls:
        print(f"{url.split(':')[0]}: {url}", flush=True)
        await prepare(url, args.tickets, args.messages_per_ticket, timedelta(days=365 * args.years))
        if args.generate_only:
            continue
        print(f"  cpu probe before: {cpu_probe():.2f} s", flush=True)
        if args.profile:
            await profile(url, args.runs)
            continue
        texts.append(await bench(url, args.runs))
        print(f"  cpu probe after: {cpu_probe():.2f} s", flush=True)
    if len(texts) == 2:
        same = all(texts[0][c] == texts[1][c] for c in COMMANDS)
        print(f"SQLite and PostgreSQL reports identical: {same}")
        if not same:
            for c in COMMANDS:
                for a, b in zip(texts[0][c].splitlines(), texts[1][c].splitlines(), strict=False):
                    if a != b:
                        print(f"  sqlite: {a}\n  pg:     {b}")


if __name__ == "__main__":
    asyncio.run(main())
