"""plan.follow_up_at and plan.coordinator_id with partial indexes: slipped follow-ups
without reading every active plan; an index on staff_member.unit_id

Revision ID: 0006
Revises: 0005

The outbox worker looks for slipped follow-ups every few seconds in every app process,
and each coordinator unit's inbox on every request; both read every active plan's
current version before. The two columns copy what the current version says (set at
publishing from now on; filled here from the stored versions). A unit's staff are
listed on every inbox, staff start page and plan page (tests/core/test_query_plans.py).
"""
import json
from datetime import UTC
from types import SimpleNamespace

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.core.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PENDING = "status = 'active' AND follow_up_at IS NOT NULL"
UNTOLD = (PENDING + " AND coordinator_id IS NOT NULL AND "
          "(overdue_notice_version IS NULL OR overdue_notice_version != current_version)")


def _backfill() -> None:
    from portal.plans.calendar import follow_up_start

    conn = op.get_bind()
    when = portal.core.db.UTCDateTime(timezone=True)
    rows = conn.execute(sa.text(
        "SELECT plan.id, plan_version.content, plan_version.published_at, person.country "
        "FROM plan JOIN plan_version ON plan_version.plan_id = plan.id "
        "AND plan_version.number = plan.current_version "
        "JOIN person ON person.id = plan.person_id WHERE plan.status = 'active'")
        .columns(sa.column("id"), sa.column("content"), sa.column("published_at", when),
                 sa.column("country"))).all()
    update = sa.text("UPDATE plan SET follow_up_at = :due, coordinator_id = :coordinator "
                     "WHERE id = :id").bindparams(sa.bindparam("due", type_=when))
    for plan_id, content, published_at, country in rows:
        data = json.loads(content or "{}")
        start = follow_up_start(data, SimpleNamespace(country=country))
        due = start.astimezone(UTC) if start is not None and published_at < start else None
        conn.execute(update, {"due": due, "coordinator": data.get("coordinator_id"), "id": plan_id})


def upgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_at', portal.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('coordinator_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    _backfill()
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index('plan_follow_up_by_coordinator', ['coordinator_id', 'follow_up_at'], unique=False,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_index('plan_follow_up_untold', ['follow_up_at'], unique=False,
                              sqlite_where=sa.text(UNTOLD), postgresql_where=sa.text(UNTOLD))
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_member_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_member_unit_id'))
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index('plan_follow_up_untold')
        batch_op.drop_index('plan_follow_up_by_coordinator')
        batch_op.drop_column('coordinator_id')
        batch_op.drop_column('follow_up_at')
