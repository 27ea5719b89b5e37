"""Regenerate README.md's command and settings tables from the command table and Settings.

Run after adding a command or a setting (the settings' descriptions are the comments in
.env.example); tests/test_docs.py fails while README.md is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.commands import TABLE  # noqa: E402
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


def settings_table() -> str:
    notes = comments()
    lines = ["| setting | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        env = f"DESKBOT_{name.upper()}"
        default = field.default
        shown = "—" if default in (None, "") else f"`{default}`"
        lines.append(f"| `{env}` | {shown} | {notes.get(env, field.description or '')} |")
    return "\n".join(lines)


def commands_table() -> str:
    lines = ["| command | who | what |", "|---|---|---|"]
    for spec in TABLE:
        usage = spec.usage.replace("|", "\\|")
        lines.append(f"| `{usage}` | {spec.role.value} | {spec.help} |")
    return "\n".join(lines)


def render(readme: str) -> str:
    """README text with both generated sections replaced."""
    for name, body in (("commands", commands_table()), ("settings", settings_table())):
        pattern = re.compile(rf"(<!-- {name}: [^>]*-->\n).*?(\n<!-- /{name} -->)", re.S)
        readme = pattern.sub(lambda m, b=body: m.group(1) + b + m.group(2), readme)
    return readme


def main() -> None:
    path = ROOT / "README.md"
    path.write_text(render(path.read_text()))


if __name__ == "__main__":
    main()
