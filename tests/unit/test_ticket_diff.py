"""Saving a ticket writes the columns that changed: the cheap diff equals the full one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.model import Ticket
from bot.domain.refs import RefFormat
from bot.domain.status import Priority, Status
from storage import tables
from storage.rows import changed_values, ticket_copy, ticket_from_row, ticket_values

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TIMES = st.one_of(st.none(), st.integers(-3, 3).map(lambda h: T0 + timedelta(hours=h)))
# field -> values it may take (None where the column allows it)
CHANGES: dict[str, Any] = {
    "subject": st.sampled_from(["a", "b"]),
    "status": st.sampled_from(list(Status)),
    "priority": st.sampled_from(list(Priority)),
    "queue": st.sampled_from(["general", "billing"]),
    "assignee_id": st.sampled_from([None, 1, 2]),
    "tags": st.lists(st.sampled_from(["vip", "x"]), max_size=2),
    "created_at": st.integers(-2, 0).map(lambda h: T0 + timedelta(hours=h, seconds=0.4 * h)),
    "updated_at": TIMES,
    "first_response_at": TIMES,
    "resolved_at": TIMES,
    "claim_expires_at": TIMES,
    "paused_secs": st.integers(0, 2),
    "sla_timers": st.dictionaries(st.sampled_from(["first_response:breach", "x:warn"]), TIMES),
}


def _full_diff(ticket: Ticket, before: Ticket) -> dict[str, Any]:
    old = ticket_values(before)
    return {k: v for k, v in ticket_values(ticket).items() if old.get(k) != v}


@given(st.fixed_dictionaries({}, optional=CHANGES), st.fixed_dictionaries({}, optional=CHANGES))
def test_changed_values_equal_the_diff_of_every_column(
    start: dict[str, Any], change: dict[str, Any]
) -> None:
    ticket = Ticket(1, "T-1", "subject", 1, "console:c1", "console", T0)
    for name, value in start.items():
        setattr(ticket, name, value)
    before = ticket_copy(ticket)
    for name, value in change.items():
        setattr(ticket, name, value)
    diff = changed_values(ticket, before)
    assert diff == _full_diff(ticket, before)
    assert tuple(diff) == tuple(_full_diff(ticket, before))  # same column set, same order


def _stored_row(ticket: Ticket) -> tuple[Any, ...]:
    """The row a SELECT of (tickets.*, assignee name) returns for ``ticket``."""
    values = {**ticket_values(ticket), "id": ticket.id, "version": ticket.version}
    return (*(values[c.name] for c in tables.tickets.c), ticket.assignee_name)


@given(st.fixed_dictionaries({}, optional=CHANGES))
def test_a_loaded_ticket_equals_the_constructed_one(fields: dict[str, Any]) -> None:
    """ticket_from_row fills the instance dict itself (for speed): it must set every field the
    constructor sets, to the same values."""
    ticket = Ticket(7, "T-7", "subject", 1, "console:c1", "console", T0, assignee_name="ann")
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.updated_at = ticket.updated_at or ticket.created_at  # as stored
    loaded = ticket_from_row(_stored_row(ticket), RefFormat())
    assert loaded == ticket
    assert loaded.ref == "T-7" and loaded.events == [] and loaded.on_event is None
    assert set(vars(loaded)) == {f.name for f in dataclasses.fields(Ticket)}
