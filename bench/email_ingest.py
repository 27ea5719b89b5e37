"""Benchmark: mails per second from raw bytes to a stored ticket (with its outbox rows).

Input is the reproducible workload of ../shared/bench/gen_mail.py (2,000 mails: 70% new,
30% replies tagged "[T-{id}]"), the same mails Request Tracker was measured on (~5 mails/s).
Mails are handed over in batches, as an IMAP fetch does (--batch, --inflight). Each mail goes
the adapter's whole intake path — parse (MIME, charsets, quote stripping,
automatic-mail rules), threading lookup, the real gateway with group commit, the core's ticket
rules and event pipeline, ack and card rows in the outbox — into a fresh SQLite database (or
the PostgreSQL given by --url), in file order. Latency is per batch: from handing it over to
its commit. Afterwards every mail is checked against
manifest.tsv: each new mail opened the ticket the generator expected, each reply landed on it.

    python3 ../shared/bench/gen_mail.py --out /tmp/mail --subject-tag "[T-{id}]"
    .venv/bin/python bench/email_ingest.py --mail /tmp/mail          # generates it if missing
    .venv/bin/python bench/email_ingest.py --processes 0             # parse in the event loop
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from adapters.email import EmailAdapter
from adapters.email.intake import IntakeResult, MailIntake
from bot.bootstrap import build_app
from bot.config import Settings
from storage import tables as t

GEN_MAIL = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_mail.py"


def ensure_mail(folder: Path) -> None:
    if (folder / "manifest.tsv").exists():
        return
    subprocess.run(
        [sys.executable, str(GEN_MAIL), "--out", str(folder), "--subject-tag", "[T-{id}]"],
        check=True,
    )


async def run(args: argparse.Namespace) -> int:
    folder = Path(args.mail)
    ensure_mail(folder)
    with open(folder / "manifest.tsv", newline="") as fh:
        manifest = list(csv.DictReader(fh, delimiter="\t"))
    raws = [(folder / row["file"]).read_bytes() for row in manifest]
    work = Path(tempfile.mkdtemp(prefix="deskbot-email-bench-"))
    url = args.url or f"sqlite+aiosqlite:///{work / 'bench.db'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        email_address="support@bench.example",
        email_attachments_dir=str(work / "attachments"),
        email_parse_processes=args.processes,
    )
    adapter = EmailAdapter(settings)
    app = await build_app(settings, adapters=[adapter])
    await adapter.start(app.gateway)  # intake only: no listener, no IMAP, nothing dispatched
    intake = adapter.intake
    assert isinstance(intake, MailIntake)
    if args.processes:  # start the worker processes before the clock runs
        await asyncio.gather(*(intake.parse(raws[0]) for _ in range(args.processes * 2)))

    latencies: list[float] = [0.0] * len(raws)
    results: list[IntakeResult | BaseException | None] = [None] * len(raws)
    window = asyncio.Semaphore(args.inflight)

    async def one(first: int) -> None:
        """A batch as an IMAP fetch hands it over: parsed together, one group commit."""
        async with window:
            started = time.perf_counter()
            batch = raws[first : first + args.batch]
            done = await intake.deliver_many(batch)
            took = time.perf_counter() - started
            for i, result in enumerate(done, first):
                results[i] = result
                latencies[i] = took

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    tasks = []
    for first in range(0, len(raws), args.batch):
        await window.acquire()  # feed in file order, `inflight` batches at a time
        window.release()
        tasks.append(asyncio.create_task(one(first)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
        cpu_before.ru_utime + cpu_before.ru_stime
    )

    problems = await verify(app, manifest, results)
    async with app.engine.connect() as conn:
        outbox = len((await conn.execute(select(t.outbox.c.id))).all())
    await adapter.stop()  # joins the parse workers: their CPU time is counted below
    await app.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = children.ru_utime + children.ru_stime

    ms = sorted(x * 1000 for x in latencies)
    p = statistics.quantiles(ms, n=100)
    print(f"database: {url.split('://')[0]}  parse processes: {args.processes}  "
          f"batch: {args.batch} mails, {args.inflight} batches in flight")  # fmt: skip
    new = sum(r["kind"] == "new" for r in manifest)
    print(f"mails: {len(raws):,} ({new:,} new)  outbox rows: {outbox:,}  "
          f"checked against manifest: {len(problems)} problems")  # fmt: skip
    print(f"throughput: {len(raws) / elapsed:,.0f} mails/s  ({elapsed:.2f} s)")
    print(f"latency ms: p50 {p[49]:.1f}  p90 {p[89]:.1f}  p99 {p[98]:.1f}  max {ms[-1]:.1f}")
    n = len(raws)
    print(f"CPU per mail: {main_cpu / n * 1000:.2f} ms in the main process (core, database, "
          f"intake), {worker_cpu / n * 1000:.2f} ms in parse workers; load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine slows the wall clock)")  # fmt: skip
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()}")  # fmt: skip
    for line in problems[:10]:
        print("  problem:", line)
    return 1 if problems else 0


async def verify(app: object, manifest: list[dict[str, str]], results: list) -> list[str]:
    """Every mail is where the generator says: new mails opened ticket N, replies are on N."""
    problems = []
    async with app.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = (await conn.execute(select(t.messages.c.external_id, t.messages.c.ticket_id))).all()
    ticket_of = {r.external_id: r.ticket_id for r in rows}
    for row, result in zip(manifest, results, strict=True):
        if not isinstance(result, IntakeResult):
            problems.append(f"{row['file']}: not delivered ({result!r})")
            continue
        expected = "opened" if row["kind"] == "new" else "added"
        got = ticket_of.get(result.message_id)
        if result.outcome != expected or got != int(row["ticket_id"]):
            problems.append(
                f"{row['file']}: {result.outcome} on {got}, expected {expected} on "
                f"{row['ticket_id']}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mail", default=str(Path(tempfile.gettempdir()) / "deskbot-bench-mail"))
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--processes", type=int, default=2, help="parse worker processes")
    parser.add_argument("--batch", type=int, default=50, help="mails handed over together")
    parser.add_argument("--inflight", type=int, default=3, help="batches in flight")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
