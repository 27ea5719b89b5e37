"""The triage card: one summary per ticket that adapters render and edit in place."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Ticket


def card_fields(ticket: Ticket, customer_name: str, failed_deliveries: int = 0) -> dict[str, Any]:
    """Everything a card shows, as plain data for Block Kit, embeds or text."""
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
        parts.append(f"SLA due {fields['sla_due']}")
    if fields["failed_deliveries"]:
        parts.append(f"⚠ {fields['failed_deliveries']} failed deliveries")
    return " · ".join(parts)
