"""tax-service access groups: a group's regime, and the clients excluded from it

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-29 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"  # others are writing 0009 and 0010: re-chained when merged
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing group is a custom group (no regime). A plain ADD COLUMN: batch mode would copy the table.
    op.add_column("access_group", sa.Column("regime", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
    op.create_table(
        "access_group_exclusion",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("taxpayer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["access_group.id"]),
        sa.ForeignKeyConstraint(["taxpayer_id"], ["taxpayer.id"]),
        sa.PrimaryKeyConstraint("group_id", "taxpayer_id"),
    )
    op.create_index(op.f("ix_access_group_exclusion_taxpayer_id"), "access_group_exclusion", ["taxpayer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_access_group_exclusion_taxpayer_id"), table_name="access_group_exclusion")
    op.drop_table("access_group_exclusion")
    op.drop_column("access_group", "regime")
