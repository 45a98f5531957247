"""secrets at rest: authenticator app keys sealed (AES-256-GCM, a key derived from SECRET_KEY), recovery codes as
salted Argon2id hashes

Existing rows are converted in place, so nobody sets anything up again: each authenticator app key is sealed
under the portal's secret key (the one `python -m portal migrate` and the portal itself read), and each recovery
code's stored SHA-256 is wrapped in Argon2id (portal.domain.two_step.prehash is that SHA-256, so the codes
people hold keep working). Downgrading unseals the keys; the recovery codes cannot be unwrapped, so it deletes
them (people make new ones from "Sign in and security details").

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import context, op
from argon2 import PasswordHasher

from portal.domain import sealing

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOTP_KEY_PURPOSE = "authenticator app keys"  # as portal.domain.two_step.TOTP_KEY_PURPOSE
# portal.domain.two_step.recovery_hasher's production settings; a hash carries its own, so tests verify these too.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _key() -> bytes:
    secret_key = context.config.attributes.get("secret_key")
    if not secret_key:
        from portal.settings import Settings

        secret_key = Settings.from_environ().secret_key
    return sealing.data_key(secret_key, TOTP_KEY_PURPOSE)


def _totp_rows() -> list[sa.Row]:  # type: ignore[type-arg]
    return list(op.get_bind().execute(sa.text("SELECT id, user_id, secret FROM second_factor WHERE kind = 'totp'")))


def _recreate_recovery_code(length: int, unique: bool) -> None:
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        *([sa.UniqueConstraint("code_hash")] if unique else []),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    rows = _totp_rows()
    if rows:
        key = _key()
        for row in rows:
            if sealing.is_sealed(row.secret):
                continue
            sealed = sealing.seal(key, row.secret, bound_to=f"second_factor:{row.user_id}")
            bind.execute(sa.text("UPDATE second_factor SET secret = :secret WHERE id = :id"),
                         {"secret": sealed, "id": row.id})
    codes = list(bind.execute(sa.text("SELECT id, user_id, code_hash, used_at FROM recovery_code")))
    # The table is made again rather than altered: the unique constraint on code_hash has no name on SQLite.
    _recreate_recovery_code(200, unique=False)
    table = sa.table("recovery_code", sa.column("id", sa.Integer()), sa.column("user_id", sa.Integer()),
                     sa.column("code_hash", sa.String()), sa.column("used_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    if codes:
        op.bulk_insert(table, [{"id": c.id, "user_id": c.user_id, "used_at": c.used_at,
                                "code_hash": HASHER.hash(c.code_hash)} for c in codes])
    if bind.dialect.name == "postgresql" and codes:  # the ids were given: the sequence moves past them
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('recovery_code', 'id'), "
                             "(SELECT MAX(id) FROM recovery_code))"))


def downgrade() -> None:
    bind = op.get_bind()
    rows = _totp_rows()
    if rows:
        key = _key()
        for row in rows:
            if sealing.is_sealed(row.secret):
                plain = sealing.unseal(key, row.secret, bound_to=f"second_factor:{row.user_id}")
                bind.execute(sa.text("UPDATE second_factor SET secret = :secret WHERE id = :id"),
                             {"secret": plain, "id": row.id})
    _recreate_recovery_code(64, unique=True)
