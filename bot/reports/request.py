"""What `/report` was asked for: `[me] [period] [by X] [queue:NAME] [format:text|chart|csv]`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports.figures import GROUPINGS
from bot.reports.periods import is_period

FORMATS = ("text", "chart", "csv")
USAGE = (
    "/report [me] [today|yesterday|7d|30d|this-week|last-week|this-month|last-month|FROM..TO] "
    "[by agent|queue|channel|priority|tag] [queue:NAME] [format:text|chart|csv]"
)
_BY_ALIASES = {"agents": "agent", "queues": "queue", "channels": "channel", "platform": "channel",
               "priorities": "priority", "tags": "tag"}  # fmt: skip


class RequestError(ValueError):
    """The options are not understood; the message says which one."""


@dataclass(frozen=True)
class ReportRequest:
    """A parsed request. `format` "chart" (the default) is the text with a chart attached."""

    period: str = "7d"
    by: str | None = None
    queue: str | None = None
    format: str = "chart"
    me: bool = False

    def describe(self) -> str:
        parts = ["me"] if self.me else []
        parts.append(self.period)
        if self.by:
            parts.append(f"by {self.by}")
        if self.queue:
            parts.append(f"queue:{self.queue}")
        return " ".join(parts)


def parse_request(text: str | None, default_period: str = "7d") -> ReportRequest:
    """Parse the options; raises RequestError with a message for the person who typed them."""
    words = (text or "").split()
    period: str | None = None
    by = queue = None
    fmt = "chart"
    me = False
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        i += 1
        if low == "me":
            me = True
        elif low == "by" or low.startswith("by:"):
            value = (
                low[3:] if low.startswith("by:") else (words[i].lower() if i < len(words) else "")
            )
            i += 0 if low.startswith("by:") else 1
            value = _BY_ALIASES.get(value, value)
            if value not in GROUPINGS:
                raise RequestError(f"Group by one of: {', '.join(GROUPINGS)}.")
            by = value
        elif low.startswith("queue:") and len(word) > 6:
            queue = word[6:]
        elif low.startswith("format:"):
            fmt = low[7:]
            if fmt not in FORMATS:
                raise RequestError(f"format must be one of: {', '.join(FORMATS)}.")
        elif period is None and is_period(low):
            period = low
        else:
            raise RequestError(f"I don't understand {word!r}.")
    return ReportRequest(period or default_period, by, queue, fmt, me)
