"""The consent log is append-only: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.consent.helpers import acts_of, events_of
from tests.factories import db_run, decide_directly, new_person

STATEMENTS = {
    "consent_act": ["UPDATE consent_act SET decision = 'withdraw' WHERE person_id = :p",
                    "DELETE FROM consent_act WHERE person_id = :p"],
    "consent_event": ["UPDATE consent_event SET kind = 'withdrawn' WHERE person_id = :p",
                      "DELETE FROM consent_event WHERE person_id = :p"],
    "consent_wording": ["UPDATE consent_wording SET text = 'Något annat' WHERE id = :w",
                        "DELETE FROM consent_wording WHERE id = :w"],
}


@pytest.mark.parametrize("table", list(STATEMENTS))
def test_update_and_delete_are_refused_by_the_database(client, table):
    person = new_person(client, units=("se-kalmar-vc",))
    decide_directly(client, person.id, "give", ("se-kalmar-vc",))
    [act] = acts_of(client, person.id)
    params = {"p": person.id, "w": act.wording_id}

    for statement in STATEMENTS[table]:
        async def attempt(db, statement=statement):
            try:
                await db.exec(text(statement), params=params)
                await db.commit()
            except DBAPIError as exc:
                await db.rollback()
                return str(exc.orig)
            return None

        error = db_run(client, attempt)
        assert error is not None, f"{statement} was allowed"
        assert "append-only" in error

    async def wording_text(db):
        return (await db.exec(text("SELECT text FROM consent_wording WHERE id = :w"),
                              params=params)).one()[0]

    assert [a.decision for a in acts_of(client, person.id)] == ["give"]
    assert [e.kind for e in events_of(client, person.id)] == ["given"]
    assert db_run(client, wording_text) != "Något annat"


@pytest.mark.parametrize("table", list(STATEMENTS))
def test_truncate_is_refused_on_postgresql(client, database_url, table):
    if database_url.startswith("sqlite"):
        pytest.skip("TRUNCATE exists only on PostgreSQL")

    async def attempt(db):
        try:
            await db.exec(text(f"TRUNCATE {table} CASCADE"))
            await db.commit()
        except DBAPIError as exc:
            await db.rollback()
            return str(exc.orig)
        return None

    assert "append-only" in (db_run(client, attempt) or "")
