"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:04:15.877227
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('firm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('arn', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('address_line1', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address_line2', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('town', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('amls_body', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('amls_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('link_uid', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('access_groups_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('arn'),
    sa.UniqueConstraint('link_uid')
    )
    op.create_table('rate_limit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rate_limit_event', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limit_event_key_at', ['key', 'at'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('access_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_group_firm_id'), ['firm_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_firm_id'), ['firm_id'], unique=False)

    op.create_table('taxpayer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('address_line1', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address_line2', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('town', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('taxpayer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taxpayer_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('access_group_client',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['access_group.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('group_id', 'taxpayer_id')
    )
    with op.batch_alter_table('access_group_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_group_client_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('access_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['access_group.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('group_id', 'user_id')
    )
    with op.batch_alter_table('access_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_group_member_user_id'), ['user_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('taxpayer_id', sa.Integer(), nullable=True),
    sa.Column('authority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_firm_at', ['firm_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_taxpayer_at', ['taxpayer_id', 'at'], unique=False)

    op.create_table('authorisation_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('regime', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('responded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('responded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['responded_by_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authorisation_request', schema=None) as batch_op:
        batch_op.create_index('ix_authorisation_request_firm_created', ['firm_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_authorisation_request_taxpayer_id'), ['taxpayer_id'], unique=False)
        batch_op.create_index('uq_authorisation_request_pending', ['firm_id', 'taxpayer_id', 'regime'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.create_table('firm_client',
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('sort_name', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('client_reference', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('firm_id', 'taxpayer_id')
    )
    with op.batch_alter_table('firm_client', schema=None) as batch_op:
        batch_op.create_index('ix_firm_client_firm_sort', ['firm_id', 'sort_name', 'taxpayer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_client_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('helper_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('invited_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('helper_user_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['helper_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('helper_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helper_link_helper_user_id'), ['helper_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_helper_link_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('regime', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('fulfilled_on', sa.Date(), nullable=True),
    sa.Column('amount_due_pence', sa.Integer(), nullable=True),
    sa.Column('amount_paid_pence', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('taxpayer_id', 'regime', 'period_key')
    )
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index('ix_obligation_taxpayer_due', ['taxpayer_id', 'due_date'], unique=False)

    op.create_table('taxpayer_identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'value')
    )
    with op.batch_alter_table('taxpayer_identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taxpayer_identifier_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('authorisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('regime', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['authorisation_request.id'], ),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authorisation', schema=None) as batch_op:
        batch_op.create_index('ix_authorisation_firm_service', ['firm_id', 'service', 'taxpayer_id'], unique=False)
        batch_op.create_index('ix_authorisation_taxpayer', ['taxpayer_id', 'firm_id', 'regime'], unique=False)
        batch_op.create_index('uq_authorisation_active_firm_service', ['firm_id', 'taxpayer_id', 'service'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('uq_authorisation_one_agent_per_service', ['taxpayer_id', 'service'], unique=True, sqlite_where=sa.text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"), postgresql_where=sa.text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"))




def downgrade() -> None:

    with op.batch_alter_table('authorisation', schema=None) as batch_op:
        batch_op.drop_index('uq_authorisation_one_agent_per_service', sqlite_where=sa.text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"), postgresql_where=sa.text("ended_at IS NULL AND service != 'HMRC-MTD-IT-SUPP'"))
        batch_op.drop_index('uq_authorisation_active_firm_service', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('ix_authorisation_taxpayer')
        batch_op.drop_index('ix_authorisation_firm_service')

    op.drop_table('authorisation')
    with op.batch_alter_table('taxpayer_identifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taxpayer_identifier_taxpayer_id'))

    op.drop_table('taxpayer_identifier')
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_taxpayer_due')

    op.drop_table('obligation')
    with op.batch_alter_table('helper_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helper_link_taxpayer_id'))
        batch_op.drop_index(batch_op.f('ix_helper_link_helper_user_id'))

    op.drop_table('helper_link')
    with op.batch_alter_table('firm_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firm_client_taxpayer_id'))
        batch_op.drop_index('ix_firm_client_firm_sort')

    op.drop_table('firm_client')
    with op.batch_alter_table('authorisation_request', schema=None) as batch_op:
        batch_op.drop_index('uq_authorisation_request_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_authorisation_request_taxpayer_id'))
        batch_op.drop_index('ix_authorisation_request_firm_created')

    op.drop_table('authorisation_request')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_taxpayer_at')
        batch_op.drop_index('ix_audit_event_firm_at')

    op.drop_table('audit_event')
    with op.batch_alter_table('access_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_group_member_user_id'))

    op.drop_table('access_group_member')
    with op.batch_alter_table('access_group_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_group_client_taxpayer_id'))

    op.drop_table('access_group_client')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    with op.batch_alter_table('taxpayer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taxpayer_owner_user_id'))

    op.drop_table('taxpayer')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_firm_id'))

    op.drop_table('membership')
    with op.batch_alter_table('access_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_group_firm_id'))

    op.drop_table('access_group')
    op.drop_table('user')
    with op.batch_alter_table('rate_limit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_event_key_at')

    op.drop_table('rate_limit_event')
    op.drop_table('firm')

