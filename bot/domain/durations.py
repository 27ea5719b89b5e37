"""Durations shown back to people ("4 hours"); parsing lives with the SLA maths."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.sla import parse_duration

__all__ = ["humanize", "parse_duration"]


def humanize(delta: timedelta) -> str:
    """`4 hours`, `30 minutes`, `1 day 2 hours` — for customer-facing texts."""
    seconds = int(delta.total_seconds())
    out = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(out[:2]) or "a moment"
