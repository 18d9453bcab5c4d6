"""The contact person's view: the people their unit works with."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.access import Subject, staff_subject
from portal.audit.service import record_many
from portal.auth.guards import requires_staff
from portal.consent import services


@get("/personal/personer", guards=[requires_staff], name="staff_persons")
async def staff_persons(request: Request) -> Template:
    state = request.scope["state"]
    viewer, db, time = state["viewer"], state["db"], state["time"]
    rows = await services.unit_states(db, viewer.staff.unit_id, time.today_for)
    # The list shows each person's consent state for the unit: that is a read of each.
    await record_many(db, "consent.listed_for_staff", viewer.actor(),
                      [(person.id, "person", person.id) for person, _ in rows])
    return Template("staff/persons.html", context={"rows": rows})


@get("/personal/personer/{person_id:str}",
     dependencies={"subject": staff_subject(needs_consent=True, audit="person.viewed_by_staff")}, name="staff_person")
async def staff_person(subject: NamedDependency[Subject]) -> Template:
    """What the unit may see only while the person's consent covers it."""
    return Template("staff/person.html", context={"person": subject.person,
                                                   "view": subject.consent})


route_handlers = [staff_persons, staff_person]
