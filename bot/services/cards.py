"""The triage card: one summary per ticket that adapters render and edit in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import sla_clock
from bot.domain.model import Ticket
from bot.domain.status import ACTIVE


def card_fields(
    ticket: Ticket, customer_name: str, now: datetime, failed_deliveries: int = 0
) -> dict[str, Any]:
    """Everything a card shows at ``now``, as plain data for Block Kit, embeds or text."""
    return {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "customer": customer_name,
        "channel": ticket.origin,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "queue": ticket.queue,
        "assignee": ticket.assignee_name,
        "tags": list(ticket.tags),
        "first_response_at": ticket.first_response_at.isoformat()
        if ticket.first_response_at
        else None,
        "failed_deliveries": failed_deliveries,
        **card_sla(ticket, now),
    }


def card_sla(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """SLA on the card: the target due next, its due time (ISO, UTC) and its state at ``now``
    ("at_risk", "breached", "paused" or None when on track)."""
    due = sla_clock.earliest_due(ticket) if ticket.status in ACTIVE else None
    if due is None:
        return {"sla_due": None, "sla_target": None, "sla_state": None}
    target, at = due
    return {
        "sla_due": at.isoformat(),
        "sla_target": target.replace("_", " "),
        "sla_state": sla_clock.state(ticket, now),
    }


def card_text(fields: dict[str, Any]) -> str:
    """A one-line rendering for the console and for notification fallbacks."""
    parts = [
        f"{fields['ref']} {fields['subject']}",
        f"customer {fields['customer']} ({fields['channel']})",
        f"status {fields['status']}",
        f"priority {fields['priority']}",
        f"queue {fields['queue']}",
        f"assignee {fields['assignee'] or '—'}",
    ]
    if fields["tags"]:
        parts.append("tags " + ", ".join(fields["tags"]))
    if fields.get("sla_due"):
        due = fields["sla_due"].replace("T", " ")[:16]
        what = f"{fields['sla_target']} " if fields.get("sla_target") else ""
        state = {"at_risk": " ⏰ at risk", "breached": " 🔥 breached", "paused": " (paused)"}
        parts.append(f"SLA {what}due {due} UTC{state.get(fields.get('sla_state') or '', '')}")
    if fields.get("waiting"):
        parts.append(f"⏳ {fields['waiting']}")
    if fields.get("articles"):
        parts.append("KB " + "; ".join(a["title"] for a in fields["articles"]))
    if fields.get("rating") is not None:
        parts.append(f"rated {fields['rating']}/5")
    if fields["failed_deliveries"]:
        parts.append(f"⚠ {fields['failed_deliveries']} failed deliveries")
    return " · ".join(parts)
