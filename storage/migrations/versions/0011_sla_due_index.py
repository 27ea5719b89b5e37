"""tickets: `sla_due_at`, the earliest due time of a ticket whose clock runs, and its index

Issue 6. "Breaching soon" (`list due:1h`, Slack's App Home) asks for running tickets whose
first response, next response or resolution falls due before a moment, breached ones
included. Migration 0010 dropped the three (status, due) indexes that query read, and with
them it became a scan of the whole table (436 ms over 1,000,000 tickets). One column kept by
the domain (bot/domain/sla_clock.refresh) and one partial index serve it instead: a ticket
without a running clock is not in it, and an SLA alarm firing does not touch it. Filled here
for the tickets written before. Revises 0010.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

RUNNING = "status IN ('new', 'open') AND paused_at IS NULL"


def upgrade() -> None:
    op.add_column('tickets', sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE tickets SET sla_due_at = first_response_due WHERE {RUNNING}")
    for due in ('next_response_due', 'resolution_due'):
        op.execute(
            f"UPDATE tickets SET sla_due_at = {due} WHERE {RUNNING} AND {due} IS NOT NULL "
            f"AND (sla_due_at IS NULL OR {due} < sla_due_at)"
        )
    where = sa.text('sla_due_at IS NOT NULL')
    op.create_index('ix_tickets_sla_due', 'tickets', ['sla_due_at'], unique=False,
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index('ix_tickets_sla_due', table_name='tickets')
    op.drop_column('tickets', 'sla_due_at')
