"""Row <-> domain object mapping shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.model import Agent, Customer, Role, Ticket
from bot.domain.refs import RefFormat
from bot.domain.status import Priority, Status

TICKET_FIELDS = (
    "subject", "status", "priority", "queue", "customer_id", "assignee_id", "tags", "origin",
    "conversation_key", "merged_into_id", "created_at", "updated_at", "first_response_at",
    "resolved_at", "closed_at", "last_customer_message_at", "last_agent_message_at",
    "claim_expires_at",
)  # fmt: skip


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything inside deskbot is UTC-aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def ticket_from_row(row: Any, refs: RefFormat, assignee_name: str | None) -> Ticket:
    m = row._mapping
    return Ticket(
        id=m["id"],
        ref=refs.format(m["id"]),
        subject=m["subject"],
        customer_id=m["customer_id"],
        conversation_key=m["conversation_key"],
        origin=m["origin"],
        created_at=aware(m["created_at"]),  # type: ignore[arg-type]
        status=Status(m["status"]),
        priority=Priority(m["priority"]),
        queue=m["queue"],
        assignee_id=m["assignee_id"],
        assignee_name=assignee_name,
        tags=list(m["tags"] or []),
        first_response_at=aware(m["first_response_at"]),
        resolved_at=aware(m["resolved_at"]),
        closed_at=aware(m["closed_at"]),
        merged_into_id=m["merged_into_id"],
        claim_expires_at=aware(m["claim_expires_at"]),
        last_customer_message_at=aware(m["last_customer_message_at"]),
        last_agent_message_at=aware(m["last_agent_message_at"]),
        updated_at=aware(m["updated_at"]),
        version=m["version"],
    )


def ticket_values(t: Ticket) -> dict[str, Any]:
    return {
        "subject": t.subject,
        "status": t.status.value,
        "priority": t.priority.value,
        "queue": t.queue,
        "customer_id": t.customer_id,
        "assignee_id": t.assignee_id,
        "tags": list(t.tags),
        "origin": t.origin,
        "conversation_key": t.conversation_key,
        "merged_into_id": t.merged_into_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at or t.created_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "last_customer_message_at": t.last_customer_message_at,
        "last_agent_message_at": t.last_agent_message_at,
        "claim_expires_at": t.claim_expires_at,
    }


def agent_from_row(row: Any) -> Agent:
    m = row._mapping
    return Agent(
        id=m["id"],
        name=m["name"],
        role=Role(m["role"]),
        available=bool(m["available"]),
        capacity=m["capacity"],
        queues=list(m["queues"] or []),
        skills=list(m["skills"] or []),
        active=bool(m["active"]),
    )


def customer_from_row(row: Any) -> Customer:
    m = row._mapping
    return Customer(
        id=m["id"], name=m["name"], email=m["email"], tier=m["tier"], locale=m["locale"]
    )
