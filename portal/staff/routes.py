"""The contact person's view: the people their unit works with."""

from __future__ import annotations

from datetime import date

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import record
from portal.auth.guards import requires_staff
from portal.consent import services
from portal.people.models import Person


@get("/personal/personer", guards=[requires_staff], name="staff_persons")
async def staff_persons(request: Request, db: NamedDependency[AsyncSession]) -> Template:
    viewer = request.scope["state"]["viewer"]
    rows = []
    for person in await services.persons_of_unit(db, viewer.staff.unit_id):
        view = await services.overview(db, person, date.today())
        rows.append((person, view.state(viewer.staff.unit_id)))
        # The list shows each person's consent state for the unit: that is a read.
        await record(db, "consent.listed_for_staff", viewer.actor(), subject_person_id=person.id,
                     object_type="person", object_id=person.id)
    await db.commit()
    return Template("staff/persons.html", context={"rows": rows})


@get("/personal/personer/{person_id:str}", guards=[requires_staff], name="staff_person")
async def staff_person(request: Request, person_id: FromPath[str],
                       db: NamedDependency[AsyncSession]) -> Template:
    """What the unit may see only while the person's consent covers it."""
    viewer = request.scope["state"]["viewer"]
    person = await db.get(Person, person_id)
    if person is None or not await services.unit_works_with(db, viewer.staff.unit_id, person.id):
        raise PermissionDeniedException()
    if not await services.unit_has_consent(db, person, viewer.staff.unit_id, date.today()):
        raise PermissionDeniedException()
    await record(db, "person.viewed_by_staff", viewer.actor(), subject_person_id=person.id,
                 object_type="person", object_id=person.id)
    await db.commit()
    view = await services.overview(db, person, date.today())
    return Template("staff/person.html", context={"person": person, "view": view})


route_handlers = [staff_persons, staff_person]
