"""reports: wall-clock durations as columns, and ticket tags as rows

Issue 8 (speed). The report's first-response and resolution times read, per ticket, the
seconds from creation to the event: computing them from two timestamps per row was most of
each duration query on SQLite. They are now integer columns written with the event
(storage/rows.py) and read from the event's covering index, which gains them. The top tags
counted tickets by reading each one's JSON `tags`; `ticket_tags` holds a row per tag of a
ticket (kept by the ticket repository) so that each count is an index range. Both are filled
here for the tickets written before. Revises 0007.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 02:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _wall(pg: bool, at: str) -> str:
    """Whole seconds from created_at to `at`, each truncated to the second (storage/rows.py)."""
    if pg:
        return (f"CAST(date_part('epoch', date_trunc('second', {at}) - "
                "date_trunc('second', created_at)) AS BIGINT)")
    # stored as 'YYYY-MM-DD HH:MM:SS.ffffff': the first 19 characters are the second; the
    # julian days' difference is then whole seconds up to float error, which rounding removes
    return (f"CAST(round((julianday(substr({at}, 1, 19)) - "
            "julianday(substr(created_at, 1, 19))) * 86400) AS INTEGER)")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    op.add_column('tickets', sa.Column('first_response_wall_secs', sa.Integer(), nullable=True))
    op.add_column('tickets', sa.Column('resolution_wall_secs', sa.Integer(), nullable=True))
    for column, at in (('first_response_wall_secs', 'first_response_at'),
                       ('resolution_wall_secs', 'resolved_at')):
        op.execute(f"UPDATE tickets SET {column} = {_wall(pg, at)} WHERE {at} IS NOT NULL")
    op.drop_index('ix_tickets_resolved', table_name='tickets')
    op.drop_index('ix_tickets_first_response', table_name='tickets')
    op.create_index(
        'ix_tickets_resolved', 'tickets',
        ['resolved_at', 'created_at', 'resolution_wall_secs', 'resolution_secs', 'assignee_id'],
        unique=False,
    )
    op.create_index(
        'ix_tickets_first_response', 'tickets',
        ['first_response_at', 'first_response_wall_secs', 'first_response_secs', 'assignee_id'],
        unique=False,
    )
    op.create_table(
        'ticket_tags',
        sa.Column('ticket_id', ID, nullable=False),
        sa.Column('tag', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_ticket_tags_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', 'tag', name=op.f('pk_ticket_tags')),
    )
    if pg:
        tags = ("FROM tickets CROSS JOIN LATERAL json_array_elements_text(tickets.tags) "
                "AS j(value)")
    else:
        tags = "FROM tickets, json_each(tickets.tags) AS j"
    op.execute(
        "INSERT INTO ticket_tags (ticket_id, tag, created_at) "
        f"SELECT DISTINCT tickets.id, j.value, tickets.created_at {tags}"
    )
    op.create_index(
        'ix_ticket_tags_tag_created', 'ticket_tags', ['tag', 'created_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_ticket_tags_tag_created', table_name='ticket_tags')
    op.drop_table('ticket_tags')
    op.drop_index('ix_tickets_first_response', table_name='tickets')
    op.drop_index('ix_tickets_resolved', table_name='tickets')
    op.create_index(
        'ix_tickets_resolved', 'tickets',
        ['resolved_at', 'created_at', 'resolution_secs', 'assignee_id'], unique=False,
    )
    op.create_index(
        'ix_tickets_first_response', 'tickets',
        ['first_response_at', 'created_at', 'first_response_secs', 'assignee_id'], unique=False,
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('resolution_wall_secs')
        batch_op.drop_column('first_response_wall_secs')
