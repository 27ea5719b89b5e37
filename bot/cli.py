"""The `deskbot` command: run, console, migrate, email parse, report."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence

from bot import kb_cli
from bot.config import Settings
from bot.reports import cli as report_cli


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deskbot", description="A help desk that lives in team chat.")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("run", help="start deskbot (console + SQLite when no platform is configured)")
    con = sub.add_parser("console", help="the console adapter, alongside any configured adapters")
    con.add_argument("--script", help="read dialogue lines from FILE ('-' for stdin)")
    con.add_argument("--json", action="store_true", help="one JSON object per delivery")
    sub.add_parser("migrate", help="upgrade the database schema")
    kb_cli.add_parser(sub)  # deskbot kb import DIR (issue 7)
    report_cli.add_parser(sub)  # deskbot report [period] [by X] [--csv FILE] (issue 8)
    email = sub.add_parser("email", help="email tools")
    esub = email.add_subparsers(dest="email_cmd")
    parse = esub.add_parser("parse", help="parse mail files or folders")
    parse.add_argument("paths", nargs="+")
    parse.add_argument("--json", action="store_true", help="one JSON object per mail (default)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.cmd == "email" and args.email_cmd == "parse":
        from adapters.email.cli import run_parse

        return run_parse(args.paths, ref_prefix=settings.ref_prefix)
    if args.cmd == "kb":
        return kb_cli.run(args, settings)
    if args.cmd == "report":
        return report_cli.run(args, settings)
    if args.cmd == "migrate":
        return asyncio.run(_migrate(settings))
    if args.cmd == "console":
        return asyncio.run(_console(settings, args.script, args.json))
    if args.cmd in (None, "run"):
        return asyncio.run(_run(settings))
    _parser().print_help()
    return 2


async def _migrate(settings: Settings) -> int:
    from storage.engine import create_engine
    from storage.migrate import migrate

    engine = create_engine(settings.database_url)
    try:
        before, after = await migrate(engine)
    finally:
        await engine.dispose()
    print(f"database schema: {before or 'empty'} → {after}")
    return 0


async def _console(settings: Settings, script: str | None, json_mode: bool) -> int:
    from adapters.console.session import ConsoleSession, interactive
    from storage.migrate import SchemaError

    if not script:
        logging.getLogger().setLevel(logging.WARNING)
    from bot.bootstrap import platform_adapters

    # Configured platforms run alongside, so a console agent can answer e.g. an email ticket.
    session = ConsoleSession(
        settings,
        json_mode=json_mode,
        scripted=bool(script),
        extra_adapters=platform_adapters(settings),
    )
    try:
        if not script:
            return await interactive(session)
        await session.open()
        try:
            if script == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(script, encoding="utf-8") as fh:  # noqa: ASYNC230 - read once, small
                    lines = fh.read().splitlines()
            return await session.run(lines)
        finally:
            await session.close()
    except SchemaError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 1


async def _run(settings: Settings) -> int:
    if not settings.any_platform:
        print(
            f"deskbot: no Slack, Discord or mail credentials configured; starting the console "
            f"on {settings.database_url}",
            file=sys.stderr,
        )
        return await _console(settings, None, False)
    from bot.bootstrap import build_app, platform_adapters

    try:
        adapters = platform_adapters(settings)
    except ValueError as exc:  # a setting an adapter cannot work with; the message names it
        print(f"deskbot: {exc}", file=sys.stderr)
        return 1
    if not adapters:
        print(
            "deskbot: no adapter for the configured platform is available in this build yet; "
            "use `deskbot console`",
            file=sys.stderr,
        )
        return 1
    from storage.migrate import SchemaError

    try:
        app = await build_app(settings, adapters=adapters)
    except SchemaError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 1
    try:
        await app.start()
    except RuntimeError as exc:  # an adapter refused to start (e.g. Discord's intent consent)
        print(f"deskbot: {exc}", file=sys.stderr)
        await app.stop()
        return 1
    # What start-up built lives as long as the process: out of the collector's reach, full
    # collections stay short (they showed as 60 ms stalls in ingest latency).
    gc.freeze()
    names = ", ".join(a.platform for a in adapters)
    print(f"deskbot: running ({names}) on {settings.database_url}; Ctrl-C stops", file=sys.stderr)
    try:
        await _until_stopped()
    finally:
        await app.stop()
    return 0


async def _until_stopped() -> None:
    """Wait for SIGINT/SIGTERM (a container stop) so shutdown is orderly."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
            pass
    await stop.wait()


if __name__ == "__main__":
    raise SystemExit(main())
