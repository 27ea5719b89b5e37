"""`deskbot kb import DIR`: load a folder of Markdown articles into the knowledge base."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings


def add_parser(sub: Any) -> None:
    kb = sub.add_parser("kb", help="knowledge base tools")
    ksub = kb.add_subparsers(dest="kb_cmd")
    imp = ksub.add_parser("import", help="add or update articles from a folder of *.md files")
    imp.add_argument("folder", type=Path)
    imp.add_argument("--author", default="import", help="recorded as author and approver")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import kb

    if args.kb_cmd != "import":
        print("usage: deskbot kb import DIR", file=sys.stderr)
        return 2
    folder: Path = args.folder
    if not folder.is_dir():
        print(f"deskbot: {folder} is not a folder", file=sys.stderr)
        return 2
    drafts = kb.read_folder(folder)
    return asyncio.run(_import(drafts, args.author, settings, folder))


async def _import(drafts: list[Any], author: str, settings: Settings, folder: Path) -> int:
    from bot.bootstrap import build_app
    from bot.services import kb
    from storage.migrate import SchemaError

    try:
        app = await build_app(settings)
    except SchemaError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 1
    try:
        async with app.uow() as uow:
            report = await kb.import_drafts(drafts, uow, author, app.core.clock.now())
            await uow.commit()
    finally:
        await app.stop()
    for line in report:
        print(line)
    print(f"{len(report)} article(s) imported from {folder}")
    return 0
