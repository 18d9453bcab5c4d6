"""proxy invitations, ended representations, protected identity, unit addresses, log scope

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proxy_invitation',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('invitee_national_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('invitee_country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('representation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['representation_id'], ['representation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'idempotency_key')
    )
    with op.batch_alter_table('proxy_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_invitation_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_invitation_invitee_national_id'), ['invitee_national_id'], unique=False)

    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('ended_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protected_identity', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    # Guardians and those who had every right so far may also see the access log.
    op.execute("UPDATE representation SET scope = scope || ' log:read' "
               "WHERE scope = 'plan:read consent requests messages'")


def downgrade() -> None:
    op.execute("UPDATE representation SET scope = 'plan:read consent requests messages' "
               "WHERE scope = 'plan:read consent requests messages log:read'")
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('address')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('protected_identity')
    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.drop_column('ended_by')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('appointment')
    with op.batch_alter_table('proxy_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_invitation_invitee_national_id'))
        batch_op.drop_index(batch_op.f('ix_proxy_invitation_person_id'))
    op.drop_table('proxy_invitation')
