"""`deskbot report [period] [by X] [queue:NAME] [--csv FILE] [--chart FILE]` in a terminal.

Whoever can open the database can read it all, so the terminal report is the lead's report
(every queue and agent), in `DESKBOT_REPORT_TIMEZONE` (else `DESKBOT_TIMEZONE`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings


def add_parser(sub: Any) -> None:
    rep = sub.add_parser("report", help="print the help desk report (as /report shows leads)")
    rep.add_argument("options", nargs="*", help="[period] [by X] [queue:NAME] (as /report)")
    rep.add_argument("--csv", type=Path, help="also write the tickets behind it to FILE")
    rep.add_argument("--chart", type=Path, help="also write the chart (PNG) to FILE")


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_report(args, settings))


async def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build_app
    from bot.reports.figures import Scope
    from bot.reports.periods import PeriodError
    from bot.reports.request import USAGE, RequestError, parse_request
    from bot.reports.runner import produce
    from storage.migrate import SchemaError

    try:
        request = parse_request(" ".join(args.options), settings.report_default_period)
    except RequestError as exc:
        print(f"deskbot: {exc}\nusage: {USAGE.replace('/report', 'deskbot report')}",
              file=sys.stderr)  # fmt: skip
        return 2
    if request.me:
        print("deskbot: `me` needs a chat identity; name the queue or agent instead",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        app = await build_app(settings)
    except SchemaError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 1
    try:
        out = await produce(
            app.bus,
            app.core,
            request,
            scope=Scope(queue=request.queue),
            tz=app.core.policy.reports.timezone,
            chart=args.chart is not None,
            csv=args.csv is not None,
        )
    except PeriodError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 2
    finally:
        await app.stop()
    print(out.text)
    for f in out.files:
        target = args.chart if f.content_type == "image/png" else args.csv
        target.write_bytes(f.data)
        print(f"wrote {target} ({len(f.data):,} bytes)", file=sys.stderr)
    return 0
