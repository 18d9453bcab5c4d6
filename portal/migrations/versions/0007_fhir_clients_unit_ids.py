"""fhir_client and fhir_client_unit (staff systems calling the FHIR API); unit.external_id

Revision ID: 0007
Revises: 0006

Staff systems publish plans and read consent over /fhir/R4 (portal.fhir). Each is a
registered client of one or more units; units are named by their national identifier
(HSA-id in Sweden, an OID of the SOTE organisation register in Finland), kept in
unit.external_id (filled for the demo units by `portal demo`).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=True))
        batch.create_unique_constraint("uq_unit_external_id", ["external_id"])
    op.create_table(
        "fhir_client",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=False),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("publish_as", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "fhir_client_unit",
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["fhir_client.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("client_id", "unit_id"),
    )


def downgrade() -> None:
    op.drop_table("fhir_client_unit")
    op.drop_table("fhir_client")
    with op.batch_alter_table("unit") as batch:
        batch.drop_constraint("uq_unit_external_id", type_="unique")
        batch.drop_column("external_id")
