"""people: a phone number on customer identities (from platform profiles)

Issue 2 (customers have identities with display name, email and phone). Revises 0006.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_column('phone')
