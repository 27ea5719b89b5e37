"""Domain events of the automation layer (issue 7): automatic replies and CSAT ratings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.events import Event


@dataclass(frozen=True)
class AutoReplied(Event):
    """A routing rule answered the customer with a canned text (sent after the ack)."""

    text: str = ""
    canned: str = ""
    kind: str = field(default="auto_reply", init=False)
    updates_card: bool = field(default=False, init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        return None, self.canned, {}


@dataclass(frozen=True)
class TicketRated(Event):
    """The customer rated the ticket 1–5 (again, when `changed`)."""

    score: int = 0
    comment: str | None = None
    changed: bool = False
    kind: str = field(default="rated", init=False)

    def history(self) -> tuple[str | None, str | None, dict[str, Any]]:
        data: dict[str, Any] = {"changed": self.changed}
        if self.comment:
            data["comment"] = self.comment[:500]
        return None, str(self.score), data


@dataclass(frozen=True)
class SurveySent(Event):
    """A satisfaction survey went to the customer."""

    kind: str = field(default="survey_sent", init=False)
    updates_card: bool = field(default=False, init=False)
