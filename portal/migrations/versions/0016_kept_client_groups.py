"""each firm client's access groups and live tax services, kept on its row: firm_client.group_set_id (an
access_group_set: one combination of the firm's groups) and firm_client.regime_bits

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 00:20:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# portal.domain.group_sets.REGIME_BITS as this revision stores them (a bit is never changed or reused).
REGIME_BITS = {"ITSA": 1, "IRV": 2, "VAT": 4, "TRS": 8, "CGT": 16, "PPT": 32, "CBC": 64, "PLR": 128}


def upgrade() -> None:
    op.create_table(
        "access_group_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["firm_id"], ["firm.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_access_group_set_firm_id"), "access_group_set", ["firm_id"])
    op.create_table(
        "access_group_set_group",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["access_group_set.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["access_group.id"]),
        sa.PrimaryKeyConstraint("set_id", "group_id"),
    )
    op.create_index(op.f("ix_access_group_set_group_group_id"), "access_group_set_group", ["group_id"])
    # Plain ADD COLUMNs: batch mode would copy the table (and SQLite can add a reference only with its column).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE firm_client ADD COLUMN group_set_id INTEGER REFERENCES access_group_set (id)")
    else:
        op.add_column("firm_client", sa.Column("group_set_id", sa.Integer(), nullable=True))
        op.create_foreign_key("firm_client_group_set_id_fkey", "firm_client", "access_group_set", ["group_set_id"],
                              ["id"])
    op.add_column("firm_client", sa.Column("regime_bits", sa.Integer(), nullable=False, server_default="0"))
    # The list's order, with the kept columns every list filters on: walked from the index alone.
    op.drop_index("ix_firm_client_firm_sort", table_name="firm_client")
    op.create_index("ix_firm_client_firm_sort", "firm_client",
                    ["firm_id", "sort_name", "taxpayer_id", "group_set_id", "regime_bits"])
    # What's due asks of each obligation's client whether the person may see it: from the index alone.
    op.create_index("ix_firm_client_groups", "firm_client", ["firm_id", "taxpayer_id", "group_set_id"])
    _keep_what_the_tables_say()


def _keep_what_the_tables_say() -> None:
    """What portal.domain.group_sets.refresh keeps, worked out once for the rows already there."""
    bit = " ".join(f"WHEN '{regime}' THEN {value}" for regime, value in REGIME_BITS.items())
    op.execute(f"UPDATE firm_client SET regime_bits = COALESCE((SELECT SUM(DISTINCT CASE a.regime {bit} ELSE 0 END) "
               "FROM authorisation a WHERE a.firm_id = firm_client.firm_id AND a.taxpayer_id = firm_client.taxpayer_id "
               "AND a.ended_at IS NULL), 0)")
    connection = op.get_bind()
    holding = connection.execute(sa.text(
        "SELECT g.firm_id, c.taxpayer_id, g.id FROM access_group_client c JOIN access_group g ON g.id = c.group_id "
        "UNION SELECT g.firm_id, a.taxpayer_id, g.id FROM authorisation a "
        "JOIN access_group g ON g.firm_id = a.firm_id AND g.regime = a.regime WHERE a.ended_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM access_group_exclusion x WHERE x.group_id = g.id "
        "AND x.taxpayer_id = a.taxpayer_id)"))
    groups: dict[tuple[int, int], set[int]] = defaultdict(set)
    for firm_id, taxpayer_id, group_id in holding:
        groups[(firm_id, taxpayer_id)].add(group_id)
    sets: dict[tuple[int, frozenset[int]], int] = {}
    updates = []
    for (firm_id, taxpayer_id), ids in groups.items():
        key = (firm_id, frozenset(ids))
        if key not in sets:
            sets[key] = connection.execute(sa.text(
                "INSERT INTO access_group_set (firm_id) VALUES (:firm_id) RETURNING id"), {"firm_id": firm_id}
            ).scalar_one()
            connection.execute(sa.text("INSERT INTO access_group_set_group (set_id, group_id) VALUES (:s, :g)"),
                               [{"s": sets[key], "g": group_id} for group_id in sorted(ids)])
        updates.append({"s": sets[key], "f": firm_id, "t": taxpayer_id})
    if updates:
        connection.execute(sa.text("UPDATE firm_client SET group_set_id = :s WHERE firm_id = :f AND taxpayer_id = :t"),
                           updates)


def downgrade() -> None:
    op.drop_index("ix_firm_client_groups", table_name="firm_client")
    op.drop_index("ix_firm_client_firm_sort", table_name="firm_client")
    op.create_index("ix_firm_client_firm_sort", "firm_client", ["firm_id", "sort_name", "taxpayer_id"])
    with op.batch_alter_table("firm_client") as batch:  # SQLite cannot drop a column with a foreign key in place
        batch.drop_column("regime_bits")
        batch.drop_column("group_set_id")
    op.drop_index(op.f("ix_access_group_set_group_group_id"), table_name="access_group_set_group")
    op.drop_table("access_group_set_group")
    op.drop_index(op.f("ix_access_group_set_firm_id"), table_name="access_group_set")
    op.drop_table("access_group_set")
