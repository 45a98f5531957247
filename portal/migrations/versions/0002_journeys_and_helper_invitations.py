"""journeys and helper invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:12:20.179513
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('helper_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_helper_link_invite_token_hash', ['invite_token_hash'])

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('journeys', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('journeys')

    with op.batch_alter_table('helper_link', schema=None) as batch_op:
        batch_op.drop_constraint('uq_helper_link_invite_token_hash', type_='unique')
        batch_op.drop_column('invite_token_hash')


