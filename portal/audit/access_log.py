"""The access log as the person reads it: who (staff or a representative) read or changed
their information, when and what. A minimal version for the data export (issue 11); the
access-log page replaces it with the full one (filters, words for every action).

Reads and changes by the person themself are not listed; entries come from the audit
log (portal.audit.service), which is append-only and hash-chained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.models import AuditEvent
from portal.people.models import Person, StaffMember, Unit


@dataclass
class Entry:
    at: datetime
    action: str
    who: str  # a name
    role: str | None  # staff, guardian, legal_representative, proxy
    unit: str | None  # the staff member's unit


async def entries(db: AsyncSession, person: Person, *, limit: int | None = None) -> list[Entry]:
    """The person's access log, newest first (three statements whatever its length)."""
    query = (select(AuditEvent).where(AuditEvent.subject_person_id == person.id,
                                      AuditEvent.on_behalf_of == person.id,
                                      AuditEvent.actor_id != person.id)
             .order_by(col(AuditEvent.id).desc()))
    if limit is not None:
        query = query.limit(limit)
    events = (await db.exec(query)).all()
    staff_ids = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id}
    person_ids = {e.actor_id for e in events if e.actor_type == "person" and e.actor_id}
    staff = {s.id: (s, u) for s, u in (await db.exec(
        select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
        .where(col(StaffMember.id).in_(staff_ids)))).all()} if staff_ids else {}
    people = {p.id: p for p in (await db.exec(
        select(Person).where(col(Person.id).in_(person_ids)))).all()} if person_ids else {}
    found = []
    for event in events:
        if event.actor_type == "staff" and event.actor_id in staff:
            member, unit = staff[event.actor_id]
            found.append(Entry(event.at, event.action, member.name, event.role, unit.name))
        elif event.actor_id in people:
            found.append(Entry(event.at, event.action, people[event.actor_id].name, event.role,
                               None))
    return found
