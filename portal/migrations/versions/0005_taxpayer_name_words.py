"""taxpayer name words, for name searches that walk an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must build the same rows whatever portal.domain.names becomes later.
_WORD = re.compile(r"[a-z0-9]+")


def upgrade() -> None:
    words = op.create_table(
        "taxpayer_name_word",
        sa.Column("word", sa.String(length=160).with_variant(sa.String(length=160, collation="C"), "postgresql"),
                  nullable=False),
        sa.Column("taxpayer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["taxpayer_id"], ["taxpayer.id"]),
        sa.PrimaryKeyConstraint("word", "taxpayer_id"),
    )
    with op.batch_alter_table("taxpayer_name_word", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxpayer_name_word_taxpayer_id"), ["taxpayer_id"], unique=False)
    connection = op.get_bind()
    rows = [{"taxpayer_id": taxpayer_id, "word": word}
            for taxpayer_id, name in connection.execute(sa.text("SELECT id, name FROM taxpayer"))
            for word in dict.fromkeys(_WORD.findall(name.lower()))]
    for start in range(0, len(rows), 5000):
        connection.execute(sa.insert(words), rows[start:start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("taxpayer_name_word", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxpayer_name_word_taxpayer_id"))
    op.drop_table("taxpayer_name_word")
