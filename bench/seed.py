"""Benchmark data through the app's own services: Viola's published plan, and more of it.

    python bench/seed.py DATABASE_URL [--versions N] [--consent-events N]

Run it with the python of the checkout whose `portal` package should do the
work (`bench/load.py` runs it as a file with PYTHONPATH set to that tree), so
it imports nothing from `bench`. It prints one JSON line: {"viola": id,
"plan": "services" | "failed: ...", ...}. A failure is reported, not raised, so
that the caller can fall back to the staff editor over HTTP.

The demo data holds no plan. Viola first consents for Kalmar vårdcentral, then
Anna (a contact person there) creates, fills in and publishes the plan: the
same steps as the `viola_has_a_plan` fixture in tests/test_authorization_matrix.py.
It commits after every service call, so it works whether the services commit
themselves or leave that to the caller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
import uuid
from datetime import date

PLAN_UNIT = "se-kalmar-vc"
OTHER_UNIT = "se-kalmar-soc"  # consent back and forth here leaves PLAN_UNIT alone
FOLLOW_UP = {"date": "2026-12-08", "time": "10:00", "place": "Hemma"}


async def _people(db):
    from sqlmodel import select

    from portal.people.models import Person, StaffMember, Unit

    viola = (await db.exec(select(Person).where(Person.given_name == "Viola"))).one()
    unit = (await db.exec(select(Unit).where(Unit.code == PLAN_UNIT))).one()
    anna = (await db.exec(select(StaffMember).where(
        StaffMember.unit_id == unit.id, StaffMember.given_name == "Anna"))).one()
    return viola, unit, anna


async def _decide(db, viola, unit_id: str, decision: str) -> None:
    from portal.audit.service import Actor
    from portal.consent import services as consent

    seq = (await consent.overview(db, viola, date.today())).seq
    await consent.decide(db, person=viola, actor=Actor("person", viola.id, "self"),
                         given_by=viola.id, decision=decision, unit_ids=[unit_id],
                         idempotency_key=uuid.uuid4().hex, seen_seq=seq, locale="sv",
                         today=date.today())
    await db.commit()  # a no-op where the service commits itself


async def ensure_plan(db) -> str:
    """Viola has consented for Kalmar vårdcentral and has a published plan; her id."""
    from portal.consent import services as consent
    from portal.plans import content as plan_content
    from portal.plans import services as plans

    viola, unit, anna = await _people(db)
    if not await consent.unit_has_consent(db, viola, unit.id, date.today()):
        await _decide(db, viola, unit.id, "give")
    plan = await plans.create_plan(db, viola, anna)
    await db.commit()
    draft = plan_content.load(plan.draft)
    if plan.status != "active" or not draft["follow_up"].get("date"):
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision,
                                      {"follow_up": dict(FOLLOW_UP)})
        await db.commit()
        await plans.publish(db, plan, anna, plan.draft_revision)
        await db.commit()
    return viola.id


async def has_published_plan(db) -> bool:
    from portal.plans import services as plans

    viola, _, _ = await _people(db)
    return await plans.active_plan(db, viola.id) is not None


async def grow(db, versions: int, consent_events: int) -> None:
    """`versions` more published plan versions and `consent_events` more consent events."""
    from sqlmodel import select

    from portal.people.models import Unit
    from portal.plans import services as plans

    viola, _, anna = await _people(db)
    for n in range(versions):
        plan = await plans.open_plan(db, viola.id)
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision,
                                      {"important": f"Version {n + 2}: att få vara hemma."})
        await db.commit()
        await plans.publish(db, plan, anna, plan.draft_revision)
        await db.commit()
    other = (await db.exec(select(Unit).where(Unit.code == OTHER_UNIT))).one()
    for n in range(consent_events):
        await _decide(db, viola, other.id, "give" if n % 2 == 0 else "withdraw")


async def _main(url: str, versions: int, consent_events: int) -> dict:
    from portal.core.db import make_async_engine, make_sessionmaker

    engine = make_async_engine(url)
    result: dict = {}
    try:
        async with make_sessionmaker(engine)() as db:
            result["viola"] = (await _people(db))[0].id
        try:
            async with make_sessionmaker(engine)() as db:
                await ensure_plan(db)
            async with make_sessionmaker(engine)() as db:
                if not await has_published_plan(db):
                    raise RuntimeError("the services ran, but no published plan was stored")
            result["plan"] = "services"
            if versions or consent_events:
                async with make_sessionmaker(engine)() as db:
                    await grow(db, versions, consent_events)
                result["grown"] = {"versions": versions, "consent_events": consent_events}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            result["plan"] = f"failed: {type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--versions", type=int, default=0)
    parser.add_argument("--consent-events", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_main(args.database_url, args.versions, args.consent_events))))


if __name__ == "__main__":
    main()
