"""Concurrent consent acts for one person (PostgreSQL: row locks serialise them).

Twenty `services.decide` calls on separate sessions at once: what is stored is
exactly what was acknowledged, seq has no gaps or duplicates, and one form
(one idempotency key) sent twenty times stores one act.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from portal.audit.service import Actor
from portal.consent import services
from portal.consent.models import CareRelation, ConsentAct, ConsentEvent
from portal.core.db import async_url, make_sessionmaker
from portal.people.models import Person, Unit
from portal.people.national_id import swedish_with_check_digit

CALLS = 20
CODES = ("se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12")


@pytest.fixture
def pg_url(database_url, demo_ids) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("concurrent writers need PostgreSQL: decide() serialises them with "
                    "SELECT ... FOR UPDATE on the person row, which SQLite does not have "
                    "(it locks the whole file); set PORTAL_TEST_DATABASE_URL to run this")
    return database_url


async def _setup(maker) -> tuple[str, list[str]]:
    async with maker() as db:
        while True:
            born = date(1950, 1, 1) + timedelta(days=random.randint(0, 14000))
            number = swedish_with_check_digit(born.strftime("%y%m%d")
                                              + f"{random.randint(100, 979):03d}", "19")
            if (await db.exec(select(Person).where(Person.national_id == number))).first() is None:
                break
        person = Person(national_id=number, given_name="Tk" + secrets.token_hex(4),
                        family_name="Provsson", birth_date=born, country="SE")
        db.add(person)
        await db.flush()
        units = [(await db.exec(select(Unit).where(Unit.code == c))).one().id for c in CODES]
        for unit in units:
            db.add(CareRelation(person_id=person.id, unit_id=unit))
        await db.commit()
        return person.id, units


async def _decide(maker, person_id: str, decision: str, units: list[str], key: str,
                  seen: int | None = None):
    async with maker() as db:
        person = await db.get(Person, person_id)
        if seen is None:
            seen = (await services.overview(db, person, date.today())).seq
        try:
            outcome = await services.decide(
                db, person=person, actor=Actor("person", person_id, "self"), given_by=person_id,
                decision=decision, unit_ids=units, idempotency_key=key, seen_seq=seen,
                locale="sv", today=date.today())
            await db.commit()  # what the request's transaction policy does
        except services.StaleForm:
            return ("stale", decision, None, None)
        except services.NothingChosen:
            return ("nothing", decision, None, None)
        return ("ok", decision, outcome.act.id, outcome.duplicate)


async def _stored(maker, person_id: str):
    async with maker() as db:
        acts = (await db.exec(select(ConsentAct).where(ConsentAct.person_id == person_id))).all()
        events = (await db.exec(select(ConsentEvent).where(ConsentEvent.person_id == person_id)
                                .order_by(col(ConsentEvent.seq)))).all()
        return list(acts), list(events)


def _run(url: str, scenario):
    async def go():
        engine = create_async_engine(async_url(url), pool_size=CALLS + 5, max_overflow=0)
        try:
            return await scenario(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_concurrent_gives_and_withdrawals_store_exactly_what_was_acknowledged(pg_url):
    async def scenario(maker):
        person_id, units = await _setup(maker)
        # Consent for every unit first, so withdrawals have something to end.
        first = await _decide(maker, person_id, "give", units, secrets.token_urlsafe(24))
        assert first[0] == "ok"
        seen = 1 * len(units)
        calls = []
        for i in range(CALLS):
            decision = "give" if i % 2 else "withdraw"
            chosen = [units[i % len(units)]] if i % 5 else units
            # Every give carries the seq its form showed: the log before the race.
            calls.append(_decide(maker, person_id, decision, chosen,
                                 f"conc-{secrets.token_hex(8)}-{i}", seen))
        results = await asyncio.gather(*calls)
        acts, events = await _stored(maker, person_id)
        return first, results, acts, events

    first, results, acts, events = _run(pg_url, scenario)
    acknowledged = {first[2]} | {r[2] for r in results if r[0] == "ok"}
    assert all(r[3] is False for r in results if r[0] == "ok")  # distinct keys: no duplicates
    assert {a.id for a in acts} == acknowledged
    assert {e.act_id for e in events} == acknowledged  # every stored act has its events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    gives = [r for r in results if r[1] == "give"]
    assert len([r for r in gives if r[0] == "ok"]) <= 1  # all saw the same seq: one at most
    assert all(r[0] in ("ok", "stale") for r in gives)
    withdrawals = [r for r in results if r[1] == "withdraw"]
    assert all(r[0] in ("ok", "nothing") for r in withdrawals)  # never refused as stale
    assert any(r[0] == "ok" for r in withdrawals)


def test_twenty_concurrent_sends_of_one_form_store_one_act(pg_url):
    async def scenario(maker):
        person_id, units = await _setup(maker)
        key = secrets.token_urlsafe(24)
        results = await asyncio.gather(*(_decide(maker, person_id, "give", units, key, 0)
                                         for _ in range(CALLS)))
        acts, events = await _stored(maker, person_id)
        return results, acts, events, key

    results, acts, events, key = _run(pg_url, scenario)
    assert [r[0] for r in results] == ["ok"] * CALLS
    assert len({r[2] for r in results}) == 1
    assert [r[3] for r in results].count(False) == 1
    # Stored scoped to (signed-in user, person): never matched across people.
    actor = Actor("person", acts[0].person_id, "self")
    assert [a.idempotency_key for a in acts] == [services.scoped_key(actor, acts[0].person_id, key)]
    assert [e.seq for e in events] == [1, 2, 3]
