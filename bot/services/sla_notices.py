"""SLA notices of one sweep, grouped: alerts about one ticket go to its thread under the card;
alerts about several tickets at once go out as one digest per triage channel and per agent.

Why: a burst (Monday 09:00, when weekend tickets all breach as business hours start) would
otherwise post one thread reply per ticket. Slack takes about one message per second per
channel, so hundreds of them would hold up the triage channel's new cards for minutes, and a
thread reply only notifies the thread's followers. One digest at the top of the channel is
what a lead reads; each ticket's card still shows its own SLA state, and its history has
every warning, breach and escalation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.domain.model import Ticket
from bot.services.deliveries import Deliveries

KIND = "sla"  # the outbound kind of SLA notices to agents
DIGEST_LINES = 10  # tickets listed in a digest; the rest are counted
LINE_CHARS = 160  # a digest line is cut here (a subject can be long)
_WHAT = {"breach": "missed", "esc": "escalated", "warn": "due soon"}
_ORDER = list(_WHAT)  # a digest lists breaches first


@dataclass(frozen=True)
class _Notice:
    ticket: Ticket
    what: str  # warn, breach or esc
    text: str


class SlaNotices:
    """Collects the notices of a batch of tickets; `write` turns them into outbox rows.

    Team notices are grouped by the triage channel they go to (`Deliveries.team_of`: the
    queue's, on Discord per customer server), direct messages by agent."""

    def __init__(self, out: Deliveries) -> None:
        self.out = out
        self._team: dict[tuple[str, str], list[_Notice]] = {}
        self._direct: dict[int, list[_Notice]] = {}

    def to_team(self, ticket: Ticket, what: str, text: str) -> None:
        self._team.setdefault(self.out.team_of(ticket), []).append(_Notice(ticket, what, text))

    def to_agent(self, agent_id: int, ticket: Ticket, what: str, text: str) -> None:
        self._direct.setdefault(agent_id, []).append(_Notice(ticket, what, text))

    def to_assignee_or_team(self, ticket: Ticket, what: str, text: str) -> None:
        if ticket.assignee_id is not None:
            self.to_agent(ticket.assignee_id, ticket, what, text)
        else:
            self.to_team(ticket, what, text)

    async def write(self) -> None:
        """One ticket's notices go as they are; several tickets' as one digest."""
        for (queue, _), notices in self._team.items():
            if _one_ticket(notices):
                for n in notices:
                    self.out.to_agents(n.ticket, KIND, n.text)
            else:
                heading = f"SLA alerts in queue {queue}"
                text = digest(heading, notices)
                self.out.to_team(queue, notices[0].ticket.conversation_key, KIND, text)
        for agent_id, notices in self._direct.items():
            if _one_ticket(notices):
                for n in notices:
                    await self.out.to_agent(agent_id, n.ticket, KIND, n.text)
            else:
                await self.out.to_agent(agent_id, None, KIND, digest("Your SLA alerts", notices))
        self._team.clear()
        self._direct.clear()


def _one_ticket(notices: list[_Notice]) -> bool:
    return len({n.ticket.id for n in notices}) == 1


def digest(heading: str, notices: list[_Notice]) -> str:
    """`🔥 SLA alerts in queue billing: 12 missed, 3 due soon`, then the first alerts, one per
    line, and how many more there are."""
    counts = Counter(n.what for n in notices)
    summary = ", ".join(f"{counts[w]} {label}" for w, label in _WHAT.items() if counts[w])
    icon = "⏰" if set(counts) == {"warn"} else "🔥"
    lines = [f"{icon} {heading}: {summary}"]
    worst_first = sorted(notices, key=lambda n: _ORDER.index(n.what))
    for n in worst_first[:DIGEST_LINES]:
        line = n.text if len(n.text) <= LINE_CHARS else n.text[: LINE_CHARS - 1] + "…"
        lines.append(f"• {line}")
    if len(notices) > DIGEST_LINES:
        lines.append(
            f"…and {len(notices) - DIGEST_LINES} more. `list due:1h` shows the most urgent; "
            "each card shows its ticket's SLA."
        )
    return "\n".join(lines)
