"""the API: each token row knows its grant (so a reused refresh token can end the whole grant) and when its
refresh token was used; indexes for the client list and the change feed walked by cursor

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
# 0012 is being written on another branch at the same time: whichever merges second re-chains onto the other
# (nothing here depends on it).
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (batch mode would copy the table).
    op.add_column("api_token", sa.Column("grant_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.add_column("api_token", sa.Column("refresh_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # Rows from before this migration cannot be traced back to their consent: their grant is the agent's whole
    # connection with that application (what "Remove access" on connected applications ends anyway).
    op.execute("UPDATE api_token SET grant_id = 'legacy-' || application_id || '-' || user_id")
    op.create_index(op.f("ix_api_token_grant_id"), "api_token", ["grant_id"], unique=False)
    # Keyset pages in id order within one firm: a seek per page (bench/api_pages.py; without them SQLite sorted all
    # of a firm's audit events for every page of the feed, and walked other firms' rows for the client list).
    op.create_index("ix_authorisation_live_firm_id", "authorisation", ["firm_id", "id"], unique=False,
                    sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL"))
    op.create_index("ix_audit_event_firm_id", "audit_event", ["firm_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_event_firm_id", table_name="audit_event")
    op.drop_index("ix_authorisation_live_firm_id", table_name="authorisation")
    op.drop_index(op.f("ix_api_token_grant_id"), table_name="api_token")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("refresh_used_at")
        batch.drop_column("grant_id")
