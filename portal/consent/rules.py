"""Who decides about consent for a person, and what the page should explain.

Defaults (configuration, documented in the README):
- Sweden: guardians use the e-service for a child until the child turns 13
  (1177 practice); from 13 the young person answers for themselves.
- Finland: guardians act until 18 (MittKanta practice); from 12 the child's
  own view must be heard and the page says so.
- Sweden: from 10 the page asks the guardian to hear the child's view.
Settings: `Settings.age_rules` (environment PORTAL_GUARDIAN_AGE_LIMIT_SE/_FI,
PORTAL_CHILD_VIEW_FROM_SE/_FI). `today` is the person's own date (`portal.core.clock`).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.people.models import Person, Representation
from portal.people.representation import age_rules, is_valid


async def deciders(db: AsyncSession, person: Person, today: date) -> frozenset[str]:
    """Whose yes is needed: every current guardian of a child, otherwise the person."""
    guardians = (await db.exec(select(Representation).where(
        Representation.represented_id == person.id, Representation.kind == "guardian"))).all()
    return current_deciders(person, guardians, today)


async def guardians_of(db: AsyncSession, person_ids: list[str]) -> dict[str, list[Representation]]:
    """Guardian representations of many people at once (one statement), by person id."""
    rows = (await db.exec(select(Representation).where(
        col(Representation.represented_id).in_(person_ids),
        Representation.kind == "guardian"))).all()
    found: dict[str, list[Representation]] = {}
    for rep in rows:
        found.setdefault(rep.represented_id, []).append(rep)
    return found


async def deciding(db: AsyncSession, person: Person, today: date) -> dict[str, Person]:
    """The deciders (as `deciders`) with their Person rows, by id: one statement (the
    guardians with their people), `person` itself when they decide for themselves."""
    rows = (await db.exec(
        select(Representation, Person).join(Person, col(Person.id) == Representation.representative_id)
        .where(Representation.represented_id == person.id, Representation.kind == "guardian"))).all()
    people = {p.id: p for _, p in rows} | {person.id: person}
    return {pid: people[pid] for pid in current_deciders(person, [g for g, _ in rows], today)}


def current_deciders(person: Person, guardians: list[Representation], today: date) -> frozenset[str]:
    """The guardians whose right is valid on the person's `today`, else the person alone."""
    current = frozenset(g.representative_id for g in guardians if is_valid(g, person, today))
    return current or frozenset({person.id})


def child_view_should_be_heard(person: Person, today: date, guardians_decide: bool) -> bool:
    age = person.age_on(today)
    return guardians_decide and age < 18 and age >= age_rules().child_view_age(person.country)
