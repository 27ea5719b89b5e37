"""Tickets: loaded into the unit of work's identity map, saved with a version check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Update

from bot.domain import events as ev
from bot.domain.errors import ConcurrencyConflict
from bot.domain.model import Ticket
from bot.domain.refs import RefFormat
from storage import tables as t
from storage import ticket_tags
from storage.alarms_repo import AlarmRepository, planned
from storage.bulk import insert_many, update_many
from storage.ids import IdAllocator
from storage.rows import (
    changed_values,
    same_fields,
    ticket_copy,
    ticket_from_row,
    ticket_values,
)
from storage.ticket_queries import (
    BY_CONVERSATION,
    BY_ID,
    LATEST_PER_CONVERSATION,
    TicketQueries,
)

_UPDATES: dict[tuple[str, ...], Update] = {}
_WHERE = ("id", "version")  # a ticket's UPDATE matches the version it was loaded at


def _update_for(keys: tuple[str, ...]) -> Update:
    """UPDATE … WHERE id = :id AND version = :version, one statement object per column set."""
    stmt = _UPDATES.get(keys)
    if stmt is None:
        values: dict[str, Any] = {k: bindparam(f"v_{k}") for k in keys}
        values["version"] = bindparam("v_new_version")
        stmt = (
            update(t.tickets)
            .where(
                t.tickets.c.id == bindparam("w_id"), t.tickets.c.version == bindparam("w_version")
            )
            .values(values)
        )
        _UPDATES[keys] = stmt
    return stmt


class TicketRepository(TicketQueries):
    """Tickets by id, conversation and filters. Every loaded ticket is tracked for saving."""

    def __init__(self, conn: AsyncConnection, refs: RefFormat, alarms: AlarmRepository) -> None:
        self._conn = conn
        self.refs = refs
        self._alarms = alarms  # each saved plan's new alarms become rows there
        self.seen: dict[int, Ticket] = {}
        # tickets that recorded events not yet collected (ids keep first-event order)
        self.eventful: dict[int, Ticket] = {}
        self._loaded_version: dict[int, int] = {}
        # each loaded ticket's fields as loaded (or last saved): what save_all diffs against
        self._snapshot: dict[int, Ticket] = {}
        self._new: list[int] = []
        self._conversations: dict[str, int | None] = {}
        self._ids = IdAllocator(conn, "tickets")
        self._sqlite = conn.dialect.name == "sqlite"
        self.timer_claims: set[int] = set()
        # rows this transaction locked (FOR UPDATE) before reading them: nobody can change
        # them until commit, so their version-checked UPDATEs may go out as one executemany
        self._locked: set[int] = set()

    def _track(self, row: Any) -> Ticket:
        tid = row[
            0
        ]  # rows are ticket_queries._COLUMNS: the tickets table's columns in order, id first
        if tid in self.seen:
            return self.seen[tid]
        ticket = ticket_from_row(row, self.refs)
        ticket.on_event = self._note_event
        self.seen[tid] = ticket
        self._loaded_version[tid] = ticket.version
        self._snapshot[tid] = ticket_copy(ticket)
        return ticket

    def _note_event(self, ticket: Ticket) -> None:
        self.eventful.setdefault(ticket.id, ticket)

    def release(self) -> None:
        """Forget every ticket at the end of the unit. Each tracked ticket points back here
        (``on_event``), a cycle only the garbage collector could free: a sweep's 500 tickets
        and their snapshots would linger into the older generations and make the collector's
        passes long. Unhooked, they are freed as soon as the unit ends."""
        for ticket in self.seen.values():
            ticket.on_event = None
        self.seen.clear()
        self.eventful.clear()
        self._snapshot.clear()

    def take_events(self) -> list[ev.Event]:
        """Events recorded on loaded tickets since the last call, in order of the tickets' first."""
        out: list[ev.Event] = []
        while self.eventful:
            tickets, self.eventful = list(self.eventful.values()), {}
            for ticket in tickets:
                out.extend(ticket.events)
                ticket.events.clear()
        return out

    async def get(self, ticket_id: int) -> Ticket | None:
        if ticket_id in self.seen:
            return self.seen[ticket_id]
        row = (await self._conn.execute(BY_ID, {"tid": ticket_id})).first()
        return self._track(row) if row else None

    async def latest_for_conversation(self, key: str) -> Ticket | None:
        """The newest ticket of a conversation, counting tickets created in this unit."""
        if key not in self._conversations:
            row = (await self._conn.execute(BY_CONVERSATION, {"key": key})).first()
            self._conversations[key] = self._track(row).id if row else None
        known = self._conversations[key]
        return self.seen[known] if known is not None else None

    async def prefetch_conversations(self, keys: list[str]) -> None:
        """Load the latest ticket of each conversation in one query (group commit)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._conversations]
        if not wanted:
            return
        for key in wanted:
            self._conversations[key] = None
        for row in (await self._conn.execute(LATEST_PER_CONVERSATION, {"keys": wanted})).all():
            ticket = self._track(row)
            self._conversations[ticket.conversation_key] = ticket.id

    async def add(self, ticket: Ticket) -> Ticket:
        """Give the ticket its id now (the ack shows its reference); the row is written at flush."""
        new_id = await self._ids.next()
        self._new.append(new_id)
        ticket.id = new_id
        ticket.ref = self.refs.format(new_id)
        for event in ticket.events:
            object.__setattr__(event, "ticket_id", new_id)
        ticket.on_event = self._note_event
        if ticket.events:
            self.eventful[new_id] = ticket
        self.seen[new_id] = ticket
        self._loaded_version[new_id] = ticket.version
        self._snapshot[new_id] = ticket_copy(ticket)
        self._conversations[ticket.conversation_key] = new_id
        return ticket

    async def flush_new(self) -> None:
        """Insert the tickets created in this unit, in one statement."""
        if not self._new:
            return
        rows = []
        for tid in self._new:
            ticket = self.seen[tid]
            rows.append({**ticket_values(ticket), "id": tid, "version": 1})
            if ticket.sla_timers:
                self._alarms.plan(tid, planned({}, ticket.sla_timers))
            self._snapshot[tid] = ticket_copy(ticket)
        self._new = []
        await insert_many(self._conn, t.tickets, rows)
        await ticket_tags.insert_tags(
            self._conn, [(r["id"], r["tags"], r["created_at"]) for r in rows if r["tags"]]
        )

    async def save_all(self) -> None:
        """Write new and changed tickets; a concurrent change makes the whole unit retry.

        Every UPDATE checks the version the ticket was loaded at. Tickets with the same changed
        columns go out as one statement (storage/bulk.py `update_many`) where that is safe: on
        SQLite (this transaction has held the write lock since BEGIN IMMEDIATE) and on
        PostgreSQL for rows locked before they were read (the timers' claims); the statement's
        row count still proves each version matched. Other PostgreSQL rows go one by one.
        """
        await self.flush_new()
        batches: dict[tuple[str, ...], list[Any]] = {}
        saved: list[int] = []
        retagged: list[ticket_tags.Tagged] = []
        for tid, ticket in self.seen.items():
            loaded = self._loaded_version[tid]
            if same_fields(ticket, self._snapshot[tid]):
                continue
            values = changed_values(ticket, self._snapshot[tid])
            changed = tuple(values)
            saved.append(tid)
            if "tags" in changed:
                retagged.append((tid, values["tags"], ticket.created_at))
            if "sla_timers" in changed:
                self._alarms.plan(tid, planned(self._snapshot[tid].sla_timers, ticket.sla_timers))
            if self._sqlite or tid in self._locked:  # one UPDATE per column set, below
                row = (*(values[k] for k in changed), loaded + 1, tid, loaded)
                batches.setdefault(changed, []).append(row)
                continue
            params = {f"v_{k}": values[k] for k in changed}
            params.update(v_new_version=loaded + 1, w_id=tid, w_version=loaded)
            result = await self._conn.execute(_update_for(changed), params)
            if result.rowcount != 1:
                raise ConcurrencyConflict(f"ticket {tid} changed concurrently")
        for changed, rows in batches.items():  # SET changed columns and version, WHERE id, version
            sets = (*changed, "version")
            if await update_many(self._conn, t.tickets, sets, _WHERE, rows) != len(rows):
                raise ConcurrencyConflict("a ticket changed concurrently")
        await ticket_tags.replace_tags(self._conn, retagged)
        for tid in saved:
            self.seen[tid].version = self._loaded_version[tid] + 1
            self._loaded_version[tid] = self.seen[tid].version
            self._snapshot[tid] = ticket_copy(self.seen[tid])
