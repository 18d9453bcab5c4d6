"""The contact person's view: the people their unit works with."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.access import Subject, staff_subject
from portal.audit.service import record
from portal.auth.guards import requires_staff
from portal.consent import services


@get("/personal/personer", guards=[requires_staff])
async def staff_persons(request: Request) -> Template:
    state = request.scope["state"]
    viewer, db, time = state["viewer"], state["db"], state["time"]
    rows = []
    for person in await services.persons_of_unit(db, viewer.staff.unit_id):
        view = await services.overview(db, person, time.today_for(person))
        rows.append((person, view.state(viewer.staff.unit_id)))
        # The list shows each person's consent state for the unit: that is a read.
        await record(db, "consent.listed_for_staff", viewer.actor(), subject_person_id=person.id,
                     object_type="person", object_id=person.id)
    return Template("staff/persons.html", context={"rows": rows})


@get("/personal/personer/{person_id:str}",
     dependencies={"subject": staff_subject(needs_consent=True, audit="person.viewed_by_staff")})
async def staff_person(subject: NamedDependency[Subject]) -> Template:
    """What the unit may see only while the person's consent covers it."""
    view = await services.overview(subject.db, subject.person, subject.today)
    return Template("staff/person.html", context={"person": subject.person, "view": view})


route_handlers = [staff_persons, staff_person]
