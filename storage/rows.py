"""Row <-> domain object mapping shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.model import Agent, Customer, Role, Ticket
from bot.domain.refs import RefFormat
from bot.domain.status import Priority, Status

SLA_TIMES = (
    "first_response_due", "next_response_due", "resolution_due", "warn_at", "remind_at",
    "auto_close_at", "paused_at", "sla_next_at",
)  # fmt: skip
SLA_FIELDS = (*SLA_TIMES, "sla_policy", "first_response_secs", "resolution_secs", "paused_secs")
TICKET_FIELDS = (
    "subject", "status", "priority", "queue", "customer_id", "assignee_id", "tags", "origin",
    "conversation_key", "merged_into_id", "created_at", "updated_at", "first_response_at",
    "resolved_at", "closed_at", "last_customer_message_at", "last_agent_message_at",
    "claim_expires_at", *SLA_FIELDS,
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
        sla_policy=m["sla_policy"],
        first_response_secs=m["first_response_secs"],
        resolution_secs=m["resolution_secs"],
        paused_secs=m["paused_secs"] or 0,
        sla_timers=timers_from_json(m["sla_timers"]),
        first_response_due=aware(m["first_response_due"]),
        next_response_due=aware(m["next_response_due"]),
        resolution_due=aware(m["resolution_due"]),
        warn_at=aware(m["warn_at"]),
        remind_at=aware(m["remind_at"]),
        auto_close_at=aware(m["auto_close_at"]),
        paused_at=aware(m["paused_at"]),
        sla_next_at=aware(m["sla_next_at"]),
    )


def timers_from_json(data: Any) -> dict[str, datetime | None]:
    """SLA alarms as stored: {"first_response:warn": ISO instant, or null once fired}."""
    return {k: None if v is None else datetime.fromisoformat(v) for k, v in (data or {}).items()}


def timers_to_json(timers: dict[str, datetime | None]) -> dict[str, str | None] | None:
    """A fresh dict every call, so the unit of work's snapshot sees changes."""
    if not timers:
        return None
    return {k: None if v is None else v.astimezone(UTC).isoformat() for k, v in timers.items()}


def wall_seconds(at: datetime | None, created: datetime) -> int | None:
    """Whole seconds from `created` to `at`, each truncated to the second first (what the
    reports' durations are; PostgreSQL's date_trunc('second') in migration 0008)."""
    if at is None:
        return None
    span = at.replace(microsecond=0) - created.replace(microsecond=0)
    return span.days * 86400 + span.seconds


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
        "sla_policy": t.sla_policy,
        "first_response_secs": t.first_response_secs,
        "resolution_secs": t.resolution_secs,
        "first_response_wall_secs": wall_seconds(t.first_response_at, t.created_at),
        "resolution_wall_secs": wall_seconds(t.resolved_at, t.created_at),
        "paused_secs": t.paused_secs,
        "sla_timers": timers_to_json(t.sla_timers),
        **{name: getattr(t, name) for name in SLA_TIMES},
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
