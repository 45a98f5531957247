"""email: the outbox, its attempts, reminder keys, each person's language and the email preferences

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs with server defaults: everyone already registered reads English, gets "on your behalf"
    # emails, and no firm's contact address gets copies until the firm asks for them.
    op.add_column("user", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), server_default="en",
                                    nullable=False))
    op.add_column("user", sa.Column("emails_on_behalf", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("firm", sa.Column("contact_gets_copies", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "outbox_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_outbox_email_due", "outbox_email", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "outbox_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["email_id"], ["outbox_email.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_outbox_attempt_email_id"), "outbox_attempt", ["email_id"], unique=False)
    op.create_table(
        "reminder_sent",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["authorisation_request.id"]),
        sa.PrimaryKeyConstraint("request_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("reminder_sent")
    op.drop_index(op.f("ix_outbox_attempt_email_id"), table_name="outbox_attempt")
    op.drop_table("outbox_attempt")
    op.drop_index("ix_outbox_email_due", table_name="outbox_email")
    op.drop_table("outbox_email")
    op.drop_column("firm", "contact_gets_copies")
    op.drop_column("user", "emails_on_behalf")
    op.drop_column("user", "language")
