"""The person's plan (and a representative's view of it): read, versions, earlier plans, .ics."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.access import Scope, Subject, acting_for
from portal.core.page_cache import kept
from portal.fhir.clients import FhirClient
from portal.people.models import Person, StaffMember, Unit
from portal.plans import calendar, services
from portal.plans import content as plan_content
from portal.plans.models import Plan

READER = {"subject": acting_for(Scope.PLAN_READ)}


async def plan_context(db: AsyncSession, content: dict, person: Person,
                       publisher_id: str | None = None, contacts: bool = False) -> dict:
    """Names for the ids in the content: units, the coordinator and their unit. Reads only
    the units the plan names (never every unit of the country: a region has hundreds).
    The version's publisher (`publisher_id`, a staff id) is read with the coordinator, in
    one statement: `db.get(StaffMember, publisher_id)` then finds it in the session. With
    `contacts`, the same statement finds the plan's contacts who are staff
    (messages.services.staff_contacts: "contact_staff", for `ask_links`)."""
    from portal.messages.services import staff_contacts

    staff_ids = {content.get("coordinator_id"), publisher_id} - {None, ""}
    names = [c["name"] for c in content["contacts"]] if contacts else []
    contact_staff, staff = await staff_contacts(db, person.id, names, also=staff_ids)
    coordinator = staff.get(content.get("coordinator_id") or "")
    wanted = {a.get("unit_id") for a in content["actions"]}
    if coordinator is not None:
        wanted.add(coordinator.unit_id)
    wanted.discard(None)
    wanted.discard("")
    units = {u.id: u for u in (await db.exec(select(Unit).where(
        col(Unit.id).in_(wanted)))).all()} if wanted else {}
    def unit_name(action: dict) -> str:
        unit = units.get(action.get("unit_id"))
        return unit.name if unit else ""

    return {
        "content": content, "units": units, "coordinator": coordinator, "contact_staff": contact_staff,
        "actions_by_unit": sorted(content["actions"], key=lambda a: (unit_name(a), a["start"])),
        "actions_by_date": sorted(content["actions"], key=lambda a: (a["start"] or "9999", unit_name(a))),
        "coordinator_unit": units.get(coordinator.unit_id) if coordinator else None,
        "statuses": plan_content.ACTION_STATUSES, "person": person,
    }


async def version_source(db: AsyncSession, version) -> FhirClient | None:
    """The staff system a version came from (PlanVersion.source_client_id, portal.fhir.publish):
    the plan page says "Från Lifecare SP, Region Kalmar län, 2 december 2026". None when a
    contact person wrote it in the editor (no statement then)."""
    return await db.get(FhirClient, version.source_client_id) if version.source_client_id else None


async def log_plan_read(subject: Subject, plan, number: int) -> None:
    """The access log entry for reading a plan version (staff and representatives)."""
    await subject.log_read("plan.read", "plan", plan.id, {"version": number})


async def ask_links(subject: Subject, context: dict) -> dict[str, str]:
    """"Skicka en fråga" beside the coordinator and each contact who is staff: "coordinator"
    or a contact's id -> the new-question page with them chosen; none for a viewer who may
    not use `messages` for the person."""
    if not subject.may(Scope.MESSAGES):
        return {}

    def link(staff: StaffMember) -> str:
        return "/meddelanden/ny?" + urlencode({"till": staff.unit_id, "kontakt": staff.id})

    links = {"coordinator": link(context["coordinator"])} if context["coordinator"] else {}
    contacts = context["content"]["contacts"]
    staff = context["contact_staff"]  # read by plan_context(contacts=True)
    for contact in contacts:
        found = staff.get(contact["name"].strip().casefold())
        if found is not None:
            links[contact["id"]] = link(found)
    return links


@get("/plan", dependencies=READER, name="my_plan")
@kept
async def my_plan(subject: NamedDependency[Subject],
                  order: Annotated[str | None, QueryParameter(name="ordning")] = None) -> Template:
    db, person = subject.db, subject.person
    plan, earlier = await services.active_and_closed(db, person.id)
    if plan is None:
        return Template("plans/none.html", context={
            "person": person, "earlier": earlier,
            # The plan closed last may have had a meeting still to come: now cancelled.
            "cancelled_meeting": bool(earlier) and still_to_cancel(
                await plan_meeting(db, earlier[0], person), person, subject.time.now)})
    reading = await services.read_current(db, plan, subject.viewer.person.id)
    await log_plan_read(subject, plan, plan.current_version)
    context = await plan_context(db, reading.content, person, reading.version.published_by,
                                 contacts=subject.may(Scope.MESSAGES))
    publisher = await db.get(StaffMember, reading.version.published_by)  # read with the context
    return Template("plans/plan.html", context={
        **context, "plan": plan, "version": reading.version, "changed": reading.changed,
        "ask_links": await ask_links(subject, context),
        "publisher": publisher, "source": await version_source(db, reading.version),
        "earlier": earlier, "archived": False,
        "sort_by": "date" if order == "datum" else "unit",
        # Only a version that removed a meeting says so (plans.forms, "follow_up_remove"):
        # the versions are read only then.
        "cancelled_meeting": bool(reading.content["follow_up"].get("removed")) and still_to_cancel(
            await plan_meeting(db, plan, person), person, subject.time.now),
    })


@get("/plan/versioner", dependencies=READER, name="plan_versions")
async def plan_versions(subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    plan = await services.active_plan(db, person.id)
    if plan is None:
        raise NotFoundException()
    await subject.log_read("plan.versions_read", "plan", plan.id)
    return Template("plans/versions.html", context={
        "plan": plan, "versions": await services.versions(db, plan.id), "person": person})


@get("/plan/{plan_id:str}/version/{number:int}", dependencies=READER, name="plan_version")
async def plan_version(plan_id: FromPath[str], number: FromPath[int], subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    plan = await services.plan_of_person(db, plan_id, person.id)
    found = await services.version(db, plan.id, number) if plan else None
    if found is None:
        raise NotFoundException()  # the same for "not yours" and "does not exist"
    await log_plan_read(subject, plan, number)
    context = await plan_context(db, plan_content.load(found.content), person, found.published_by)
    publisher = await db.get(StaffMember, found.published_by)  # read with the context
    return Template("plans/plan.html", context={
        **context, "plan": plan, "version": found, "changed": set(), "publisher": publisher,
        "source": await version_source(db, found), "earlier": [], "archived": True,
    })


@get("/plan/tidigare", dependencies=READER, name="earlier_plans")
async def earlier_plans(subject: NamedDependency[Subject]) -> Template:
    db, person = subject.db, subject.person
    return Template("plans/earlier.html", context={
        "plans": await services.closed_plans(db, person.id), "person": person})


async def plan_meeting(db: AsyncSession, plan: Plan, person: Person) -> calendar.Meeting | None:
    """The follow-up meeting of `plan` as the person's calendar should hold it (one
    statement: the plan's versions). From its published versions (plans.calendar.meeting),
    and for a closed plan as a cancellation if it was closed before the meeting. None when
    there is no meeting or none with a usable start."""
    contents = [plan_content.load(v.content)
                for v in reversed(await services.versions(db, plan.id))]
    found = calendar.meeting(plan, contents)
    if found is not None and plan.status == "closed":
        found = calendar.cancelled_by_closing(found, plan, person)
    if found is None or calendar.follow_up_start({"follow_up": found.follow_up}, person) is None:
        return None
    return found


async def follow_up_meeting(db: AsyncSession, person: Person) -> tuple[Plan, calendar.Meeting] | None:
    """The person's follow-up meeting with its plan: the active plan's, or when there is
    none, the one of the plan closed last (see plan_meeting)."""
    plan = await services.active_plan(db, person.id)
    if plan is None:
        closed = await services.closed_plans(db, person.id)
        plan = closed[0] if closed else None
    found = await plan_meeting(db, plan, person) if plan is not None else None
    return (plan, found) if found is not None else None


def still_to_cancel(found: calendar.Meeting | None, person: Person, now) -> bool:
    """A cancelled meeting that had not started at `now` (aware): worth a calendar update."""
    if found is None or not found.cancelled:
        return False
    start = calendar.follow_up_start({"follow_up": found.follow_up}, person)
    return start is not None and start > now


@get("/plan/kalender.ics", dependencies=READER, name="plan_calendar")
async def plan_calendar(request: Request, subject: NamedDependency[Subject]) -> Response:
    """The follow-up meeting as an .ics file (plans.calendar): the meeting, or its
    cancellation when it was removed or the plan was closed; 404 when there is none."""
    db, person = subject.db, subject.person
    meeting = await follow_up_meeting(db, person)
    if meeting is None:
        raise NotFoundException()  # no follow-up date, or none the calendar can use
    plan, found = meeting
    if found.cancelled and not still_to_cancel(found, person, subject.time.now):
        raise NotFoundException()  # a cancelled meeting in the past: nothing to correct
    await log_plan_read(subject, plan, plan.current_version)
    body = calendar.follow_up_ics(found, person, request.app.state.settings.base_url,
                                  subject.time.now)
    # Litestar adds "; charset=utf-8" to every text/* media type itself (Response's
    # `encoding`): a media type that names a charset would get it twice.
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="uppfoljning.ics"'})


route_handlers = [my_plan, plan_versions, plan_version, earlier_plans, plan_calendar]
