"""Helpers to run console dialogues in-process and read the JSON deliveries back."""

from __future__ import annotations

import io
import json
import textwrap
from typing import Any

from adapters.console.session import ConsoleSession
from bot.config import Settings


async def run_dialogue(
    script: str, db_url: str, **settings: Any
) -> tuple[list[dict[str, Any]], int]:
    """Run `script` through `deskbot console --script … --json` semantics; return deliveries."""
    out = io.StringIO()
    err = io.StringIO()
    session = ConsoleSession(
        Settings(database_url=db_url, _env_file=None, **settings),  # type: ignore[call-arg]
        out=out,
        json_mode=True,
        scripted=True,
    )
    await session.open()
    try:
        code = await session.run(textwrap.dedent(script).splitlines(), err=err)
    finally:
        await session.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return lines, code


def to(deliveries: list[dict[str, Any]], who: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [d for d in deliveries if d["to"] == who and (kind is None or d["kind"] == kind)]
