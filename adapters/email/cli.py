"""`deskbot email parse PATH… --json`: parse mail files and print one JSON object per mail."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from adapters.email.parsing import ParsedMail, parse_mail


def iter_mail_files(path: Path) -> Iterator[Path]:
    """The file itself, or every regular non-hidden file below a folder (top-down, sorted)."""
    if path.is_file():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            candidate = Path(root, name)
            if not name.startswith(".") and candidate.is_file():
                yield candidate


def mail_record(file: str, mail: ParsedMail) -> dict[str, Any]:
    """The JSON shape printed for one mail."""
    return {
        "file": file,
        "message_id": mail.message_id,
        "from_email": mail.from_email,
        "from_name": mail.from_name,
        "subject": mail.subject,
        "text": mail.text,
        "body": mail.body,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "md5": a.md5,
            }
            for a in mail.attachments
        ],
        "automatic": mail.automatic,
        "ticket_ref_in_subject": mail.ticket_ref_in_subject,
        "error": mail.error,
    }


def run_parse(
    paths: list[str], *, ref_prefix: str = "T-", out: TextIO | None = None, as_json: bool = True
) -> int:
    """Parse every mail under `paths`; 0 when done (bad mails included), 2 for a missing path."""
    out = out if out is not None else sys.stdout
    missing = [p for p in paths if not Path(p).exists()]
    if not paths or missing:
        print(f"deskbot email parse: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    for given in paths:
        for file in iter_mail_files(Path(given)):
            try:
                record = mail_record(
                    str(file), parse_mail(file.read_bytes(), ref_prefix=ref_prefix)
                )
            except OSError as exc:  # unreadable file: report it and go on
                record = {"file": str(file), "error": f"{type(exc).__name__}: {exc}"}
            out.write(_render(record, as_json) + "\n")
    return 0


def _render(record: dict[str, Any], as_json: bool) -> str:
    if as_json:
        # ASCII escapes: safe on any terminal encoding and for odd bytes in broken mails.
        return json.dumps(record, ensure_ascii=True)
    if record.get("error"):
        return f"{record['file']}\tERROR\t{record['error']}"
    kind = record["automatic"] or "human"
    ref = record["ticket_ref_in_subject"] or "-"
    return f"{record['file']}\t{kind}\t{ref}\t{record['from_email']}\t{record['subject']}"


def build_parser() -> argparse.ArgumentParser:
    """Argument parser for `deskbot email …` (sub-command `parse`)."""
    parser = argparse.ArgumentParser(prog="deskbot email", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="parse mail files or folders")
    parse.add_argument("paths", nargs="+", metavar="PATH", help="mail file or folder")
    parse.add_argument("--json", action="store_true", help="one JSON object per mail and line")
    parse.add_argument("--ref-prefix", default="T-", help="ticket reference prefix (default T-)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: `python -m adapters.email.cli parse PATH… --json`."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on bad arguments; report 2 instead
        return 2 if exc.code else 0
    return run_parse(args.paths, ref_prefix=args.ref_prefix, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
