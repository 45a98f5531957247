"""whether a taxpayer is a Scottish taxpayer

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Everyone held today becomes "not a Scottish taxpayer" until someone who may change their details says so,
    # which is what the calculation assumed before this column existed.
    # A plain ADD COLUMN (SQLite has one): batch mode would copy the table, which its foreign keys forbid.
    op.add_column("taxpayer", sa.Column("scottish_taxpayer", sa.Boolean(), server_default=sa.false(),
                                        nullable=False))


def downgrade() -> None:
    op.drop_column("taxpayer", "scottish_taxpayer")  # SQLite 3.35+ drops a column in place
