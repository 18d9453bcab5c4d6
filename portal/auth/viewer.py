"""Who is signed in, and for whom they use the service right now.

The signed-in user and the person being acted for are two different things:
`Viewer.user_*` is who logged in; `Viewer.acting_for` is whose matters are
shown. Both are loaded afresh on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.people.models import Person, StaffMember, Unit
from portal.people.representation import ActingRight, acting_right


@dataclass
class Viewer:
    kind: str  # "person" or "staff"
    person: Person | None = None
    staff: StaffMember | None = None
    unit: Unit | None = None
    right: ActingRight | None = None  # set when acting for someone else

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
    an acting right has ended. One query for staff (with the unit), one or two for a person."""
    user_id = data.get("user_id")
    if not user_id:
        return None, False
    if data.get("user_kind") == "staff":
        row = (await db.exec(select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
                             .where(StaffMember.id == user_id))).first()
        if row is None:
            return None, False
        return Viewer("staff", staff=row[0], unit=row[1]), False
    person = await db.get(Person, user_id)
    if person is None:
        return None, False
    viewer = Viewer("person", person=person)
    acting_id = data.get("acting_for")
    if acting_id and acting_id != person.id:
        viewer.right = await acting_right(db, person.id, acting_id, now)
        if viewer.right is None:
            return viewer, True
    return viewer, False
