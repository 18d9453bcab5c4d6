"""Who may act for whom, right now, and for what.

A representation counts only while it is valid: from its start date, until
its end date, and for a guardian only while the child is under the age
limit of the child's country (`Settings.age_rules`). "Today" is the date in
the represented person's own time zone (`portal.core.clock`), so a
guardian's right ends at 00:00 local time on the child's birthday. Checked on
every request, so an ended proxy or a birthday takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.config import AgeRules
from portal.core.clock import local_date
from portal.core.i18n import N_
from portal.people.models import Person, Representation


class Scope(StrEnum):
    """What a representative may do for the person (stored space-separated)."""

    PLAN_READ = "plan:read"
    CONSENT = "consent"
    REQUESTS = "requests"
    MESSAGES = "messages"
    ACCESS_LOG = "log:read"  # see who has read or changed the person's information


SCOPE_WORDS = {
    Scope.PLAN_READ: N_("läsa planen"),
    Scope.CONSENT: N_("svara om samtycke"),
    Scope.REQUESTS: N_("be om samordning"),
    Scope.MESSAGES: N_("skicka och läsa meddelanden"),
    Scope.ACCESS_LOG: N_("se vem som har tittat på uppgifterna"),
}
ALL_SCOPES = " ".join(Scope)

KIND_REASON = {
    "guardian": N_("Du är vårdnadshavare."),
    "legal_representative": N_("Du är god man eller förvaltare."),
    "proxy": N_("Du har fullmakt."),
}

# Set from Settings by create_app(); the defaults are the documented ones.
_age_rules = AgeRules()


def configure(rules: AgeRules) -> None:
    """Use these age limits (called once by create_app with `Settings.age_rules`)."""
    global _age_rules
    _age_rules = rules


def age_rules() -> AgeRules:
    return _age_rules


def guardian_age_limit(country: str) -> int:
    return _age_rules.guardian_age_limit(country)


@dataclass(frozen=True)
class ActingRight:
    representation: Representation
    person: Person

    @property
    def scopes(self) -> frozenset[str]:
        return self.representation.scopes

    def allows(self, scope: Scope) -> bool:
        return scope.value in self.scopes


def is_valid(rep: Representation, represented: Person, today: date) -> bool:
    """Whether `rep` counts on `today`, the date in the represented person's zone."""
    if rep.valid_from > today:
        return False
    if rep.valid_to is not None and rep.valid_to < today:
        return False
    if rep.ended_at is not None:
        return False
    return not (rep.kind == "guardian"
                and represented.age_on(today) >= guardian_age_limit(represented.country))


async def acting_rights(db: AsyncSession, representative_id: str, now: datetime,
                        person_id: str | None = None) -> list[ActingRight]:
    """Every person the representative may act for at the instant `now` (aware), by name.

    Each right is checked against the represented person's own calendar date.
    With `person_id`, only the right for that person (one query either way)."""
    # A day's margin in the query: the exact check is per person's zone below.
    earliest, latest = now.date() - timedelta(days=1), now.date() + timedelta(days=1)
    query = (
        select(Representation, Person)
        .join(Person, Person.id == Representation.represented_id)
        .where(Representation.representative_id == representative_id)
        .where(Representation.valid_from <= latest)
        .where(or_(Representation.valid_to.is_(None), Representation.valid_to >= earliest))
        .where(Representation.ended_at.is_(None))
    )
    if person_id is not None:
        query = query.where(Representation.represented_id == person_id)
    rows = (await db.exec(query)).all()
    rights = [ActingRight(rep, person) for rep, person in rows
              if is_valid(rep, person, local_date(now, person))]
    return sorted(rights, key=lambda r: (r.person.given_name, r.person.family_name))


async def acting_right(db: AsyncSession, representative_id: str, person_id: str,
                       now: datetime) -> ActingRight | None:
    """The representative's right to act for `person_id` at `now`, or None."""
    rights = await acting_rights(db, representative_id, now, person_id=person_id)
    return rights[0] if rights else None
