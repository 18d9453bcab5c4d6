"""Who is signed in, and for whom they use the service right now.

The signed-in user and the person being acted for are two different things:
`Viewer.user_*` is who logged in; `Viewer.acting_for` is whose matters are
shown. Both are loaded afresh on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, bindparam, literal
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.core.data_versions import SITE, DataVersion, person_scope, unit_scope
from portal.people.models import Person, StaffMember, Unit
from portal.people.representation import ActingRight, acting_right


@dataclass
class Viewer:
    kind: str  # "person" or "staff"
    person: Person | None = None
    staff: StaffMember | None = None
    unit: Unit | None = None
    right: ActingRight | None = None  # set when acting for someone else
    # The change counters read with the viewer (portal.core.data_versions): "site", the
    # person's own ("p:<id>") and the person acted for, or the staff member's unit ("u:<id>").
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.person.name if self.person else self.staff.name  # type: ignore[union-attr]

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def acting_for(self) -> Person | None:
        """The person whose matters are shown: someone else, or the user."""
        if self.right is not None:
            return self.right.person
        return self.person

    @property
    def acting_for_other(self) -> bool:
        return self.right is not None

    def may(self, scope: str) -> bool:
        """Whether this citizen may use `scope` ("plan:read", "consent" …) for the person
        shown (always for their own matters); for the menu — routes check in portal.access."""
        return not self.is_staff and (self.right is None or scope in self.right.scopes)

    def loaded_objects(self) -> list:
        """The database rows this viewer holds (to detach them from the request's session)."""
        rows = [self.person, self.staff, self.unit]
        if self.right is not None:
            rows += [self.right.person, self.right.representation]
        return [row for row in rows if row is not None]

    def actor(self) -> Actor:
        if self.is_staff:
            return Actor("staff", self.staff.id, "staff", self.staff.unit_id)  # type: ignore[union-attr]
        role = self.right.representation.kind if self.right else "self"
        return Actor("person", self.person.id, role)  # type: ignore[union-attr]


async def load_viewer(db: AsyncSession, data: dict, now: datetime) -> tuple[Viewer | None, bool]:
    """Build the viewer from session data at the instant `now` (aware); the bool says
    an acting right has ended. One query for staff (with the unit), one or two for a person
    (the acting right); the first also reads `Viewer.versions`."""
    user_id = data.get("user_id")
    if not user_id:
        return None, False
    if data.get("user_kind") == "staff":
        row = (await db.exec(_STAFF, params={"user_id": user_id})).first()
        if row is None:
            return None, False
        staff, unit, site, own = row
        return Viewer("staff", staff=staff, unit=unit,
                      versions={SITE: site or 0, unit_scope(unit.id): own or 0}), False
    acting_id = data.get("acting_for")
    scopes = [SITE, person_scope(user_id)]
    params = {"user_id": user_id, "own": scopes[1]}
    if acting_id and acting_id != user_id:
        scopes.append(person_scope(acting_id))
        params["other"] = scopes[2]
    row = (await db.exec(_PERSON_ACTING if len(scopes) == 3 else _PERSON, params=params)).first()
    if row is None:
        return None, False
    person = row[0]
    viewer = Viewer("person", person=person,
                    versions={scope: version or 0 for scope, version in zip(scopes, row[1:],
                                                                            strict=True)})
    if acting_id and acting_id != person.id:
        viewer.right = await acting_right(db, person.id, acting_id, now)
        if viewer.right is None:
            return viewer, True
    return viewer, False


def _version_of(scope):
    """A scalar subquery: the change counter of `scope` (a SQL expression), or NULL."""
    return select(DataVersion.version).where(DataVersion.scope == scope).scalar_subquery()


# Built once (building a statement costs as much as running it): the viewer with the
# change counters of the site, themself and the person acted for, or the staff member
# with their unit and its counter.
_PERSON = select(Person, _version_of(literal(SITE, String)),
                 _version_of(bindparam("own", type_=String))).where(
    Person.id == bindparam("user_id", type_=String))
_PERSON_ACTING = _PERSON.add_columns(_version_of(bindparam("other", type_=String)))
_STAFF = (select(StaffMember, Unit, _version_of(literal(SITE, String)),
                 _version_of(literal("u:", String) + Unit.id))
          .join(Unit, Unit.id == StaffMember.unit_id)
          .where(StaffMember.id == bindparam("user_id", type_=String)))
