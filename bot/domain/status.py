"""Ticket statuses, priorities and the explicit transition table."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    def raised(self) -> Priority:
        order = list(Priority)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    SYSTEM = "system"


_WORKING = {Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(_WORKING | {Status.MERGED}),
    Status.OPEN: frozenset((_WORKING - {Status.OPEN}) | {Status.MERGED}),
    Status.PENDING: frozenset((_WORKING - {Status.PENDING}) | {Status.MERGED}),
    Status.ON_HOLD: frozenset((_WORKING - {Status.ON_HOLD}) | {Status.MERGED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED, Status.MERGED}),
    Status.CLOSED: frozenset({Status.OPEN}),
    Status.MERGED: frozenset(),
}

ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
"""Statuses in which a ticket is still being worked (the backlog)."""


def allowed_from(status: Status) -> list[str]:
    """The statuses a ticket may move to from `status`, in a stable order for messages."""
    return [s.value for s in Status if s in TRANSITIONS[status]]
