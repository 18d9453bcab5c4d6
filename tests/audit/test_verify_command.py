"""`python -m portal verify-audit` as an operator runs it, on a temporary migrated SQLite
database: a forged row slipped into a chain, or a row removed behind the triggers' back,
gives a non-zero exit and names the first broken link; an intact database exits 0."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from portal.audit.models import AuditEvent
from portal.audit.service import chain_hash
from portal.core.db import make_sync_engine
from portal.core.migrate import upgrade
from tests.audit.test_audit_log import PLAN, _tamper, _verify_command, write_events


@pytest.fixture
def fresh_sqlite(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'verify.db'}"
    upgrade(url)
    return url


def _insert(url: str, event: AuditEvent) -> int:
    """INSERT is what the triggers allow: a forger's way in without dropping them."""
    columns = ("at", "action", "actor_type", "actor_id", "role", "unit_id", "on_behalf_of",
               "subject_person_id", "object_type", "object_id", "detail", "chain", "prev_hash",
               "hash")
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            values = {c: getattr(event, c) for c in columns}
            values["at"] = event.at.replace(tzinfo=None).isoformat(sep=" ")
            conn.execute(text(f"INSERT INTO audit_event ({', '.join(columns)}) VALUES "
                              f"({', '.join(':' + c for c in columns)})"), values)
            return conn.execute(text("SELECT MAX(id) FROM audit_event")).scalar()
    finally:
        engine.dispose()


def test_an_intact_database_exits_0(fresh_sqlite):
    write_events(fresh_sqlite, PLAN)
    result = _verify_command(fresh_sqlite)
    assert (result.returncode, result.stdout.strip()) == (0, "audit log intact"), result.stderr


def test_a_forged_row_that_claims_an_old_parent_is_named(fresh_sqlite):
    """A forged 'staff read the plan' row, linked to an old event of the chain and hashed
    correctly, inserted without touching the triggers: it is not the link after the
    chain's last event, and the command names it."""
    events = write_events(fresh_sqlite, PLAN)
    early = events[0]  # chain p1 has three events after it
    forged = AuditEvent(**{**early.model_dump(), "id": None, "action": "plan.read",
                           "actor_type": "staff", "actor_id": "forger", "role": "staff",
                           "detail": json.dumps({"forged": True}), "prev_hash": early.hash})
    forged.hash = chain_hash(early.hash, forged)
    forged_id = _insert(fresh_sqlite, forged)

    result = _verify_command(fresh_sqlite)
    assert result.returncode != 0
    assert result.stdout.strip() == f"broken: audit event {forged_id} in chain p1"


def test_a_row_deleted_behind_the_triggers_back_is_named_at_the_next_link(fresh_sqlite):
    events = write_events(fresh_sqlite, PLAN)
    _tamper(fresh_sqlite, "DELETE FROM audit_event WHERE id = :id", id=events[1].id)
    result = _verify_command(fresh_sqlite)
    assert result.returncode != 0
    assert result.stdout.strip() == f"broken: audit event {events[3].id} in chain p1"
