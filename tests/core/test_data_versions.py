"""The change counters kept by database triggers (portal/migrations/data_versions.py).

Every table either counts its changes or says in EXEMPT why not; a committed write bumps
exactly the scopes of whom it concerns ("p:<person>", "u:<unit>", "site"), a rolled-back
one nothing; PostgreSQL adds them up at COMMIT, so a counter is never seen before the
change, and two writers touching the same scopes in opposite orders never deadlock.
On the migrated test database of each backend, through the services the app uses.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import text
from sqlmodel import select

from portal.audit.service import Actor
from portal.consent.forms import new_key
from portal.consent.models import CareRelation
from portal.core.data_versions import DataVersion, person_scope, unit_scope, versions
from portal.core.db import make_async_engine, make_sessionmaker
from portal.messages import services as messages
from portal.migrations.data_versions import EXEMPT, SCOPES
from portal.people.models import Person, Unit
from tests.conftest import run_db
from tests.factories import (
    SOC,
    VC,
    db_run,
    decide_directly,
    new_person,
    new_staff,
    publish_plan,
    represent,
    unit_ids,
)
from tests.inbox.helpers import send_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401

SITE = "site"


def dialect_of(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


# ------------------------------------------------------------------ the catalog


def _tables_and_triggers(database_url: str) -> tuple[set[str], dict[str, set[str]]]:
    """The migrated database's tables, and the names of each table's own triggers."""
    async def work(db):
        if db.bind.dialect.name == "postgresql":
            tables = (await db.exec(text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"))).all()
            triggers = (await db.exec(text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"))).all()
        else:
            tables = (await db.exec(text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"))).all()
            triggers = (await db.exec(text(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))).all()
        found: dict[str, set[str]] = {}
        for table, trigger in triggers:
            found.setdefault(table, set()).add(trigger)
        return {t for (t,) in tables}, found

    return run_db(database_url, work)


def test_every_table_counts_its_changes_or_says_why_not(database_url) -> None:
    tables, triggers = _tables_and_triggers(database_url)
    if dialect_of(database_url) == "postgresql":
        expected = {table: {f"{table}_counted", f"{table}_counted_update"} for table in SCOPES}
        assert "data_change_pending_apply" in triggers.get("data_change_pending", set())
    else:
        expected = {table: {f"{table}_counted_{verb}" for verb in ("insert", "update", "delete")}
                    for table in SCOPES}
    missing = {table: sorted(names - triggers.get(table, set()))
               for table, names in expected.items() if names - triggers.get(table, set())}
    assert not missing, f"tables that no longer count their changes: {missing}"
    uncovered = sorted(tables - set(SCOPES) - set(EXEMPT))
    assert not uncovered, (f"tables neither counted (SCOPES) nor exempt (EXEMPT): {uncovered}; "
                           "a page showing them would be kept stale")
    assert not set(SCOPES) & set(EXEMPT)


def test_every_counted_table_exists(database_url) -> None:
    tables, _ = _tables_and_triggers(database_url)
    assert set(SCOPES) <= tables, sorted(set(SCOPES) - tables)
    # EXEMPT names real tables too (the work table only where it is used).
    gone = set(EXEMPT) - tables
    if dialect_of(database_url) == "sqlite":
        gone -= {"data_change_pending"}
    assert not gone, sorted(gone)


# ------------------------------------------------------------------ counting


def counters(client) -> dict[str, int]:
    async def work(db):
        return dict((await db.exec(select(DataVersion.scope, DataVersion.version))).all())

    return db_run(client, work)


def bumped_by(client, write) -> set[str]:
    """The scopes whose counters `write()` (committed) made grow. The worker's database
    is only written by this test meanwhile (the tests of a worker run one at a time)."""
    before = counters(client)
    write()
    after = counters(client)
    assert all(after.get(scope, 0) >= version for scope, version in before.items())
    return {scope for scope, version in after.items() if version > before.get(scope, 0)}


@pytest.fixture
def vc_soc(client) -> tuple[str, str]:
    vc, soc = unit_ids(client, VC, SOC)
    return vc, soc


def test_a_person_changed_counts_for_them_only(client) -> None:
    person = new_person(client)

    async def change(db):
        found = await db.get(Person, person.id)
        found.email = f"ny-{secrets.token_hex(3)}@example.invalid"

    assert bumped_by(client, lambda: db_run(client, change)) == {person_scope(person.id)}


def test_a_person_changed_counts_for_who_acts_for_them_and_their_units(client, vc_soc) -> None:
    """A name or protected identity shows on a representative's pages and in the units'
    inboxes: a change is not left to the kept pages' time limit."""
    vc, _ = vc_soc
    person, representative = new_person(client, units=(VC,)), new_person(client)
    represent(client, representative, person, "proxy")

    async def protect(db):
        (await db.get(Person, person.id)).protected_identity = True

    assert bumped_by(client, lambda: db_run(client, protect)) == {
        person_scope(person.id), person_scope(representative.id), unit_scope(vc)}


def test_an_update_that_changes_nothing_counts_nothing(client) -> None:
    """A lock taken as `UPDATE person SET id = id` (SQLite) makes no page stale."""
    person = new_person(client, units=(VC,))

    async def lock(db):
        await db.exec(text("UPDATE person SET id = id WHERE id = :p"), params={"p": person.id})

    assert bumped_by(client, lambda: db_run(client, lock)) == set()


def test_a_representation_counts_for_both_people(client) -> None:
    representative, represented = new_person(client), new_person(client)
    assert bumped_by(client, lambda: represent(client, representative, represented, "proxy")) == {
        person_scope(representative.id), person_scope(represented.id)}


def test_consent_given_through_the_service_counts_for_the_person_and_the_unit(client, vc_soc) -> None:
    vc, _ = vc_soc
    # The first consent given on a database stores the wording shown ("site"): not this one.
    decide_directly(client, new_person(client, units=(VC,)).id, "give", (VC,))
    person = new_person(client, units=(VC, SOC))
    assert bumped_by(client, lambda: decide_directly(client, person.id, "give", (VC,))) == {
        person_scope(person.id), unit_scope(vc)}


def test_a_plan_published_counts_for_the_person_and_the_coordinators_unit(client, vc_soc) -> None:
    vc, _ = vc_soc
    person = new_person(client, units=(VC,))
    decide_directly(client, person.id, "give", (VC,))
    publish_plan(client, person.id, "Första versionen.")
    # The next version: plan and plan_version rows, the coordinator is Anna of the health centre.
    assert bumped_by(client, lambda: publish_plan(client, person.id, "Andra versionen.")) == {
        person_scope(person.id), unit_scope(vc)}


def _start_thread(client, person_id: str, unit_code: str) -> str:
    now = client.app.state.clock.now()

    async def work(db):
        person = await db.get(Person, person_id)
        unit = (await db.exec(select(Unit).where(Unit.code == unit_code))).one()
        thread = await messages.start_thread(
            db, person=person, unit=unit, subject="Hemtjänsten", body=secrets.token_hex(8),
            actor=Actor("person", person.id, "self"), key=new_key(), now=now)
        return thread.id

    return db_run(client, work)


def test_a_message_counts_for_the_person_and_the_unit_it_is_to(client, vc_soc) -> None:
    _, soc = vc_soc
    person = new_person(client, units=(VC, SOC))
    assert bumped_by(client, lambda: _start_thread(client, person.id, SOC)) == {
        person_scope(person.id), unit_scope(soc)}


def test_a_request_counts_for_the_person_and_every_unit_it_is_sent_to(client, vc_soc) -> None:
    vc, soc = vc_soc
    person = new_person(client, units=(VC, SOC))
    assert bumped_by(client, lambda: send_request(client, person.id, VC, SOC)) == {
        person_scope(person.id), unit_scope(vc), unit_scope(soc)}


def test_units_and_staff_count_for_the_whole_site(client) -> None:
    assert bumped_by(client, lambda: new_staff(client, VC)) == {SITE}

    async def rename(db):
        unit = (await db.exec(select(Unit).where(Unit.code == VC))).one()
        unit.description = unit.description + " "
        await db.flush()
        unit.description = unit.description[:-1]

    assert bumped_by(client, lambda: db_run(client, rename)) == {SITE}


def test_a_rolled_back_write_counts_nothing(client) -> None:
    person = new_person(client, units=(VC,))
    maker = client.app.state.sessionmaker

    async def changed_then_rolled_back():
        async with maker() as db:
            found = await db.get(Person, person.id)
            found.email = "aldrig@example.invalid"
            db.add(CareRelation(person_id=person.id,
                                unit_id=(await db.exec(select(Unit.id).where(Unit.code == SOC))).one()))
            await db.flush()
            await db.rollback()

    assert bumped_by(client, lambda: client.blocking_portal.call(changed_then_rolled_back)) == set()


def test_a_deleted_row_counts_too(client, vc_soc) -> None:
    _, soc = vc_soc
    person = new_person(client, units=(VC, SOC))

    async def delete(db):
        relation = (await db.exec(select(CareRelation).where(
            CareRelation.person_id == person.id, CareRelation.unit_id == soc))).one()
        await db.delete(relation)

    assert bumped_by(client, lambda: db_run(client, delete)) == {
        person_scope(person.id), unit_scope(soc)}


# ------------------------------------------------------------------ PostgreSQL: at commit


def _postgres_only(database_url: str) -> None:
    if dialect_of(database_url) != "postgresql":
        pytest.skip("PostgreSQL adds the counters up at commit; SQLite has one writer")


def test_postgresql_a_counter_is_not_seen_before_the_commit(database_url, client) -> None:
    _postgres_only(database_url)
    person = new_person(client)
    scope = person_scope(person.id)

    async def go():
        engine = make_async_engine(database_url)
        maker = make_sessionmaker(engine)
        try:
            async with maker() as writer, maker() as reader:
                (before,) = await versions(reader, [scope])
                await reader.rollback()
                found = await writer.get(Person, person.id)
                found.email = "mellan@example.invalid"
                await writer.flush()
                (during,) = await versions(reader, [scope])
                await reader.rollback()
                # Not even the writer's own transaction sees it before COMMIT.
                (own,) = await versions(writer, [scope])
                await writer.commit()
                (after,) = await versions(reader, [scope])
                return before, during, own, after
        finally:
            await engine.dispose()

    before, during, own, after = asyncio.run(go())
    assert during == before and own == before
    assert after == before + 1


def test_postgresql_opposite_orders_over_the_same_scopes_do_not_deadlock(database_url, client,
                                                                         vc_soc) -> None:
    """Each transaction changes rows of person A and of person B (their own rows, so the
    rows themselves never make one wait for the other), in opposite orders, both having
    made their first change before either makes its second. Counting at once would lock
    p:A in one and p:B in the other, then each the other's: a deadlock. Counting at
    commit, in scope order, both commit."""
    _postgres_only(database_url)
    a = new_person(client, units=(VC, SOC))
    b = new_person(client, units=(VC, SOC))
    vc, soc = vc_soc
    scopes = [person_scope(a.id), person_scope(b.id), unit_scope(vc), unit_scope(soc)]

    async def go():
        engine = make_async_engine(database_url)
        maker = make_sessionmaker(engine)
        barrier = asyncio.Barrier(2)
        # A real change (an UPDATE that changes nothing counts nothing).
        touch = text("UPDATE care_relation SET created_at = created_at + interval '1 second' "
                     "WHERE person_id = :person AND unit_id = :unit")

        async def transaction(first, second, unit):
            async with maker() as db:
                await db.exec(text("SET LOCAL lock_timeout = '5s'"))
                await db.exec(touch, params={"person": first.id, "unit": unit})
                await barrier.wait()
                await db.exec(touch, params={"person": second.id, "unit": unit})
                await barrier.wait()
                await db.commit()

        try:
            async with maker() as db:
                before = await versions(db, scopes)
            await asyncio.wait_for(asyncio.gather(transaction(a, b, vc), transaction(b, a, soc)),
                                   timeout=20)
            async with maker() as db:
                after = await versions(db, scopes)
            return before, after
        finally:
            await engine.dispose()

    before, after = asyncio.run(go())
    grown = [now - then for then, now in zip(before, after, strict=True)]
    assert grown == [2, 2, 1, 1], dict(zip(scopes, grown, strict=True))


def test_versions_reads_zero_for_a_scope_never_changed(client) -> None:
    async def work(db):
        return await versions(db, [person_scope("0" * 32), SITE])

    never, site = db_run(client, work)
    assert never == 0 and site >= 0


def test_the_catalog_names_only_tables_of_the_models(client) -> None:
    from sqlmodel import SQLModel

    import portal.models  # noqa: F401  (every table registered)

    assert set(SCOPES) <= set(SQLModel.metadata.tables)
