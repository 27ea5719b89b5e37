"""Print the README's settings table from bot.config.Settings and the comments in .env.example."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402


def comments() -> dict[str, str]:
    """The comment block above each variable in .env.example."""
    out: dict[str, str] = {}
    pending: list[str] = []
    after_variable = False
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("# ---") or not line.strip():
            pending, after_variable = [], False
        elif line.startswith("#"):
            if after_variable:  # a comment after a variable starts the next block
                pending, after_variable = [], False
            pending.append(line.lstrip("# ").strip())
        elif m := re.match(r"(DESKBOT_[A-Z0-9_]+)=", line):
            out[m.group(1)] = " ".join(pending)
            after_variable = True
    return out


def main() -> None:
    notes = comments()
    print("| setting | default | what it does |")
    print("|---|---|---|")
    for name, field in Settings.model_fields.items():
        env = f"DESKBOT_{name.upper()}"
        default = field.default
        shown = "—" if default in (None, "") else f"`{default}`"
        print(f"| `{env}` | {shown} | {notes.get(env, field.description or '')} |")


if __name__ == "__main__":
    main()
