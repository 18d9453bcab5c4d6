"""Who may see and do what for whom: the one place the rules live.

Three ways to reach a person's matters (`../shared/SECURITY.md`, access control):
- the person themself;
- a representative acting for them, with the named `Scope` the page needs
  (guardian, god man/förvaltare/intressebevakare, proxy) while the
  representation is valid (`portal.people.representation`);
- staff of a unit that works with the person (a care relation), and for
  anything beyond the unit's own consent status only while the person's
  consent covers that unit.

Routes declare what they need and the handler receives the person:

    @get("/plan", dependencies={"subject": acting_for(Scope.PLAN_READ)})
    async def my_plan(subject: Subject) -> Template: ...

    @get("/personal/personer/{person_id:str}",
         dependencies={"subject": staff_subject(needs_consent=True,
                                                audit="person.viewed_by_staff")})

A state-changing request names the person it was shown for (the `subject`
form field, or the `X-Subject` header htmx sends from `<body>`); if the
session now acts for someone else (another tab), `WrongSubject` is raised
before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Request
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, note_read, reads_are_quiet, record
from portal.auth.guards import LoginRequired, WrongKindOfUser
from portal.auth.viewer import Viewer
from portal.consent import services as consent
from portal.core import i18n
from portal.core.clock import RequestTime, zone_of
from portal.people.models import Person
from portal.people.representation import Scope

__all__ = ["Scope", "Subject", "WrongSubject", "acting_for", "citizen_subject", "own_account",
           "staff_subject", "themself"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The 403's detail when a representative's right does not cover the page (core.errors
# then says what the right does cover).
OUT_OF_SCOPE = "out-of-scope"


class WrongSubject(Exception):
    """The form was shown for another person than the one the session acts for now."""

    def __init__(self, current: Person) -> None:
        super().__init__("form shown for another person")
        self.current = current


@dataclass
class Subject:
    """The person a handler may act on, who acts, and on what basis.

    `today` is the person's own calendar date. For staff, `consent` is the person's
    consent overview (derived once) and `unit_has_consent` says whether it covers
    the staff member's unit."""

    person: Person
    viewer: Viewer
    db: AsyncSession
    time: RequestTime
    consent: consent.Overview | None = None  # for staff: the person's consent, derived once

    @property
    def unit_has_consent(self) -> bool:
        return (self.by_staff and self.consent is not None
                and self.consent.state(self.viewer.staff.unit_id).active)

    @property
    def today(self) -> date:
        return self.time.today_for(self.person)

    @property
    def by_staff(self) -> bool:
        return self.viewer.is_staff

    @property
    def by_representative(self) -> bool:
        return not self.viewer.is_staff and self.viewer.acting_for_other

    @property
    def on_behalf_of(self) -> str | None:
        """The person's id when someone else acts (staff or a representative), else None."""
        return self.person.id if self.by_staff or self.by_representative else None

    def actor(self) -> Actor:
        return self.viewer.actor()

    def may(self, scope: Scope) -> bool:
        """Whether the viewer may do `scope` for the person (the person always may)."""
        return self.by_staff or self.viewer.may(scope.value)

    async def log_read(self, action: str, object_type: str, object_id: str,
                       detail: dict | None = None) -> None:
        """The access log (HSLF-FS 2016:40; Finnish client data rules): a read by staff
        or a representative is recorded in the request's transaction; the person's
        own reads are not."""
        if self.on_behalf_of is None:
            return
        details = {"subject_person_id": self.person.id, "on_behalf_of": self.on_behalf_of,
                       "object_type": object_type, "object_id": object_id, "detail": detail}
        if not reads_are_quiet():  # the same page was recorded a moment ago (page_cache)
            await record(self.db, action, self.actor(), **details)
        note_read(record, action, self.actor(), **details)  # again when a kept page is sent


def _viewer(request: Request) -> Viewer:
    viewer = request.scope["state"].get("viewer")
    if viewer is None:
        raise LoginRequired()
    return viewer


async def _sent_subject(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("subject")
        if sent:
            return str(sent)
    return request.headers.get("x-subject", "")


def _show_in_zone_of(person: Person, viewer: Viewer) -> None:
    """Times on this page are in the person's zone; staff see the zone named if it is
    not their own."""
    zone = zone_of(person)
    own = zone_of(viewer.unit) if viewer.is_staff and viewer.unit else zone
    i18n.show_times_in(zone, name_it=own.key != zone.key)


async def citizen_subject(request: Request, scope: Scope | tuple[Scope, ...] | None = None
                          ) -> Subject:
    """The person the signed-in citizen acts for (themself or someone they represent).

    Raises LoginRequired for a visitor, WrongKindOfUser for staff,
    PermissionDeniedException (403) for a representative without `scope` (with a
    tuple: without every one of them), and
    WrongSubject when an unsafe request was made from a page shown for someone else."""
    viewer = _viewer(request)
    if viewer.is_staff:
        raise WrongKindOfUser()
    person = viewer.acting_for
    needed = (scope,) if isinstance(scope, Scope) else (scope or ())
    if viewer.acting_for_other and not all(viewer.right.allows(s) for s in needed):
        raise PermissionDeniedException(detail=OUT_OF_SCOPE)
    if request.method in UNSAFE_METHODS and await _sent_subject(request) != person.id:
        raise WrongSubject(person)
    _show_in_zone_of(person, viewer)
    state = request.scope["state"]
    return Subject(person, viewer, state["db"], state["time"])


def acting_for(scope: Scope | tuple[Scope, ...] | None = None) -> Provide:
    """A dependency giving `citizen_subject(request, scope)` to the handler: e.g.
    `acting_for(Scope.PLAN_READ)`, or `acting_for(tuple(Scope))` for what needs every right
    (the person's own data export)."""

    async def provide(request: Request) -> Subject:
        return await citizen_subject(request, scope)

    return Provide(provide)


def themself() -> Provide:
    """A dependency giving the Subject only to a citizen acting for themself: for who may act
    for them (inviting, ending a fullmakt). A representative, whatever their right, gets a
    403: no right covers giving rights away."""

    async def provide(request: Request) -> Subject:
        subject = await citizen_subject(request)
        if subject.by_representative:
            raise PermissionDeniedException()
        return subject

    return Provide(provide)


def own_account() -> Provide:
    """A dependency giving the signed-in citizen's own `Viewer`, whoever they act for: for
    what is personal, such as how they get notices (`viewer.person` is the one to change).

    Raises LoginRequired for a visitor, WrongKindOfUser for staff, and WrongSubject when
    an unsafe request was made from a page shown for someone else (another tab)."""

    async def provide(request: Request) -> Viewer:
        viewer = _viewer(request)
        if viewer.is_staff:
            raise WrongKindOfUser()
        if request.method in UNSAFE_METHODS and await _sent_subject(request) != viewer.acting_for.id:
            raise WrongSubject(viewer.acting_for)
        _show_in_zone_of(viewer.person, viewer)
        return viewer

    return Provide(provide)


def staff_subject(*, needs_consent: bool, audit: str | None = None) -> Provide:
    """A dependency giving the person in the `person_id` path parameter to staff of a
    unit that works with them; with `needs_consent`, only while the person's consent
    covers the unit. Anything else is a 403 that looks the same whether the person
    exists or not. `audit` names the access-log action recorded for the read."""

    async def provide(request: Request) -> Subject:
        viewer = _viewer(request)
        if not viewer.is_staff:
            raise WrongKindOfUser()
        state = request.scope["state"]
        db: AsyncSession = state["db"]
        person_id = str(request.path_params.get("person_id", ""))
        person = await db.get(Person, person_id) if person_id else None
        if person is None:
            raise PermissionDeniedException()
        time: RequestTime = state["time"]
        view = await consent.overview(db, person, time.today_for(person))
        unit_id = viewer.staff.unit_id
        if unit_id not in view.proposed:  # no care relation: the unit does not work with them
            raise PermissionDeniedException()
        subject = Subject(person, viewer, db, time, consent=view)
        if needs_consent and not subject.unit_has_consent:
            raise PermissionDeniedException()
        if audit:
            await subject.log_read(audit, "person", person.id)
        _show_in_zone_of(person, viewer)
        return subject

    return Provide(provide)


async def _staff_viewer(request: Request) -> Viewer:
    viewer = _viewer(request)
    if not viewer.is_staff:
        raise WrongKindOfUser()
    return viewer


async def _staff_reading(request: Request, viewer: Viewer, person_id: str, audit: str | None,
                         object_type: str, object_id: str) -> Subject:
    """The Subject for staff reaching a person through one object (a thread, a request, a
    meeting) they may see: the read is in the access log under `audit` (when given), and
    times on the page are in the person's zone."""
    state = request.scope["state"]
    person = await state["db"].get(Person, person_id)
    if person is None:
        raise PermissionDeniedException()
    subject = Subject(person, viewer, state["db"], state["time"])
    if audit:
        await subject.log_read(audit, object_type, object_id)
    _show_in_zone_of(person, viewer)
    return subject


# --- message threads (portal.messages): staff of the unit a thread is addressed to -------


@dataclass
class StaffThread:
    """A thread opened by staff of the unit it is addressed to, and its person."""

    subject: Subject
    thread: object  # portal.messages.models.Thread


def staff_thread(*, audit: str | None = None) -> Provide:
    """A dependency giving the thread in the `thread_id` path parameter to staff of the unit
    it is addressed to, with or without the person's consent (the person wrote to the
    unit). Anything else is a 403 that looks the same whether the thread exists or not.
    `audit` names the access-log action recorded for the read."""
    from portal.core.inputs import is_opaque_id
    from portal.messages.models import Thread

    async def provide(request: Request) -> StaffThread:
        viewer = await _staff_viewer(request)
        db: AsyncSession = request.scope["state"]["db"]
        thread_id = request.path_params.get("thread_id", "")
        thread = await db.get(Thread, thread_id) if is_opaque_id(thread_id) else None
        if thread is None or thread.unit_id != viewer.staff.unit_id:
            raise PermissionDeniedException()
        subject = await _staff_reading(request, viewer, thread.person_id, audit,
                                       "message_thread", thread.id)
        return StaffThread(subject, thread)

    return Provide(provide)


# --- staff and requests for coordination (the contact persons' inbox) ---------------------


@dataclass
class StaffRequest:
    """A request for coordination as staff of a unit it is addressed to may handle it:
    `subject` is the person it is about (without their consent overview: addressed is
    visible, and no more about the person than the request itself)."""

    subject: Subject
    request: object  # portal.coordination.models.CoordinationRequest


def staff_request(*, audit: str | None = None) -> Provide:
    """A dependency giving the sent request in the `request_id` path parameter, with its
    person, to staff of a unit it is addressed to (`RequestUnit`); anything else, a
    made-up id included, is the same 404. `audit` names the access-log action."""
    from litestar.exceptions import NotFoundException

    from portal.coordination import services as coordination
    from portal.coordination.models import CoordinationRequest

    async def provide(request: Request) -> StaffRequest:
        viewer = await _staff_viewer(request)
        db: AsyncSession = request.scope["state"]["db"]
        request_id = str(request.path_params.get("request_id", ""))
        found = await db.get(CoordinationRequest, request_id) if request_id else None
        if (found is None or found.status == coordination.DRAFT
                or not await coordination.addressed_to(db, found.id, viewer.staff.unit_id)):
            raise NotFoundException()
        subject = await _staff_reading(request, viewer, found.person_id, audit,
                                       "coordination_request", found.id)
        return StaffRequest(subject, found)

    return Provide(provide)


def staff_meeting() -> Provide:
    """A dependency giving (meeting, person) for the `meeting_id` path parameter to staff of
    a unit its request is addressed to; anything else is the same 404. The read is logged."""
    from litestar.exceptions import NotFoundException

    from portal.coordination import services as coordination
    from portal.coordination.models import Meeting

    async def provide(request: Request) -> tuple:
        viewer = await _staff_viewer(request)
        db: AsyncSession = request.scope["state"]["db"]
        meeting_id = str(request.path_params.get("meeting_id", ""))
        meeting = await db.get(Meeting, meeting_id) if meeting_id else None
        if (meeting is None or meeting.request_id is None
                or not await coordination.addressed_to(db, meeting.request_id, viewer.staff.unit_id)):
            raise NotFoundException()
        subject = await _staff_reading(request, viewer, meeting.person_id,
                                       "meeting.calendar_by_staff", "coordination_meeting", meeting.id)
        return meeting, subject

    return Provide(provide)
