"""data_version: change counters per person, unit and site, kept by triggers

Revision ID: 0009
Revises: 0008

Pages kept by portal.core.page_cache are shown again only while the counters they were
made with are unchanged (portal/migrations/data_versions.py says which table counts for
whom, and how PostgreSQL adds them up at commit without deadlocks).
"""
from portal.migrations.data_versions import (
    SCOPES,
    count_changes,
    create_counters,
    drop_counters,
    stop_counting,
)

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_counters()
    for table in SCOPES:
        count_changes(table)


def downgrade() -> None:
    for table in SCOPES:
        stop_counting(table)
    drop_counters()
