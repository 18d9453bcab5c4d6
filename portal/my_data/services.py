"""Everything the portal stores about a person, loaded in a fixed number of statements.

Used by the readable document and the FHIR file (portal.fhir.mapping). Both are made on
request and never stored; making either is in the audit log (`record_export`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit import access_log
from portal.audit.service import record
from portal.consent import services as consent_services
from portal.consent.models import ConsentWording
from portal.coordination.models import CoordinationRequest, Meeting, RequestEvent, RequestUnit
from portal.fhir.mapping import ConsentRecord, PersonData, PlanRecord, RequestRecord, ThreadRecord
from portal.messages.models import Message, Thread
from portal.notices.models import OutboxMessage
from portal.people.models import Person, ProxyInvitation, Representation, StaffMember, Unit
from portal.people.names import shown_name
from portal.plans import content as plan_content
from portal.plans.models import Plan, PlanVersion

DOCUMENT, FHIR = "document", "fhir"


@dataclass
class Everything:
    """PersonData for the FHIR file, and what only the readable document shows."""

    data: PersonData
    represents: list = field(default_factory=list)  # (Representation, Person): they act for
    invitations: list = field(default_factory=list)  # ProxyInvitation the person sent
    meetings: list = field(default_factory=list)  # coordination Meeting
    notices: list = field(default_factory=list)  # OutboxMessage to the person (no content)
    access_log: list = field(default_factory=list)  # access_log.Entry


async def collect(db: AsyncSession, person: Person, viewer) -> Everything:
    """All of it, for `viewer` (the person, or a representative with every scope): names of
    other citizens as `viewer` may see them; no places for a representative of a person
    with protected personal data. About twenty statements, whatever the amount of data."""
    plans = list((await db.exec(select(Plan).where(Plan.person_id == person.id)
                                .order_by(col(Plan.created_at)))).all())
    versions = list((await db.exec(select(PlanVersion).where(
        col(PlanVersion.plan_id).in_([p.id for p in plans])).order_by(col(PlanVersion.number))
    )).all()) if plans else []
    history = await consent_services.history(db, person)  # five statements
    wording_ids = {e.act.wording_id for e in history if e.act.wording_id}
    wordings = {w.id: w for w in (await db.exec(select(ConsentWording).where(
        col(ConsentWording.id).in_(wording_ids)))).all()} if wording_ids else {}
    requests = list((await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.person_id == person.id, CoordinationRequest.status != "draft")
        .order_by(col(CoordinationRequest.sent_at)))).all())
    request_ids = [r.id for r in requests]
    events, addressed = [], []
    if request_ids:
        events = list((await db.exec(select(RequestEvent).where(
            col(RequestEvent.request_id).in_(request_ids))
            .order_by(col(RequestEvent.at), col(RequestEvent.id)))).all())
        addressed = list((await db.exec(select(RequestUnit).where(
            col(RequestUnit.request_id).in_(request_ids)))).all())
    threads = list((await db.exec(select(Thread).where(Thread.person_id == person.id)
                                  .order_by(col(Thread.created_at)))).all())
    messages = list((await db.exec(select(Message).where(
        col(Message.thread_id).in_([t.id for t in threads])).order_by(col(Message.created_at))
    )).all()) if threads else []
    acting_for_them = list((await db.exec(
        select(Representation, Person).join(Person, Person.id == Representation.representative_id)
        .where(Representation.represented_id == person.id)
        .order_by(col(Representation.valid_from)))).all())
    they_act_for = list((await db.exec(
        select(Representation, Person).join(Person, Person.id == Representation.represented_id)
        .where(Representation.representative_id == person.id)
        .order_by(col(Representation.valid_from)))).all())
    invitations = list((await db.exec(select(ProxyInvitation).where(
        ProxyInvitation.person_id == person.id).order_by(col(ProxyInvitation.created_at)))).all())
    meetings = list((await db.exec(select(Meeting).where(Meeting.person_id == person.id)
                                   .order_by(col(Meeting.starts_at)))).all())
    notices = list((await db.exec(select(OutboxMessage).where(
        OutboxMessage.person_id == person.id).order_by(col(OutboxMessage.created_at)))).all())
    units = {u.id: u for u in (await db.exec(select(Unit))).all()}
    staff_ids = {v.published_by for v in versions} | {r.assigned_to for r in requests
                                                      if r.assigned_to}
    staff_ids |= {r.author_id for r in requests if r.author_type == "staff"}
    staff_ids |= {m.author_id for m in messages if m.author_type == "staff"}
    staff_ids |= {e.act.actor_id for e in history if e.act.actor_type == "staff"}
    for version in versions:
        coordinator = plan_content.load(version.content).get("coordinator_id")
        if coordinator:
            staff_ids.add(coordinator)
    for meeting in meetings:
        staff_ids.add(meeting.created_by)
    for event in events:
        if event.actor_type == "staff" and event.actor_id:
            staff_ids.add(event.actor_id)
    staff = {s.id: s for s in (await db.exec(select(StaffMember).where(
        col(StaffMember.id).in_(staff_ids)))).all()} if staff_ids else {}
    people_ids = {r.author_id for r in requests if r.author_type == "person"}
    people_ids |= {m.author_id for m in messages if m.author_type == "person"}
    people_ids |= {e.act.actor_id for e in history if e.act.actor_type != "staff"}
    people_ids |= {e.act.given_by_id for e in history if e.act.given_by_id}
    people_ids -= {person.id}
    people = {p.id: p for p in (await db.exec(select(Person).where(
        col(Person.id).in_(people_ids)))).all()} if people_ids else {}
    people[person.id] = person
    log = (await access_log.entries(db, person, limit=None)).entries

    by_plan: dict[str, list] = {}
    for version in versions:
        by_plan.setdefault(version.plan_id, []).append(version)
    events_of: dict[str, list] = {}
    for event in events:
        events_of.setdefault(event.request_id, []).append(event)
    units_of: dict[str, list] = {}
    for row in addressed:
        if row.unit_id in units:
            units_of.setdefault(row.request_id, []).append(units[row.unit_id])
    messages_of: dict[str, list] = {}
    for message in messages:
        messages_of.setdefault(message.thread_id, []).append(message)

    def name_of(other: Person) -> str:
        return shown_name(other, viewer)

    data = PersonData(
        person=person,
        plans=[PlanRecord(p, by_plan.get(p.id, [])) for p in plans if by_plan.get(p.id)],
        consent=[ConsentRecord(e.act, e.units, wordings.get(e.act.wording_id or ""),
                               name_of(people[e.act.given_by_id])
                               if e.act.given_by_id in people else e.given_by_name)
                 for e in history],
        requests=[RequestRecord(r, sorted(units_of.get(r.id, []), key=lambda u: u.name),
                                events_of.get(r.id, [])) for r in requests],
        threads=[ThreadRecord(t, messages_of.get(t.id, [])) for t in threads],
        representations=acting_for_them, staff=staff, units=units, people=people,
        show_places=not (person.protected_identity and viewer.acting_for_other),
        name_of=name_of,
    )
    return Everything(data, they_act_for, invitations, meetings, notices, log)


async def record_export(db: AsyncSession, subject, kind: str) -> None:
    """The audit event for making the document or the file: who, on whose behalf (in the
    request's transaction)."""
    await record(db, f"my_data.{kind}", subject.actor(), subject_person_id=subject.person.id,
                 on_behalf_of=subject.on_behalf_of, object_type="person",
                 object_id=subject.person.id)
