"""reports: covering indexes for the backlog, per-agent replies, reopenings and SLA breaches

Issue 8 (speed). Each report aggregate that read table rows for a few columns now reads one
index range instead: the backlog (active tickets by status, creation time and assignee), an
agent's public replies in a window, and history rows by kind and new value (reopenings,
SLA breaches per target). Revises 0003, the head when it was written.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-24 00:00:00
"""
from alembic import op

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_tickets_status_created', 'tickets', ['status', 'created_at', 'assignee_id'],
        unique=False,
    )
    op.create_index(
        'ix_messages_author_created', 'messages',
        ['author_kind', 'visibility', 'author_id', 'created_at'], unique=False,
    )
    op.create_index(
        'ix_history_kind_new_at', 'history', ['kind', 'new', 'at', 'old', 'ticket_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_history_kind_new_at', table_name='history')
    op.drop_index('ix_messages_author_created', table_name='messages')
    op.drop_index('ix_tickets_status_created', table_name='tickets')
