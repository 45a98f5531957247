"""index for each client's next deadline

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index('ix_obligation_open_taxpayer', ['taxpayer_id', 'due_date', 'regime', 'fulfilled_on'],
                              unique=False, sqlite_where=sa.text('fulfilled_on IS NULL'),
                              postgresql_where=sa.text('fulfilled_on IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_open_taxpayer', sqlite_where=sa.text('fulfilled_on IS NULL'),
                            postgresql_where=sa.text('fulfilled_on IS NULL'))
