"""history and outbox: `ticket_id` keeps its index but loses its foreign key to tickets

Issue 6 (speed of the sweep). A sweep firing 500 SLA breaches writes 500 history rows and
500 card edits; PostgreSQL checks each row's key with its own locking lookup of the ticket
(`SELECT 1 … FOR KEY SHARE`), 3.7 ms of each 500-row INSERT, 7.5 ms of a 45 ms sweep (SQLite:
1.4 ms each). The check can never fail here: tickets are never deleted, and both tables are
written only by the unit of work, for tickets it loaded or created in the same transaction.
The test fixtures check after every database test that no history or outbox row names a
missing ticket (tests/conftest.py), so a bug that would have tripped the key still fails
the suite. sla_alarms, ratings, messages and the rest keep theirs. Revises 0013.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 10:00:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TABLES = ('history', 'outbox')


def upgrade() -> None:
    for table in TABLES:
        with _copied(table) as batch:
            batch.drop_constraint(f'fk_{table}_ticket_id_tickets', type_='foreignkey')


def downgrade() -> None:
    for table in TABLES:
        with _copied(table) as batch:
            batch.create_foreign_key(
                f'fk_{table}_ticket_id_tickets', 'tickets', ['ticket_id'], ['id']
            )


class _copied:
    """`batch_alter_table` that keeps what SQLite's copy of a table would lose: AUTOINCREMENT
    (asked for again) and the id counter, which may be past the highest id left (a pruned
    outbox), so an id handed out once is never handed out again."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.bind = op.get_bind()
        self.sqlite = self.bind.dialect.name == 'sqlite'
        self.batch = op.batch_alter_table(table, table_kwargs={'sqlite_autoincrement': True})

    def __enter__(self) -> Any:
        if self.sqlite:
            self.seq = self.bind.execute(
                sa.text('SELECT seq FROM sqlite_sequence WHERE name = :t'), {'t': self.table}
            ).scalar()
        return self.batch.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        done = self.batch.__exit__(*exc)
        if self.sqlite and self.seq is not None and exc[0] is None:
            self.bind.execute(
                sa.text('UPDATE sqlite_sequence SET seq = max(seq, :s) WHERE name = :t'),
                {'s': self.seq, 't': self.table},
            )
        return done
