"""Benchmark: Slack slash-command ack latency under load, through the real HTTP app.

N signed `/ticket claim T-n` commands (default 200) are sent at once to the deskbot Slack app
served in HTTP mode (bolt + aiohttp on 127.0.0.1), with a real deskbot core on SQLite (or
PostgreSQL). The fake Slack Web API and the load generator run in a second process, as Slack
would be another machine, so their CPU does not slow the server being measured. Per command:
the ack (the HTTP answer: Slack's 3-second rule) and the answer (the response_url post after
the work is done).

    .venv/bin/python bench/slack_ack.py                  # 200 concurrent, SQLite
    .venv/bin/python bench/slack_ack.py --concurrency 500 --url postgresql+asyncpg://…
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, TCPConnector
from sqlalchemy import func, select

from adapters.slack import SlackAdapter
from bot.bootstrap import build_app
from bot.config import Settings
from bot.messages import ConversationRef, Identity, InboundMessage
from storage import tables as t
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import FORM, sign

SECRET = "bench-signing-secret"
WARMUP = 20


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:7s} p50 {pct(ms, 50):7.1f} ms   p90 {pct(ms, 90):7.1f} ms   "
        f"p99 {pct(ms, 99):7.1f} ms   max {max(ms):7.1f} ms   mean {statistics.mean(ms):7.1f} ms"
    )


# --- the Slack side: fake Web API + load generator (a separate process) ------------------------
def slack_side(conn: Any, concurrency: int) -> None:
    asyncio.run(_slack_side(conn, concurrency))


async def _slack_side(conn: Any, concurrency: int) -> None:
    async with FakeSlack(post_rate=None) as slack:
        slack.add_user("bob", id="U0BOB")
        slack.add_channel("triage", id="G0TRIAGE", private=True, members=["U0BOB"])
        slack.add_channel("help", id="C0HELP", members=["U0BOB"])
        conn.send(slack.base_url)
        while not conn.poll():
            await asyncio.sleep(0.01)
        url = conn.recv()
        async with ClientSession(connector=TCPConnector(limit=0)) as http:
            await fire(http, url, slack, range(1, WARMUP + 1))
            first = WARMUP + 1
            cold = await fire(http, url, slack, range(first, first + concurrency))
            first += concurrency
            warm = await fire(http, url, slack, range(first, first + concurrency))
        conn.send((cold, warm))
        while not conn.poll():  # keep the fake up until the server is done
            await asyncio.sleep(0.01)


def bodies_for(slack: FakeSlack, numbers: range) -> list[tuple[str, str]]:
    """(response_url, form body) per command, as Slack would send them."""
    out = []
    for n in numbers:
        hook = slack.new_response_url()
        form = {
            "team_id": slack.team_id,
            "channel_id": "G0TRIAGE",
            "user_id": "U0BOB",
            "user_name": "bob",
            "command": "/ticket",
            "text": f"claim T-{n}",
            "api_app_id": slack.app_id,
            "response_url": hook,
            "trigger_id": slack.issue_trigger_id(user_id="U0BOB"),
        }
        out.append((hook, urlencode(form)))
    return out


async def fire(
    http: ClientSession, url: str, slack: FakeSlack, numbers: range
) -> tuple[list[float], list[float]]:
    """All commands at once; ack latencies, then answer latencies (response_url post).
    The session keeps its connections: a second round reuses them, as Slack's would."""
    bodies = bodies_for(slack, numbers)
    sent: dict[str, float] = {}
    acks: list[float] = []

    async def one(hook: str, body: str) -> None:
        headers = {"Content-Type": FORM, **sign(body, SECRET)}
        sent[hook] = time.time()
        async with http.post(url, data=body.encode(), headers=headers) as res:
            await res.read()
            assert res.status == 200, res.status
        acks.append(time.time() - sent[hook])

    await asyncio.gather(*(one(h, b) for h, b in bodies))
    deadline = time.monotonic() + 120
    while True:
        posts = {p.url: p.at for p in slack.response_posts() if p.url in sent}
        if len(posts) == len(sent):
            break
        assert time.monotonic() < deadline, "answers missing"
        await asyncio.sleep(0.01)
    return acks, [posts[h] - sent[h] for h in sent]


# --- the deskbot side (this process) -----------------------------------------------------------
async def settle(app: Any) -> None:
    while True:
        async with app.engine.connect() as db:
            busy = (
                await db.execute(
                    select(func.count())
                    .select_from(t.outbox)
                    .where(t.outbox.c.status.in_(("queued", "sending")))
                )
            ).scalar()
        if not busy:
            return
        await asyncio.sleep(0.05)


async def run(concurrency: int, url: str | None) -> None:
    ctx = multiprocessing.get_context("spawn")
    conn, child_conn = ctx.Pipe()
    side = ctx.Process(target=slack_side, args=(child_conn, concurrency), daemon=True)
    side.start()
    while not conn.poll():
        await asyncio.sleep(0.01)
    api_url = conn.recv()
    db = url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='deskbot-bench-')}/bench.db"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=db,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        slack_mode="http",
        slack_http_host="127.0.0.1",
        slack_http_port=0,
        slack_support_channels="C0HELP",
        slack_triage_channel="G0TRIAGE",
        agents="slack:U0BOB",
    )
    adapter = SlackAdapter(settings)
    app = await build_app(settings, adapters=[adapter])
    await app.start()
    try:
        for n in range(WARMUP + 2 * concurrency):  # tickets to claim, opened as Slack messages
            customer = Identity("slack", f"U{n:06d}", f"customer{n}")
            conv = ConversationRef("slack", "C0HELP", f"1700000000.{n:06d}")
            await app.gateway.receive(
                InboundMessage("slack", f"C0HELP:{conv.thread}", customer, conv, f"issue {n}")
            )
        await settle(app)
        started = time.perf_counter()
        conn.send(adapter.url)
        while not conn.poll():
            await asyncio.sleep(0.01)
        cold, warm = conn.recv()
        wall = time.perf_counter() - started
        conn.send("done")
    finally:
        await app.stop()
        side.join(timeout=10)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"deskbot bench/slack_ack.py — {concurrency} concurrent `/ticket claim` (HTTP mode)")
    print(
        f"machine: {platform.machine()} · {os.cpu_count()} CPUs · {platform.system()} "
        f"{platform.release()} · Python {platform.python_version()} · load avg {load:.1f}"
    )
    print(f"database: {db.split(':')[0]} · 2 rounds, every command acked 200 · wall {wall:.2f} s")
    for label, (acks, answers) in (("new connections", cold), ("reused connections", warm)):
        print(f"-- {label}")
        print(summary("ack", acks))
        print(summary("answer", answers))
    verdict = "met" if pct(warm[0], 99) < 0.2 else "NOT met"
    print(f"target p99 ack < 200 ms (Slack allows 3,000 ms), reused connections: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Slack slash-command ack latency under load")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.concurrency, args.url))


if __name__ == "__main__":
    main()
