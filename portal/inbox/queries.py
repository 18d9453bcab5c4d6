"""What the contact persons' inbox shows: a unit's requests, threads and slipped follow-ups.

Addressed is visible: a request shows in the inbox of each unit it is addressed to
(`RequestUnit`), a thread in the inbox of its unit, whether or not the person has
consented for that unit; the row says no more about the person than the name.

Filters (the `visa` query parameter):
- new: nobody is assigned yet (a request just received, a question nobody has taken);
- mine: assigned to the signed-in staff member;
- waiting: waiting for the person — a thread answered by staff, or a request whose
  coordination meeting is booked (the next step is the meeting with the person);
- due_soon: due today or on the next working day (the unit's zone and country);
- overdue: due before today in the unit's zone; slipped follow-ups are overdue too.

Due dates are the unit's promise in working days (portal.core.workdays): a request
is due until a meeting is booked, a thread while it waits for staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.coordination import services as coordination
from portal.coordination.models import CoordinationRequest, RequestUnit
from portal.core.clock import local_date
from portal.core.i18n import N_
from portal.core.workdays import working_days_between
from portal.messages.models import Thread
from portal.people.models import Person, StaffMember, Unit
from portal.plans.follow_ups import SlippedFollowUp, slipped, tell_coordinators

FILTERS = {
    "all": N_("Alla"),
    "new": N_("Nya"),
    "mine": N_("Mina"),
    "waiting": N_("Väntar på personen"),
    "due_soon": N_("Snart sista dag"),
    "overdue": N_("Försenade"),
}
OPEN_REQUEST = (coordination.RECEIVED, coordination.ASSIGNED, coordination.MEETING_BOOKED)
DUE_WHILE = (coordination.RECEIVED, coordination.ASSIGNED)
STATUS_TEXT = {
    coordination.RECEIVED: N_("Ny"),
    coordination.ASSIGNED: N_("Har en handläggare"),
    coordination.MEETING_BOOKED: N_("Möte bokat"),
    "open_staff": N_("Väntar på svar från er"),
    "open_person": N_("Väntar på personen"),
    "follow_up": N_("Uppföljningen är försenad"),
}


@dataclass
class Row:
    kind: str  # request, thread, follow_up
    id: str
    person: Person
    what: str  # request reference, thread subject, or "" for a follow-up
    status: str  # a key of STATUS_TEXT
    href: str
    due_on: date | None = None
    assigned: StaffMember | None = None
    filters: set[str] = field(default_factory=set)
    at: datetime | None = None

    @property
    def object_type(self) -> str:
        return {"request": "coordination_request", "thread": "message_thread"}.get(self.kind, "plan")


@dataclass
class Inbox:
    rows: list[Row]  # the rows the filter shows
    counts: dict[str, int]  # filter -> rows
    chosen: str


def _flags(row: Row, staff_id: str, today: date, country: str) -> None:
    if row.assigned is None and row.kind != "follow_up":
        row.filters.add("new")
    if row.assigned is not None and row.assigned.id == staff_id:
        row.filters.add("mine")
    if row.status in ("open_person", coordination.MEETING_BOOKED):
        row.filters.add("waiting")
    if row.kind == "follow_up" or (row.due_on is not None and row.due_on < today):
        row.filters.add("overdue")
    elif row.due_on is not None and working_days_between(today, row.due_on, country) <= 1:
        row.filters.add("due_soon")


async def inbox(db: AsyncSession, staff: StaffMember, unit: Unit, now: datetime,
                chosen: str = "all") -> Inbox:
    """The unit's inbox for `staff` at `now` (aware), filtered by `chosen` (a key of
    FILTERS). Three statements whatever the number of rows: requests and threads, each
    with its person and assignee, and the slipped follow-ups of the unit's coordinators
    (and a notice per follow-up newly slipped, see portal.plans.follow_ups)."""
    today = local_date(now, unit)
    requests = (await db.exec(
        select(CoordinationRequest, Person, StaffMember)
        .join(RequestUnit, RequestUnit.request_id == CoordinationRequest.id)
        .join(Person, Person.id == CoordinationRequest.person_id)
        .outerjoin(StaffMember, StaffMember.id == CoordinationRequest.assigned_to)
        .where(RequestUnit.unit_id == unit.id, col(CoordinationRequest.status).in_(OPEN_REQUEST)))).all()
    threads = (await db.exec(
        select(Thread, Person, StaffMember).join(Person, Person.id == Thread.person_id)
        .outerjoin(StaffMember, StaffMember.id == Thread.assigned_to)
        .where(Thread.unit_id == unit.id, Thread.status == "open"))).all()
    follow_ups = await slipped(db, now, unit_id=unit.id)
    await tell_coordinators(db, follow_ups)
    rows = [Row("request", r.id, p, r.reference or "", r.status, f"/personal/arenden/{r.id}",
                r.due_on if r.status in DUE_WHILE else None, assigned, at=r.sent_at)
            for r, p, assigned in requests]
    rows += [Row("thread", t.id, p, t.subject, f"open_{t.waiting_for}", f"/personal/meddelanden/{t.id}",
                 t.due_on if t.waiting_for == "staff" else None, assigned, at=t.last_message_at)
             for t, p, assigned in threads]
    rows += [_follow_up_row(item) for item in follow_ups]
    for row in rows:
        _flags(row, staff.id, today, unit.country)
    rows.sort(key=lambda r: ("overdue" not in r.filters, r.due_on or date.max,
                             -(r.at.timestamp() if r.at else 0)))
    counts = {key: sum(1 for r in rows if key == "all" or key in r.filters) for key in FILTERS}
    shown = [r for r in rows if chosen == "all" or chosen in r.filters]
    return Inbox(shown, counts, chosen)


def _follow_up_row(item: SlippedFollowUp) -> Row:
    return Row("follow_up", item.plan.id, item.person, "", "follow_up",
               f"/personal/personer/{item.person.id}/plan", item.due, item.coordinator)


async def counts_for_start(db: AsyncSession, staff: StaffMember, unit: Unit, now: datetime) -> dict[str, int]:
    """The counts of the inbox's filters, for the staff start page."""
    return (await inbox(db, staff, unit, now)).counts
