"""Benchmark: what keeping Slack files costs a message (DESKBOT_SLACK_DOWNLOAD_DIR set).

Each shared file is downloaded with the bot token (FileKeeper.keep, the call intake makes
before recording the message) from the fake Slack on 127.0.0.1 and written to a temporary
folder. Prints per-message latency for files of a few sizes; a redelivered event (the copy
already there) is measured too. Loopback, so the network part is what Slack adds on top.

    .venv/bin/python bench/slack_files.py             # 20 messages per size
    .venv/bin/python bench/slack_files.py --messages 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack.config import SlackConfig
from adapters.slack.downloads import FileKeeper
from tests.fakes.slack_api import FakeSlack

SIZES = (10_000, 1_000_000, 10_000_000)


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


async def run(messages: int) -> None:
    async with FakeSlack() as slack:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = SlackConfig(
                bot_token="xoxb-test-token",
                api_url=slack.base_url,
                download_dir=Path(tmp),
                download_max_bytes=max(SIZES),
            )
            keeper = FileKeeper(cfg)
            print(f"{'size':>10} {'new p50':>9} {'new p99':>9} {'again p50':>10}  (ms)")
            for size in SIZES:
                data = os.urandom(size)
                fresh, again = [], []
                for _ in range(messages):
                    shared = slack.share_file("file.bin", data)
                    start = time.perf_counter()
                    [info] = await keeper.keep([shared])
                    fresh.append(time.perf_counter() - start)
                    assert str(info.url).startswith("file://")
                    start = time.perf_counter()
                    await keeper.keep([shared])
                    again.append(time.perf_counter() - start)
                print(
                    f"{size:>10,} {ms(fresh, 0.5):>9} {ms(fresh, 0.99):>9} "
                    f"{statistics.median(again) * 1000:>10.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
