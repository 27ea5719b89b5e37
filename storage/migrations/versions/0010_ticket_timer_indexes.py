"""tickets: drop four unused due-time indexes; the timer indexes hold only tickets with a timer

Issues 2 and 6 (speed). `(status, warn_at)`, `(status, first_response_due)`, `(status,
next_response_due)` and `(status, resolution_due)` date from the first schema: since 0002 the
scheduler asks `sla_next_at` (the next SLA alarm of any kind) and no query reads them, but
every new ticket, status change and customer message paid for keeping them. The four timer
indexes the scheduler does read become partial (`WHERE <column> IS NOT NULL`): its queries
compare the column, which only a non-null value passes, so they can still use them, while
the many tickets with no claim, reminder, auto-close or SLA alarm pending are in none of
them. Revises 0009.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 07:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UNUSED = {
    'ix_tickets_status_warn': 'warn_at',
    'ix_tickets_status_frd': 'first_response_due',
    'ix_tickets_status_nrd': 'next_response_due',
    'ix_tickets_status_resd': 'resolution_due',
}
TIMERS = {
    'ix_tickets_status_claim': 'claim_expires_at',
    'ix_tickets_status_slanext': 'sla_next_at',
    'ix_tickets_status_remind': 'remind_at',
    'ix_tickets_status_autoclose': 'auto_close_at',
}


def upgrade() -> None:
    for name in UNUSED:
        op.drop_index(name, table_name='tickets')
    for name, column in TIMERS.items():
        op.drop_index(name, table_name='tickets')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'tickets', ['status', column], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, column in TIMERS.items():
        op.drop_index(name, table_name='tickets')
        op.create_index(name, 'tickets', ['status', column], unique=False)
    for name, column in UNUSED.items():
        op.create_index(name, 'tickets', ['status', column], unique=False)
