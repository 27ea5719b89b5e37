"""catalog_version: one counter the database bumps whenever agents, routing rules, queues or
the public knowledge base change, so each process may keep them between units of work

Issue 2. Every group commit read its authors' agent rows, the routing rules, its queue and
whether any public KB article exists: four statements (four thread hops on SQLite) of the
~10 a group made, for rows that change a few times a year (an agent's away/back included).
storage/catalog_cache.py keeps them per process and reads this one row instead (on SQLite in
the hop that sends BEGIN, so for nothing). Triggers
keep it, so a change made by any process or worker, through deskbot or by hand, is seen at the
next unit of work. On kb_articles only a change of state or visibility counts.
Revises 0011.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

WATCHED = [  # table, the events that change what is cached
    ('agents', ('INSERT', 'UPDATE', 'DELETE')),
    ('agent_identities', ('INSERT', 'UPDATE', 'DELETE')),
    ('queues', ('INSERT', 'UPDATE', 'DELETE')),
    ('routing_rules', ('INSERT', 'UPDATE', 'DELETE')),
    ('kb_articles', ('INSERT', 'UPDATE OF state, visibility', 'DELETE')),
]
BUMP = 'UPDATE catalog_version SET version = version + 1 WHERE id = 1'


def _name(table: str, event: str) -> str:
    return f"catalog_{table}_{event.split()[0].lower()}"


def upgrade() -> None:
    op.create_table(
        'catalog_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version')),
    )
    op.execute('INSERT INTO catalog_version (id, version) VALUES (1, 1)')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS '
            f'$$ BEGIN {BUMP}; RETURN NULL; END $$'
        )
        for table, events in WATCHED:
            for event in (*events, 'TRUNCATE'):
                op.execute(
                    f'CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} '
                    'FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()'
                )
        return
    for table, events in WATCHED:
        for event in events:
            op.execute(
                f'CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} '
                f'BEGIN {BUMP}; END'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':  # the triggers go with their function
        op.execute('DROP FUNCTION bump_catalog_version() CASCADE')
    else:
        for table, events in WATCHED:
            for event in events:
                op.execute(f'DROP TRIGGER {_name(table, event)}')
    op.drop_table('catalog_version')
