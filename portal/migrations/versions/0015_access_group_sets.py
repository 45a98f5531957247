"""a tax-service access group's clients as one index range: live authorisations by (firm_id, regime, taxpayer_id)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What's due's count (and a page far in) for a standard user restricted by access groups reads each group's
    # clients once (portal.domain.access.in_groups_of): for a tax-service group, the firm's live authorisations in
    # its regime. Without this index PostgreSQL read all of the firm's live authorisations to find them.
    op.create_index("ix_authorisation_live_firm_regime", "authorisation", ["firm_id", "regime", "taxpayer_id"],
                    sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_authorisation_live_firm_regime", table_name="authorisation")
