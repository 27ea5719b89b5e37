"""reports: indexes for report windows: resolved, first response, closed, replies, surveys

Issue 8. Report aggregates select tickets by the time of an event (resolved_at,
first_response_at, closed_at), agent replies by created_at and CSAT surveys by the time they
were sent: one index range each instead of a scan of every ticket or message, covering the
columns the aggregates read. It revises 0005 (the head when it was written) so the chain
keeps a single head.

Revision ID: 0003
Revises: 0005
Create Date: 2026-11-24 12:00:00
"""
from alembic import op


revision = '0003'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Composite so that percentiles and per-agent figures are read from the index alone.
    op.create_index(
        'ix_tickets_resolved', 'tickets',
        ['resolved_at', 'created_at', 'resolution_secs', 'assignee_id'], unique=False,
    )
    op.create_index(
        'ix_tickets_first_response', 'tickets',
        ['first_response_at', 'created_at', 'first_response_secs', 'assignee_id'], unique=False,
    )
    op.create_index('ix_tickets_closed', 'tickets', ['closed_at'], unique=False)
    op.create_index(
        'ix_messages_kind_created', 'messages',
        ['author_kind', 'created_at', 'visibility', 'author_id'], unique=False,
    )
    op.create_index('ix_ratings_survey_sent', 'ratings', ['survey_sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ratings_survey_sent', table_name='ratings')
    op.drop_index('ix_messages_kind_created', table_name='messages')
    op.drop_index('ix_tickets_closed', table_name='tickets')
    op.drop_index('ix_tickets_first_response', table_name='tickets')
    op.drop_index('ix_tickets_resolved', table_name='tickets')
