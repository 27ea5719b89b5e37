"""Row <-> domain object mapping shared by the repositories."""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Any

from bot.domain.model import Agent, Customer, Role, Ticket
from bot.domain.refs import RefFormat
from bot.domain.status import Priority, Status
from storage import tables

SLA_TIMES = (
    "first_response_due", "next_response_due", "resolution_due", "warn_at", "remind_at",
    "auto_close_at", "paused_at", "sla_due_at",
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


# Positions of the tickets table's columns in a row selected as (tickets.*, assignee name):
# the repository loads hundreds of rows per unit, and positional reads cost a third of
# name lookups through the row's mapping.
_POS = {c.name: i for i, c in enumerate(tables.tickets.c)}
_STATUS = {s.value: s for s in Status}
_PRIORITY = {p.value: p for p in Priority}
_TIMES = tuple(
    (name, _POS[name])
    for name in (
        "first_response_at", "resolved_at", "closed_at", "claim_expires_at",
        "last_customer_message_at", "last_agent_message_at", "updated_at", *SLA_TIMES,
    )
)  # fmt: skip


# Fields read from the row as they are: timestamps included, which both databases' column
# types return UTC-aware (storage/sqlite_datetime.py on SQLite, timestamptz on PostgreSQL).
_AS_READ = (
    "id", "subject", "customer_id", "conversation_key", "origin", "queue", "assignee_id",
    "merged_into_id", "version", "sla_policy", "first_response_secs", "resolution_secs",
    "created_at", *(name for name, _ in _TIMES),
)  # fmt: skip
_AS_READ_GET = operator.itemgetter(*(_POS[name] for name in _AS_READ))


def ticket_from_row(row: Any, refs: RefFormat) -> Ticket:
    """A Ticket from a row of (every tickets column in table order, the assignee's name).

    Fills the instance dict directly rather than through the dataclass constructor: a sweep
    or a group commit loads hundreds of tickets, and keyword construction was half the cost
    (tests/unit/test_ticket_diff.py checks it sets what the constructor sets).
    """
    r = tuple(row)
    p = _POS
    ticket = object.__new__(Ticket)
    d = ticket.__dict__
    d.update(zip(_AS_READ, _AS_READ_GET(r), strict=True))
    d["ref"] = refs.format(r[0])
    d["status"] = _STATUS[r[p["status"]]]
    d["priority"] = _PRIORITY[r[p["priority"]]]
    d["assignee_name"] = r[-1]
    d["tags"] = list(r[p["tags"]] or [])
    d["paused_secs"] = r[p["paused_secs"]] or 0
    d["sla_timers"] = timers_from_json(r[p["sla_timers"]])
    d["events"] = []
    d["on_event"] = None
    return ticket


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


# Every field a ticket's row is made of, except the two containers (compared apart).
_SCALARS = operator.attrgetter(*(f for f in TICKET_FIELDS if f not in ("tags", "sla_timers")))


def ticket_copy(t: Ticket) -> Ticket:
    """A detached copy of the fields as loaded, to tell later whether the ticket changed.

    A unit of work loads hundreds of tickets (a group commit, a batch of due timers) and saves
    few: copying the instance dict is ~1 µs where converting every column up front cost ~10."""
    copy = object.__new__(Ticket)
    copy.__dict__.update(t.__dict__)
    copy.tags = list(t.tags)
    copy.sla_timers = dict(t.sla_timers)
    copy.events = []
    copy.on_event = None  # a snapshot records nothing (and must not point back at its unit)
    return copy


def same_fields(a: Ticket, b: Ticket) -> bool:
    """Whether two tickets would be stored as the same row (the cheap check before a diff)."""
    return _SCALARS(a) == _SCALARS(b) and a.tags == b.tags and a.sla_timers == b.sla_timers


# Columns stored exactly as the field holds them, read in one go for the diff below.
_AS_IS = tuple(f for f in TICKET_FIELDS if f not in ("status", "priority", "tags", "sla_timers"))
_AS_IS_GET = operator.attrgetter(*_AS_IS)


def changed_values(t: Ticket, before: Ticket) -> dict[str, Any]:
    """The columns of ``ticket_values(t)`` that differ from ``ticket_values(before)``, in the
    same order, converting only those: a sweep saves hundreds of tickets that each changed two
    or three columns, and converting all thirty twice per ticket was most of the save."""
    out: dict[str, Any] = {}
    for name, new, old in zip(_AS_IS, _AS_IS_GET(t), _AS_IS_GET(before), strict=True):
        if new != old:
            out[name] = new
    if t.status != before.status:
        out["status"] = t.status.value
    if t.priority != before.priority:
        out["priority"] = t.priority.value
    if t.tags != before.tags:
        out["tags"] = list(t.tags)
    if t.sla_timers != before.sla_timers:
        out["sla_timers"] = timers_to_json(t.sla_timers)
    if "updated_at" in out or "created_at" in out:
        new, old = t.updated_at or t.created_at, before.updated_at or before.created_at
        if new != old:
            out["updated_at"] = new
        else:
            out.pop("updated_at", None)
    for column, field_name in _WALL:
        if field_name in out or "created_at" in out:
            new = wall_seconds(getattr(t, field_name), t.created_at)
            if new != wall_seconds(getattr(before, field_name), before.created_at):
                out[column] = new
    if len(out) > 1:  # ticket_values order: tickets with the same changes share a statement
        return {k: out[k] for k in sorted(out, key=_RANK.__getitem__)}
    return out


_WALL = (("first_response_wall_secs", "first_response_at"), ("resolution_wall_secs", "resolved_at"))


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


# Column order of ticket_values (a column set is a tuple in this order).
_RANK = {
    name: i
    for i, name in enumerate(
        ticket_values(Ticket(0, "", "", 0, "", "", datetime(2000, 1, 1, tzinfo=UTC)))
    )
}
