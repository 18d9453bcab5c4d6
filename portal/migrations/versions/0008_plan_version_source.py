"""plan_version.source_* and plan.draft_source_*: plans sent by staff systems (FHIR API)

Revision ID: 0008
Revises: 0007

A staff system publishes a plan over /fhir/R4 (portal.fhir.publish). The version keeps
where it came from (the client, the plan's business identifier there, the SHA-256 of what
was sent): the person reads "Från Lifecare SP, Region Kalmar län, …", and the same bundle
sent again finds its version (index plan_version_source) instead of making another. A
client set to send drafts leaves the same three on the plan until a contact person
publishes the draft.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _columns(prefix: str) -> list[sa.Column]:
    return [
        sa.Column(f'{prefix}_client_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column(f'{prefix}_identifier', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column(f'{prefix}_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        for column in _columns('source'):
            batch_op.add_column(column)
        batch_op.create_foreign_key('fk_plan_version_source_client', 'fhir_client',
                                    ['source_client_id'], ['id'])
        batch_op.create_index('plan_version_source', ['source_client_id', 'source_identifier'],
                              unique=False)
    with op.batch_alter_table('plan', schema=None) as batch_op:
        for column in _columns('draft_source'):
            batch_op.add_column(column)
        batch_op.create_foreign_key('fk_plan_draft_source_client', 'fhir_client',
                                    ['draft_source_client_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_constraint('fk_plan_draft_source_client', type_='foreignkey')
        for name in ('draft_source_digest', 'draft_source_identifier', 'draft_source_client_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.drop_index('plan_version_source')
        batch_op.drop_constraint('fk_plan_version_source_client', type_='foreignkey')
        for name in ('source_digest', 'source_identifier', 'source_client_id'):
            batch_op.drop_column(name)
