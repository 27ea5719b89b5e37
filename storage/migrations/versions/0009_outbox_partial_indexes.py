"""outbox: index only the rows that are looked up by ticket or by platform id

Issues 2 and 6 (speed). Every outbound message is an outbox row, and each row went into four
indexes. Two of them serve lookups of few rows: a ticket's *failed* deliveries (the card's
count, `show`) and a sent mail's Message-ID (replies and bounces). Rows are written queued
and without a platform id, so as partial indexes neither costs anything when a row is
written; a row enters them when it fails or is sent. On SQLite that made writing 1,000
outbox rows (an SLA sweep's) 6.8 → 3.6 ms. Revises 0008.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 06:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FAILED = sa.text("status = 'failed'")
SENT = sa.text("external_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_outbox_ticket', table_name='outbox')
    op.drop_index('ix_outbox_platform_external', table_name='outbox')
    op.create_index('ix_outbox_failed', 'outbox', ['ticket_id'], unique=False,
                    sqlite_where=FAILED, postgresql_where=FAILED)
    op.create_index('ix_outbox_platform_external', 'outbox', ['platform', 'external_id'],
                    unique=False, sqlite_where=SENT, postgresql_where=SENT)


def downgrade() -> None:
    op.drop_index('ix_outbox_platform_external', table_name='outbox')
    op.drop_index('ix_outbox_failed', table_name='outbox')
    op.create_index('ix_outbox_platform_external', 'outbox', ['platform', 'external_id'],
                    unique=False)
    op.create_index('ix_outbox_ticket', 'outbox', ['ticket_id', 'status'], unique=False)
