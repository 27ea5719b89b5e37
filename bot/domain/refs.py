"""Ticket references (`T-1042`): formatting and parsing with a configurable prefix."""

from __future__ import annotations

import re


class RefFormat:
    """Turns ticket ids into references and back for one prefix."""

    def __init__(self, prefix: str = "T-") -> None:
        self.prefix = prefix
        self._pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$", re.IGNORECASE)
        self.search_pattern = re.compile(rf"(?<![\w-]){re.escape(prefix)}(\d+)\b", re.IGNORECASE)

    def format(self, ticket_id: int) -> str:
        return f"{self.prefix}{ticket_id}"

    def parse(self, text: str) -> int | None:
        """The ticket id for a reference like `T-12` (or `#12`), else None."""
        text = text.strip()
        if text.startswith("#") and text[1:].isdigit():
            return int(text[1:])
        m = self._pattern.match(text)
        return int(m.group(1)) if m else None

    def is_ref(self, text: str) -> bool:
        return self._pattern.match(text.strip()) is not None
