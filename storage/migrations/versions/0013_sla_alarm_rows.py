"""sla_alarms: each pending SLA alarm is a row keyed by its time; tickets lose `sla_next_at`

Issue 6 (speed of the sweep). Until now firing an alarm rewrote the ticket: the alarm was
marked fired (null) in `sla_timers` and `sla_next_at`, an indexed column, moved on. On SQLite
that is one scattered table page per fired ticket, logged and checkpointed; on PostgreSQL a
non-HOT update of a row with a dozen indexes. Now the scheduler reads `sla_alarms`, whose key
starts with the time, and firing deletes the due rows (a few neighbouring pages); the ticket
keeps its planned alarm times, and one whose time has passed counts as fired. Filled here
from the live alarms of tickets whose clock runs. Revises 0012.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 11:00:00
"""
import json
from datetime import UTC, datetime
from typing import Any

from alembic import op
import sqlalchemy as sa

from storage.sqlite_datetime import SqliteDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True).with_variant(SqliteDateTime(timezone=True), 'sqlite')
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ALARMS = sa.table('sla_alarms', sa.column('at', TS), sa.column('ticket_id', ID),
                  sa.column('alarm', sa.String))
ACTIVE = "('new', 'open', 'pending', 'on_hold')"


def _timers(value: Any) -> dict[str, datetime | None]:
    data = json.loads(value) if isinstance(value, str) else (value or {})
    return {k: None if v is None else datetime.fromisoformat(v).astimezone(UTC)
            for k, v in data.items()}


def _aware(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=value.tzinfo or UTC) if value is not None else None


def upgrade() -> None:
    op.create_table(
        'sla_alarms',
        sa.Column('at', TS, nullable=False),
        sa.Column('ticket_id', ID, nullable=False),
        sa.Column('alarm', sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_sla_alarms_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('at', 'ticket_id', 'alarm', name=op.f('pk_sla_alarms')),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    # sla_next_at is set only while the clock runs and an alarm is live: exactly the alarms
    # the old scheduler would still have fired
    live = bind.execute(sa.text(
        "SELECT id, sla_timers FROM tickets WHERE sla_next_at IS NOT NULL"
    )).all()
    rows = [
        {'at': at, 'ticket_id': tid, 'alarm': key}
        for tid, timers in live
        for key, at in _timers(timers).items()
        if at is not None
    ]
    for start in range(0, len(rows), 5000):
        bind.execute(ALARMS.insert(), rows[start:start + 5000])
    op.drop_index('ix_tickets_status_slanext', table_name='tickets')
    op.drop_column('tickets', 'sla_next_at')


def downgrade() -> None:
    op.add_column('tickets', sa.Column('sla_next_at', TS, nullable=True))
    bind = op.get_bind()
    pending: dict[int, dict[str, datetime]] = {}
    for at, tid, key in bind.execute(sa.select(ALARMS.c.at, ALARMS.c.ticket_id, ALARMS.c.alarm)):
        pending.setdefault(tid, {})[key] = at.replace(tzinfo=at.tzinfo or UTC)
    tickets = sa.table('tickets', sa.column('id', ID), sa.column('sla_timers', sa.JSON),
                       sa.column('sla_next_at', TS))
    active = bind.execute(sa.text(
        f"SELECT id, sla_timers, status, paused_at FROM tickets WHERE status IN {ACTIVE} "
        "AND sla_timers IS NOT NULL"
    )).all()
    now = datetime.now(UTC)
    for tid, raw, status, paused_at in active:
        # the old schema marks a fired alarm null: one the clock has passed (it stops at
        # paused_at) and whose row is gone has fired
        rows = pending.get(tid, {})
        clock = _aware(paused_at) or now
        timers = {k: (None if v is None or (rows.get(k) != v and v <= clock) else v)
                  for k, v in _timers(raw).items()}
        live = [v for v in timers.values() if v is not None]
        running = status in ('new', 'open') and paused_at is None
        bind.execute(
            tickets.update().where(tickets.c.id == tid).values(
                sla_timers={k: None if v is None else v.isoformat() for k, v in timers.items()},
                sla_next_at=min(live) if live and running else None,
            )
        )
    where = sa.text('sla_next_at IS NOT NULL')
    op.create_index('ix_tickets_status_slanext', 'tickets', ['status', 'sla_next_at'],
                    unique=False, sqlite_where=where, postgresql_where=where)
    op.drop_table('sla_alarms')
