"""Test data, in one place: fresh people, representations, staff, consent and plans.

The test database is shared by every test of a session (on each backend), so a
test that needs a known state makes its own people: unique random given names
(the development identity provider lists every person, so they can log in) and
national ids that pass the check digit and are never issued (Swedish numbers
from the 9xx series, Finnish individual numbers 900-999).

Everything is written through the app's own sessionmaker on the app's event
loop and committed, as the request's transaction policy would.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select

from portal.consent.models import CareRelation
from portal.people.models import Person, Representation, StaffMember, Unit
from portal.people.national_id import finnish_with_check_character, swedish_with_check_digit
from portal.people.representation import ALL_SCOPES

VC, SOC, AVD12 = "se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12"


def today_in(country: str = "SE") -> date:
    """Today in a country's zone (Europe/Stockholm, Europe/Helsinki): the date a form
    for a person there is checked against, not the test machine's (UTC) date."""
    from portal.core.clock import Clock

    return Clock().at_request().today_in(country)


def db_run(client, work):
    """Run `work(db)` on the app's own event loop with the app's sessionmaker."""
    maker = client.app.state.sessionmaker

    async def go():
        async with maker() as db:
            result = await work(db)
            await db.commit()  # services only flush: the request's policy commits
            return result

    return client.blocking_portal.call(go)


@dataclass
class Who:
    id: str
    given_name: str
    family_name: str
    email: str | None
    national_id: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _who(person: Person) -> Who:
    return Who(person.id, person.given_name, person.family_name, person.email,
               person.national_id, person.country)


def _national_id(country: str, born: date) -> str:
    if country == "FI":
        sign = "A" if born.year >= 2000 else "-"
        return finnish_with_check_character(born.strftime("%d%m%y"), sign,
                                            str(random.randint(900, 999)))
    return swedish_with_check_digit(born.strftime("%y%m%d") + f"{random.randint(100, 979):03d}",
                                    str(born.year)[:2])


def new_person(client, *, country: str = "SE", born: date | None = None, email: bool = True,
               units: tuple[str, ...] = (), prefix: str = "Tp", protected: bool = False) -> Who:
    """A fresh person with care relations to the units with these codes; `protected`:
    with protected personal data (Person.protected_identity)."""
    async def work(db):
        while True:
            day = born or date(1950, 1, 1) + timedelta(days=random.randint(0, 14000))
            number = _national_id(country, day)
            exists = (await db.exec(select(Person).where(Person.national_id == number))).first()
            if exists is None:
                break
        given = prefix + secrets.token_hex(4)
        person = Person(national_id=number, given_name=given, family_name="Provsson",
                        birth_date=day, country=country,
                        email=f"{given.lower()}@example.invalid" if email else None,
                        protected_identity=protected)
        db.add(person)
        await db.flush()
        for code in units:
            unit = (await db.exec(select(Unit).where(Unit.code == code))).one()
            db.add(CareRelation(person_id=person.id, unit_id=unit.id))
        await db.commit()
        return _who(person)

    return db_run(client, work)


def represent(client, representative: Who, represented: Who, kind: str,
              scope: str = ALL_SCOPES, valid_from: date | None = None,
              valid_to: date | None = None, appointment: str | None = None) -> str:
    """Let `representative` act for `represented`; returns the representation's id.
    `appointment`: what a court appointed a legal representative as (god_man, forvaltare,
    intressebevakare)."""
    async def work(db):
        source = {"guardian": "population_register", "legal_representative": "court"}
        rep = Representation(representative_id=representative.id, represented_id=represented.id,
                             kind=kind, scope=scope,
                             valid_from=valid_from or date.today() - timedelta(days=30),
                             valid_to=valid_to, source=source.get(kind, "person"),
                             appointment=appointment)
        db.add(rep)
        await db.commit()
        return rep.id

    return db_run(client, work)


def family(client, *, country: str = "SE", guardians: int = 2,
           units: tuple[str, ...] = ("se-kalmar-vc", "se-kalmar-soc")) -> tuple[Who, list[Who]]:
    """A young child and its guardians (all fresh)."""
    child = new_person(client, country=country, born=date.today() - timedelta(days=5 * 365),
                       email=False, units=units, prefix="Tc")
    parents = [new_person(client, country=country, prefix="Tg") for _ in range(guardians)]
    for parent in parents:
        represent(client, parent, child, "guardian",
                  valid_from=date.today() - timedelta(days=5 * 365))
    return child, parents


def units(client, *codes: str) -> list[Unit]:
    """The units with these codes, in the order asked."""
    async def work(db):
        rows = (await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all()
        by_code = {u.code: u for u in rows}
        return [by_code[c] for c in codes]

    return db_run(client, work)


def unit_ids(client, *codes: str) -> list[str]:
    return [unit.id for unit in units(client, *codes)]


def unit_names(client, *codes: str) -> list[str]:
    return [unit.name for unit in units(client, *codes)]


def staff_named(client, given: str) -> tuple[str, str]:
    """(staff id, unit id) of a demo staff member."""
    async def work(db):
        staff = (await db.exec(select(StaffMember).where(StaffMember.given_name == given))).first()
        return staff.id, staff.unit_id

    return db_run(client, work)


def decide_directly(client, person_id: str, decision: str, codes: tuple[str, ...] = (), *,
                    actor_id: str | None = None, role: str = "self",
                    given_by: str | None = None) -> str:
    """Store a consent act through the service (not HTTP); return the act id."""
    from portal.audit.service import Actor
    from portal.consent import services
    from portal.consent.forms import new_key

    async def work(db):
        person = await db.get(Person, person_id)
        ids = [u.id for u in (await db.exec(select(Unit).where(col(Unit.code).in_(codes)))).all()]
        seq = (await services.overview(db, person, date.today())).seq
        outcome = await services.decide(
            db, person=person, actor=Actor("person", actor_id or person_id, role),
            given_by=given_by or person_id, decision=decision, unit_ids=ids,
            idempotency_key=new_key(), seen_seq=seq, locale="sv", today=date.today())
        return outcome.act.id

    return db_run(client, work)


def person_with_consent(client, *, country: str = "SE", units=(VC, SOC, AVD12),
                        consent=(VC,), email: bool = True) -> Who:
    """A fresh person whose care relations are `units` and who consents for `consent`."""
    who = new_person(client, country=country, units=tuple(units), email=email, prefix="Pl")
    if consent:
        decide_directly(client, who.id, "give", tuple(consent))
    return who


def new_staff(client, unit_code: str) -> StaffMember:
    """A fresh staff member at the unit (unique given name, so the provider can pick them)."""
    async def work(db):
        unit = (await db.exec(select(Unit).where(Unit.code == unit_code))).one()
        given = "St" + secrets.token_hex(4)
        staff = StaffMember(employee_id=f"T-{secrets.token_hex(6)}", given_name=given,
                            family_name="Testsson", title="Sjuksköterska", unit_id=unit.id,
                            email=None, phone=None)
        db.add(staff)
        await db.commit()
        await db.refresh(staff)
        return staff

    return db_run(client, work)


async def viola_with_plan(db, *, withdraw_codes: tuple[str, ...] = ()):
    """Make the demo Viola consent for Kalmar vårdcentral (and not for the units in
    `withdraw_codes`) and have an active plan with a follow-up, written by Anna; made
    again if a test changed them. Returns (viola, plan). The caller commits."""
    from portal.audit.service import Actor
    from portal.consent import services as consent
    from portal.consent.forms import new_key
    from portal.plans import content as plan_content
    from portal.plans import services as plans

    viola = (await db.exec(select(Person).where(Person.given_name == "Viola",
                                                Person.family_name == "Andersson"))).one()
    units = {u.code: u for u in (await db.exec(select(Unit))).all()}
    vc = units[VC]
    anna = (await db.exec(select(StaffMember).where(StaffMember.unit_id == vc.id,
                                                    StaffMember.given_name == "Anna"))).one()
    today = date.today()
    as_viola = Actor("person", viola.id, "self")

    async def decide(decision: str, unit_id: str) -> None:
        seq = (await consent.overview(db, viola, today)).seq
        await consent.decide(db, person=viola, actor=as_viola, given_by=viola.id,
                             decision=decision, unit_ids=[unit_id], idempotency_key=new_key(),
                             seen_seq=seq, locale="sv", today=today)

    for code in withdraw_codes:
        if await consent.unit_has_consent(db, viola, units[code].id, today):
            await decide("withdraw", units[code].id)
    if not await consent.unit_has_consent(db, viola, vc.id, today):
        await decide("give", vc.id)
    plan = await plans.create_plan(db, viola, anna)  # the open plan, if there is one
    draft = plan_content.load(plan.draft)
    if plan.status != "active" or not draft["follow_up"].get("date"):
        follow_up = {"date": "2026-12-08", "time": "10:00", "place": "Hemma"}
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision, {"follow_up": follow_up})
        await plans.publish(db, plan, anna, plan.draft_revision)
    return viola, plan


def publish_plan(client, person_id: str, important: str, staff: str = "Anna") -> None:
    """A new plan version with `important` as "what matters to you", published through the
    plan services by the named staff member (the plan is created first when there is none)."""
    from portal.plans import services as plans

    staff_id, _ = staff_named(client, staff)

    async def work(db):
        person, author = await db.get(Person, person_id), await db.get(StaffMember, staff_id)
        plan = await plans.create_plan(db, person, author)
        plan = await plans.save_draft(db, plan, author, plan.draft_revision, {"important": important})
        await plans.publish(db, plan, author, plan.draft_revision)

    db_run(client, work)
