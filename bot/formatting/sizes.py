"""File sizes as people read them, for every adapter's file notices."""

from __future__ import annotations


def human_size(size: int) -> str:
    """1536 -> "1.5 KB", 200 -> "200 B"; 0 or less (size unknown) -> ""."""
    if size <= 0:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""
