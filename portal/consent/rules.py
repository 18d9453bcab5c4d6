"""Who decides about consent for a person, and what the page should explain.

Defaults (configuration, documented in the README):
- Sweden: guardians use the e-service for a child until the child turns 13
  (1177 practice); from 13 the young person answers for themselves.
- Finland: guardians act until 18 (MittKanta practice); from 12 the child's
  own view must be heard and the page says so.
- Sweden: from 10 the page asks the guardian to hear the child's view.
Environment: PORTAL_GUARDIAN_AGE_LIMIT_SE/_FI, PORTAL_CHILD_VIEW_FROM_SE/_FI.
"""

from __future__ import annotations

import os
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.people.models import Person, Representation
from portal.people.representation import is_valid

CHILD_VIEW_FROM = {
    "SE": int(os.environ.get("PORTAL_CHILD_VIEW_FROM_SE", "10")),
    "FI": int(os.environ.get("PORTAL_CHILD_VIEW_FROM_FI", "12")),
}


async def deciders(db: AsyncSession, person: Person, today: date) -> frozenset[str]:
    """Whose yes is needed: every current guardian of a child, otherwise the person."""
    guardians = (await db.exec(select(Representation).where(
        Representation.represented_id == person.id, Representation.kind == "guardian"))).all()
    current = frozenset(g.representative_id for g in guardians if is_valid(g, person, today))
    return current or frozenset({person.id})


def child_view_should_be_heard(person: Person, today: date, guardians_decide: bool) -> bool:
    age = person.age_on(today)
    return guardians_decide and age < 18 and age >= CHILD_VIEW_FROM.get(person.country, 12)
