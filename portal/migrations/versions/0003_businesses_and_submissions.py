"""businesses and submissions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:34:21.074467
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('business',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('regime', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_by_user_id', sa.Integer(), nullable=False),
    sa.Column('authority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('obligation_id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_taxpayer_id'), ['taxpayer_id'], unique=False)

    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_obligation_business_id_business', 'business', ['business_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_constraint('fk_obligation_business_id_business', type_='foreignkey')
        batch_op.drop_column('business_id')

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_taxpayer_id'))

    op.drop_table('submission')
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_taxpayer_id'))

    op.drop_table('business')

