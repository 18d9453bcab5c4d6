"""The audit log: written at login, hash-chained per person, append-only in the
database itself, tamper-evident, safe under concurrent writers, verifiable."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.audit.service import GENESIS, SYSTEM, Actor, chain_hash, record, verify_chains
from portal.core.db import async_url, make_async_engine, make_sessionmaker, make_sync_engine
from portal.core.ids import new_id
from portal.core.migrate import upgrade
from tests.conftest import ROOT, login, run_db


def chain_of(database_url: str, chain: str) -> list[AuditEvent]:
    async def work(db):
        return (await db.exec(select(AuditEvent).where(AuditEvent.chain == chain)
                              .order_by(col(AuditEvent.id)))).all()

    return run_db(database_url, work)


def verify(database_url: str) -> list[str]:
    return run_db(database_url, verify_chains)


@pytest.fixture
def fresh_sqlite(tmp_path) -> str:
    """A new, migrated SQLite database of its own, with the real triggers."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    return url


def write_events(url: str, plan: list[tuple[str, str | None]]) -> list[AuditEvent]:
    """Write (action, subject) events, one transaction each, and return them."""
    async def work(db):
        written = []
        for action, subject in plan:
            actor = Actor("person", subject, "self") if subject else SYSTEM
            event = await record(db, action, actor, subject_person_id=subject,
                                 detail={"n": len(written)})
            await db.commit()
            written.append(event)
        return written

    return run_db(url, work)


# --- Written at login, chained ----------------------------------------------

def test_login_writes_an_auth_login_event(client, demo_ids, database_url):
    viola = demo_ids["viola"]
    before = [e.id for e in chain_of(database_url, viola) if e.action == "auth.login"]
    assert login(client, "viola").status_code == 303
    after = [e for e in chain_of(database_url, viola) if e.action == "auth.login"]
    new = [e for e in after if e.id not in before]
    assert len(new) == 1
    event = new[0]
    assert event.actor_type == "person"
    assert event.actor_id == viola
    assert event.role == "self"
    assert event.subject_person_id == viola
    assert json.loads(event.detail) == {"assurance": "substantial"}
    assert "1948" not in event.detail


def test_staff_login_is_written_on_the_system_chain(client, database_url):
    before = {e.id for e in chain_of(database_url, "system")}
    login(client, "anna")
    new = [e for e in chain_of(database_url, "system") if e.id not in before]
    assert [(e.action, e.actor_type, e.role) for e in new] == [("auth.login", "staff", "staff")]
    assert new[0].unit_id is not None


def test_events_form_valid_chains(client, page, demo_ids, database_url):
    login(client, "anna")  # a staff login: an event about no person (the "system" chain)
    client.cookies.clear()
    login(client, "johan")
    token = page("/vem").csrf()
    client.post("/vem", data={"csrf_token": token, "person": demo_ids["viola"]})
    client.post("/vem", data={"csrf_token": token, "person": "self"})
    assert verify(database_url) == []

    for chain in (demo_ids["viola"], demo_ids["johan"], "system"):
        events = chain_of(database_url, chain)
        assert events, chain
        previous = GENESIS
        for event in events:
            assert event.prev_hash == previous
            assert event.hash == chain_hash(previous, event)
            previous = event.hash
    actions = [e.action for e in chain_of(database_url, demo_ids["viola"])]
    assert "acting.started" in actions and "acting.ended" in actions


# --- Append-only in the database itself --------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET detail = '{\"forged\": true}'",
    "UPDATE audit_event SET action = 'x' WHERE id = (SELECT MIN(id) FROM audit_event)",
    "DELETE FROM audit_event",
    "DELETE FROM audit_event WHERE id = (SELECT MAX(id) FROM audit_event)",
])
def test_update_and_delete_are_refused_by_the_database(database_url, demo_ids, statement):
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT id, action, detail, hash FROM audit_event "
                                       "ORDER BY id")).all()
        assert before, "the demo data writes audit events"
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            after = conn.execute(text("SELECT id, action, detail, hash FROM audit_event "
                                      "ORDER BY id")).all()
        assert after[:len(before)] == before
    finally:
        engine.dispose()


def test_truncate_is_refused_on_postgresql(database_url, demo_ids):
    if not database_url.startswith("postgresql"):
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    engine = make_sync_engine(database_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_event"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar() > 0
    finally:
        engine.dispose()


# --- Tampering is detected ----------------------------------------------------

PLAN = [("a.one", "p1"), ("a.two", "p1"), ("b.one", "p2"), ("a.three", "p1"),
        ("s.one", None), ("a.four", "p1"), ("b.two", "p2")]


def _tamper(url: str, statement: str, **params) -> None:
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER audit_event_no_{verb}"))
            conn.execute(text(statement), params)
    finally:
        engine.dispose()


def test_an_intact_copy_verifies(fresh_sqlite):
    write_events(fresh_sqlite, PLAN)
    assert verify(fresh_sqlite) == []


def test_a_changed_detail_is_reported_as_exactly_that_event(fresh_sqlite):
    events = write_events(fresh_sqlite, PLAN)
    target = events[3]  # the third event of chain p1, with one after it
    assert verify(fresh_sqlite) == []
    _tamper(fresh_sqlite, "UPDATE audit_event SET detail = :d WHERE id = :id",
            d='{"n": 99}', id=target.id)
    assert verify(fresh_sqlite) == [f"audit event {target.id} in chain p1"]


def test_a_rehashed_row_still_breaks_the_next_link(fresh_sqlite):
    """A forger who also recomputes the row's own hash is caught at the next event."""
    events = write_events(fresh_sqlite, PLAN)
    target, following = events[1], events[3]
    forged = AuditEvent(**{**target.model_dump(), "detail": '{"n": 42}'})
    _tamper(fresh_sqlite, "UPDATE audit_event SET detail = :d, hash = :h WHERE id = :id",
            d=forged.detail, h=chain_hash(target.prev_hash, forged), id=target.id)
    assert verify(fresh_sqlite) == [f"audit event {following.id} in chain p1"]


def test_a_deleted_row_is_reported_at_the_next_event(fresh_sqlite):
    events = write_events(fresh_sqlite, PLAN)
    _tamper(fresh_sqlite, "DELETE FROM audit_event WHERE id = :id", id=events[2].id)
    assert verify(fresh_sqlite) == [f"audit event {events[6].id} in chain p2"]


def test_two_broken_chains_are_both_reported(fresh_sqlite):
    events = write_events(fresh_sqlite, PLAN)
    _tamper(fresh_sqlite, "UPDATE audit_event SET action = 'forged' WHERE id IN (:a, :b)",
            a=events[0].id, b=events[4].id)
    assert sorted(verify(fresh_sqlite)) == sorted([
        f"audit event {events[0].id} in chain p1",
        f"audit event {events[4].id} in chain system",
    ])


def test_chains_verify_in_any_database_session_time_zone(database_url, demo_ids):
    """PostgreSQL returns timestamptz in the session's time zone; the hash must not care."""
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL has a per-session time zone")
    assert verify(database_url) == []

    def stockholm(url):
        return create_async_engine(async_url(url),
                                   connect_args={"options": "-c timezone=Europe/Stockholm"})

    async def zone(db):
        return (await db.exec(text("SHOW timezone"))).one()[0]

    assert run_db(database_url, zone, stockholm) == "Europe/Stockholm"
    assert run_db(database_url, verify_chains, stockholm) == []


# --- Concurrent writers on one chain -----------------------------------------

def _concurrent_writers(url: str, writers: int = 20) -> tuple[list, str]:
    """`writers` concurrent `record` calls on one chain, each in its own session."""
    chain = new_id()

    async def go():
        engine = make_async_engine(url)
        maker = make_sessionmaker(engine)
        start = asyncio.Event()

        async def one(n: int):
            async with maker() as db:
                await start.wait()
                await record(db, "test.concurrent", Actor("person", chain, "self"),
                             subject_person_id=chain, detail={"n": n})
                await asyncio.sleep(0.01)  # hold the transaction open while others wait
                await db.commit()

        try:
            tasks = [asyncio.create_task(one(n)) for n in range(writers)]
            await asyncio.sleep(0.05)
            start.set()
            return await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await engine.dispose()

    return asyncio.run(go()), chain


def _assert_one_unbroken_chain(url: str, results: list, chain: str, writers: int = 20) -> None:
    assert [r for r in results if r is not None] == []
    events = chain_of(url, chain)
    assert len(events) == writers
    assert sorted(json.loads(e.detail)["n"] for e in events) == list(range(writers))
    assert len({e.prev_hash for e in events}) == writers, "two events share a parent"
    assert verify(url) == []


def test_concurrent_writers_on_one_chain_all_commit_and_the_chain_verifies(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: this tests the advisory lock that serialises writers of "
                    "one chain there (SQLite's own write lock: test_concurrent_writers_on_sqlite)")
    results, chain = _concurrent_writers(database_url)
    _assert_one_unbroken_chain(database_url, results, chain)


def test_concurrent_writers_on_sqlite(fresh_sqlite):
    """SQLite opens a transaction only at the first write; the chain's last hash must be
    read under the write lock, or two writers take the same parent."""
    results, chain = _concurrent_writers(fresh_sqlite)
    _assert_one_unbroken_chain(fresh_sqlite, results, chain)


# --- The verify command -------------------------------------------------------

def _verify_command(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORTAL_DATABASE_URL": url}
    env.pop("PORTAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "portal", "verify-audit"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_verify_audit_command_exits_0_on_an_intact_database_and_1_when_tampered(fresh_sqlite):
    events = write_events(fresh_sqlite, PLAN)
    intact = _verify_command(fresh_sqlite)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == "audit log intact"

    _tamper(fresh_sqlite, "UPDATE audit_event SET detail = '{}' WHERE id = :id", id=events[5].id)
    broken = _verify_command(fresh_sqlite)
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.strip() == f"broken: audit event {events[5].id} in chain p1"

