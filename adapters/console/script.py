"""The console dialogue language: `NAME: text`, `NAME@T-3: /cmd`, and `:directives`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LINE = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)(?:@(?P<ref>[A-Za-z]*-?\d+))?: (?P<body>.*)$")
DURATION = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScriptError(ValueError):
    """A line that is not part of the dialogue language."""


@dataclass(frozen=True)
class Speak:
    name: str
    ref: str | None
    body: str

    @property
    def is_command(self) -> bool:
        return self.body.startswith("/")


@dataclass(frozen=True)
class Directive:
    name: str
    args: list[str]


def parse_line(line: str) -> Speak | Directive | None:
    """One script line; None for blanks and comments. Raises ScriptError when malformed."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith(":"):
        parts = stripped[1:].split()
        if not parts:
            raise ScriptError("empty directive")
        return Directive(parts[0].lower(), parts[1:])
    m = LINE.match(stripped)
    if not m:
        raise ScriptError("expected `NAME: text`, `NAME@T-3: text` or a `:directive`")
    if not m.group("body").strip():
        raise ScriptError("nothing after `NAME:`")
    return Speak(m.group("name"), m.group("ref"), m.group("body").strip())


def parse_duration(text: str) -> timedelta:
    m = DURATION.match(text.strip())
    if not m:
        raise ScriptError(f"bad duration {text!r}: use e.g. 90s, 45m, 2h, 3d")
    return timedelta(**{UNITS[m.group(2)]: int(m.group(1))})


def parse_now(args: list[str]) -> datetime:
    """`:now 2026-03-02T09:00 Europe/Zagreb` (zone optional, default UTC)."""
    if not args:
        raise ScriptError(":now needs a time, e.g. :now 2026-03-02T09:00 Europe/Zagreb")
    try:
        value = datetime.fromisoformat(args[0])
    except ValueError as exc:
        raise ScriptError(f"bad time {args[0]!r}") from exc
    if value.tzinfo is None:
        try:
            zone = ZoneInfo(args[1]) if len(args) > 1 else ZoneInfo("UTC")
        except ZoneInfoNotFoundError as exc:
            raise ScriptError(f"unknown time zone {args[1]!r}") from exc
        value = value.replace(tzinfo=zone)
    return value
