"""Who may act for whom, right now, and for what.

A representation counts only while it is valid: from its start date, until
its end date, and for a guardian only while the child is under the age
limit of the child's country. Checked on every request, so an ended proxy
or a birthday takes effect at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.core.i18n import N_
from portal.people.models import Person, Representation

# What a representative may do for the person. Later features check these.
SCOPES = {
    "plan:read": N_("läsa planen"),
    "consent": N_("svara om samtycke"),
    "requests": N_("be om samordning"),
    "messages": N_("skicka och läsa meddelanden"),
}
ALL_SCOPES = " ".join(SCOPES)

# Until which age a guardian may act for a child in the e-service.
# Sweden (1177 practice): until the child turns 13. Finland (MittKanta):
# until 18, unless staff have judged that the child decides alone.
GUARDIAN_AGE_LIMIT = {
    "SE": int(os.environ.get("PORTAL_GUARDIAN_AGE_LIMIT_SE", "13")),
    "FI": int(os.environ.get("PORTAL_GUARDIAN_AGE_LIMIT_FI", "18")),
}

KIND_REASON = {
    "guardian": N_("Du är vårdnadshavare."),
    "legal_representative": N_("Du är god man eller förvaltare."),
    "proxy": N_("Du har fullmakt."),
}


@dataclass(frozen=True)
class ActingRight:
    representation: Representation
    person: Person

    @property
    def scopes(self) -> frozenset[str]:
        return self.representation.scopes

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def is_valid(rep: Representation, represented: Person, today: date) -> bool:
    if rep.valid_from > today:
        return False
    if rep.valid_to is not None and rep.valid_to < today:
        return False
    if rep.kind == "guardian":
        limit = GUARDIAN_AGE_LIMIT.get(represented.country, 18)
        if represented.age_on(today) >= limit:
            return False
    return True


async def acting_rights(db: AsyncSession, representative_id: str, today: date) -> list[ActingRight]:
    """Every person the representative may act for today, by name."""
    rows = (
        await db.exec(
            select(Representation, Person)
            .join(Person, Person.id == Representation.represented_id)
            .where(Representation.representative_id == representative_id)
            .where(Representation.valid_from <= today)
            .where(or_(Representation.valid_to.is_(None), Representation.valid_to >= today))
        )
    ).all()
    rights = [ActingRight(rep, person) for rep, person in rows if is_valid(rep, person, today)]
    return sorted(rights, key=lambda r: (r.person.given_name, r.person.family_name))


async def acting_right(db: AsyncSession, representative_id: str, person_id: str,
                       today: date) -> ActingRight | None:
    for right in await acting_rights(db, representative_id, today):
        if right.person.id == person_id:
            return right
    return None
