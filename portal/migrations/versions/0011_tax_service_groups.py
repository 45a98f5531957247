"""a firm's team and access groups: tax-service groups (a group's regime, the clients excluded from it) and
invitations to join a firm

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
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
    op.create_table(
        "firm_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("invited_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("accepted_user_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["firm_id"], ["firm.id"]),
        sa.ForeignKeyConstraint(["invited_by_user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["accepted_user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_firm_invitation_firm_id"), "firm_invitation", ["firm_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_firm_invitation_firm_id"), table_name="firm_invitation")
    op.drop_table("firm_invitation")
    op.drop_index(op.f("ix_access_group_exclusion_taxpayer_id"), table_name="access_group_exclusion")
    op.drop_table("access_group_exclusion")
    op.drop_column("access_group", "regime")
