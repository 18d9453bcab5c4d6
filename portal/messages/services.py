"""Threads and messages between a person's side and a unit's contact persons.

Text only: stored as typed, shown escaped (never rendered as HTML). A message is
stored once per form (the idempotency key, scoped to who sends it and for whom,
`portal.consent.services.scoped_key`), so double submits, the back button and
two tabs never make two. A staff answer tells the person, and representatives
who follow them with the `messages` scope, that there is a new message (a
notice without content). The services add and flush; the request commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, literal, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.consent.models import CareRelation
from portal.consent.services import scoped_key
from portal.coordination import notes
from portal.coordination.models import InternalNote
from portal.coordination.services import due_on
from portal.core.clock import local_date
from portal.messages.models import Message, Thread
from portal.notices.outbox import notify
from portal.people.models import Person, StaffMember, Unit

OPEN, CLOSED = "open", "closed"
SUBJECT_MAX = 120
BODY_MAX = 10_000


async def _existing(db: AsyncSession, key: str) -> Message | None:
    return (await db.exec(select(Message).where(Message.idempotency_key == key))).first()


async def start_thread(db: AsyncSession, *, person: Person, unit: Unit, subject: str, body: str,
                       actor: Actor, key: str, now: datetime, staff_id: str | None = None,
                       request_id: str | None = None) -> Thread:
    """A new thread about `person` to `unit` (and named staff member `staff_id`), with its
    first message. The same form sent again (the key), or the same subject and text sent
    from a second tab (SAME_TEXT_WINDOW), returns the thread it made."""
    stored_key = scoped_key(actor, person.id, key)
    found = await _existing(db, stored_key)
    if found is None:
        found = await same_text_sent(db, actor, person.id, body, now, unit_id=unit.id,
                                     subject=subject)
    if found is not None:
        return await db.get(Thread, found.thread_id)
    thread = Thread(person_id=person.id, unit_id=unit.id, staff_id=staff_id, request_id=request_id,
                    subject=subject, created_at=now, last_message_at=now)
    try:
        async with db.begin_nested():
            db.add(thread)
            await db.flush()
            await _add_message(db, thread, person, unit, body, actor, stored_key, now)
    except IntegrityError:
        found = await _existing(db, stored_key)
        if found is None:
            raise
        return await db.get(Thread, found.thread_id)
    await record(db, "thread.started", actor, subject_person_id=person.id,
                 on_behalf_of=person.id if actor.id != person.id else None,
                 object_type="message_thread", object_id=thread.id, detail={"unit_id": unit.id})
    return thread


async def post(db: AsyncSession, thread: Thread, *, person: Person, unit: Unit, body: str,
               actor: Actor, key: str, now: datetime) -> tuple[Message, bool]:
    """Add a message to the thread; (message, duplicate). The same form sent again (the
    key) or the same text from a second tab (SAME_TEXT_WINDOW) is a duplicate. A closed
    thread is reopened by a message from the person's side."""
    stored_key = scoped_key(actor, person.id, key)
    found = await _existing(db, stored_key) or await same_text_sent(
        db, actor, person.id, body, now, thread_id=thread.id)
    if found is not None:
        return found, True
    try:
        async with db.begin_nested():
            message = await _add_message(db, thread, person, unit, body, actor, stored_key, now)
    except IntegrityError:
        found = await _existing(db, stored_key)
        if found is None:
            raise
        return found, True
    await record(db, "message.sent", actor, subject_person_id=person.id,
                 on_behalf_of=person.id if actor.id != person.id else None,
                 object_type="message_thread", object_id=thread.id)
    return message, False


async def _add_message(db: AsyncSession, thread: Thread, person: Person, unit: Unit, body: str,
                       actor: Actor, stored_key: str, now: datetime) -> Message:
    by_staff = actor.type == "staff"
    message = Message(thread_id=thread.id, author_type=actor.type, author_id=actor.id,
                      author_role=actor.role or ("staff" if by_staff else "self"),
                      on_behalf_of=person.id if not by_staff and actor.id != person.id else None,
                      body=body, idempotency_key=stored_key, created_at=now)
    db.add(message)
    thread.last_message_at = now
    if by_staff:
        thread.waiting_for, thread.due_on = "person", None
        if thread.assigned_to is None:
            thread.assigned_to = actor.id
    else:
        thread.waiting_for, thread.status = "staff", OPEN
        thread.due_on = due_on(unit, now)
    db.add(thread)
    await db.flush()
    if by_staff:
        await notify(db, person, "message_answered", followers="messages",
                     today=local_date(now, person))
    return message


async def mark_read_by_staff(db: AsyncSession, thread: Thread, staff_id: str, now: datetime) -> int:
    """Mark the person's side's unread messages read ("Läst"); how many were marked. One
    statement, whatever the number of messages."""
    result = await db.exec(update(Message).where(
        Message.thread_id == thread.id, Message.author_type != "staff",
        col(Message.read_by_staff_at).is_(None)).values(read_by_staff_at=now, read_by_staff_id=staff_id)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def threads_of(db: AsyncSession, person_id: str) -> list[Thread]:
    """The person's threads, the latest activity first."""
    return list((await db.exec(select(Thread).where(Thread.person_id == person_id)
                               .order_by(col(Thread.last_message_at).desc()))).all())


async def thread_of_person(db: AsyncSession, thread_id: str, person_id: str) -> Thread | None:
    """The thread if it is about `person_id`, else None (never another person's)."""
    return (await db.exec(select(Thread).where(Thread.id == thread_id,
                                               Thread.person_id == person_id))).first()


async def messages_of(db: AsyncSession, thread_id: str) -> list[Message]:
    """The thread's messages, oldest first."""
    return list((await db.exec(select(Message).where(Message.thread_id == thread_id)
                               .order_by(col(Message.created_at), col(Message.id)))).all())


# --- who a question can go to, and what the pages show -----------------------------------

# Two tabs with the same form send the same text twice: within this time, the same
# author, thread (or new thread with the same subject) and text is the same message.
SAME_TEXT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Recipient:
    """Who a new question can go to: a unit, and when asked from the plan a named contact
    person there (the coordinator, or a contact who is staff). `value` is the form value:
    "<unit id>" or "<unit id>.<staff id>" (opaque ids never hold a dot)."""

    unit: Unit
    staff: StaffMember | None = None
    coordinator: bool = False

    @property
    def value(self) -> str:
        return f"{self.unit.id}.{self.staff.id}" if self.staff else self.unit.id


async def units_near(db: AsyncSession, person_id: str) -> list[Unit]:
    """The units that work with the person (their care relations), by name."""
    return list((await db.exec(select(Unit).join(CareRelation, CareRelation.unit_id == Unit.id)
                               .where(CareRelation.person_id == person_id)
                               .order_by(col(Unit.name)))).all())


async def coordinator_of(db: AsyncSession, person_id: str) -> StaffMember | None:
    """The coordinator named in the person's active plan (its published version), if any."""
    from portal.plans import content as plan_content
    from portal.plans import services as plans

    plan = await plans.active_plan(db, person_id)
    if plan is None or not plan.current_version:
        return None
    found = await plans.version(db, plan.id, plan.current_version)
    coordinator_id = plan_content.load(found.content).get("coordinator_id") if found else None
    return await db.get(StaffMember, coordinator_id) if coordinator_id else None


async def recipients(db: AsyncSession, person: Person, *, unit_id: str = "", staff_id: str = "",
                     extra_units: list[Unit] | None = None) -> tuple[list[Recipient], str]:
    """Who the person's side may write to, and the value to preselect ("" for none).

    The coordinator of the active plan first, then each unit near the person (and
    `extra_units`, e.g. those a request was sent to). `unit_id`/`staff_id` (from
    `?till=`/`?kontakt=`, untrusted) preselect: a unit among these, and a staff member
    of that unit; anything else preselects nothing. Four statements at most."""
    units = await units_near(db, person.id)
    for unit in extra_units or []:
        if all(u.id != unit.id for u in units):
            units.append(unit)
    by_id = {u.id: u for u in units}
    found: list[Recipient] = []
    coordinator = await coordinator_of(db, person.id)
    if coordinator is not None:
        unit = by_id.get(coordinator.unit_id) or await db.get(Unit, coordinator.unit_id)
        if unit is not None:
            by_id.setdefault(unit.id, unit)
            found.append(Recipient(unit, coordinator, coordinator=True))
    chosen = ""
    if staff_id and unit_id in by_id:
        if coordinator is not None and coordinator.id == staff_id and coordinator.unit_id == unit_id:
            chosen = found[0].value
        else:
            contact = await db.get(StaffMember, staff_id)
            if contact is not None and contact.unit_id == unit_id:
                found.append(Recipient(by_id[unit_id], contact))
                chosen = found[-1].value
    found += [Recipient(unit) for unit in units]
    if not chosen and unit_id in by_id:
        chosen = unit_id
    return found, chosen


async def staff_contacts(db: AsyncSession, person_id: str, names: list[str],
                         also: Collection[str] = ()) -> tuple[dict[str, StaffMember],
                                                              dict[str, StaffMember]]:
    """The plan's contacts who are staff: contact name (casefolded) -> the staff member of a
    unit near the person with that name; and the staff members with the ids in `also`
    (e.g. a plan's coordinator and publisher), by id. One statement for both (a union),
    none when there is nothing to find."""
    wanted = {n.strip().casefold() for n in names if n and n.strip()}
    parts = []
    if wanted:
        parts.append(select(StaffMember, literal(True).label("near"))
                     .join(CareRelation, CareRelation.unit_id == StaffMember.unit_id)
                     .where(CareRelation.person_id == person_id))
    if also:
        parts.append(select(StaffMember, literal(False).label("near"))
                     .where(col(StaffMember.id).in_(list(also))))
    if not parts:
        return {}, {}
    both = union_all(*parts).subquery()
    staff = aliased(StaffMember, both)
    contacts, by_id = {}, {}
    for member, near in (await db.exec(select(staff, both.c.near))).all():
        if near and member.name.casefold() in wanted:
            contacts[member.name.casefold()] = member
        elif not near:
            by_id[member.id] = member
    return contacts, by_id


@dataclass(frozen=True)
class ThreadRow:
    """A line of "Meddelanden": the thread, its unit, and whether staff answered since the
    person's side last looked."""

    thread: Thread
    unit: Unit
    new_answer: bool


async def thread_rows(db: AsyncSession, person_id: str) -> list[ThreadRow]:
    """The person's threads with their units, the latest activity first; one statement."""
    unseen = exists().where(Message.thread_id == Thread.id, Message.author_type == "staff",
                            col(Message.read_by_staff_at).is_(None))
    rows = (await db.exec(select(Thread, Unit, unseen.label("new_answer"))
                          .join(Unit, Unit.id == Thread.unit_id)
                          .where(Thread.person_id == person_id)
                          .order_by(col(Thread.last_message_at).desc(), col(Thread.id)))).all()
    return [ThreadRow(thread, unit, bool(new)) for thread, unit, new in rows]


async def threads_with_new_answers(db: AsyncSession, person_id: str) -> int:
    """How many of the person's threads have a staff answer their side has not opened
    (for the start page); one statement."""
    return (await db.exec(select(func.count(func.distinct(Message.thread_id)))
                          .join(Thread, Thread.id == Message.thread_id)
                          .where(Thread.person_id == person_id, Message.author_type == "staff",
                                 col(Message.read_by_staff_at).is_(None)))).one()


async def mark_seen_by_person(db: AsyncSession, thread: Thread, reader_id: str, now: datetime) -> int:
    """The person's side has seen the staff answers: no more "Nytt svar". For a staff
    answer, `read_by_staff_at`/`read_by_staff_id` hold when and by whom (a person id) the
    person's side first opened it. One statement; how many were marked."""
    result = await db.exec(update(Message).where(
        Message.thread_id == thread.id, Message.author_type == "staff",
        col(Message.read_by_staff_at).is_(None)).values(read_by_staff_at=now, read_by_staff_id=reader_id)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass(frozen=True)
class Authors:
    """Names for the messages of a thread: person id -> Person, staff id -> (StaffMember, Unit)."""

    people: dict[str, Person]
    staff: dict[str, tuple[StaffMember, Unit]]


async def authors_of(db: AsyncSession, messages: list[Message]) -> Authors:
    """Who wrote the messages (two statements at most, whatever their number)."""
    person_ids = {m.author_id for m in messages if m.author_type != "staff"}
    person_ids |= {m.on_behalf_of for m in messages if m.on_behalf_of}
    staff_ids = {m.author_id for m in messages if m.author_type == "staff"}
    people = {p.id: p for p in (await db.exec(select(Person).where(
        col(Person.id).in_(person_ids)))).all()} if person_ids else {}
    staff = {s.id: (s, u) for s, u in (await db.exec(select(StaffMember, Unit).join(
        Unit, Unit.id == StaffMember.unit_id).where(col(StaffMember.id).in_(staff_ids)))).all()} \
        if staff_ids else {}
    return Authors(people, staff)


async def same_text_sent(db: AsyncSession, actor: Actor, person_id: str, body: str, now: datetime, *,
                         thread_id: str | None = None, unit_id: str | None = None,
                         subject: str | None = None) -> Message | None:
    """A message with this text that the same author sent for the person within
    SAME_TEXT_WINDOW: in the thread, or (for a new thread) as the first message of a
    thread to `unit_id` with `subject`. Two tabs sending the same form make one message."""
    query = (select(Message).join(Thread, Thread.id == Message.thread_id)
             .where(Thread.person_id == person_id, Message.author_id == actor.id,
                    Message.author_type == actor.type, Message.body == body,
                    Message.created_at >= now - SAME_TEXT_WINDOW))
    if thread_id is not None:
        query = query.where(Message.thread_id == thread_id)
    else:
        query = query.where(Thread.unit_id == unit_id, Thread.subject == subject,
                            Thread.created_at == Message.created_at)
    return (await db.exec(query.limit(1))).first()


# --- the staff side: assign, close, reopen, internal notes -------------------------------


async def colleagues(db: AsyncSession, unit_id: str) -> list[StaffMember]:
    """The staff of a unit, by first name (whom a thread can be assigned to)."""
    return list((await db.exec(select(StaffMember).where(StaffMember.unit_id == unit_id)
                               .order_by(col(StaffMember.given_name), col(StaffMember.family_name)))).all())


async def assign(db: AsyncSession, thread: Thread, staff: StaffMember, actor: Actor) -> None:
    """Give the thread to `staff` (the caller checks they work at the thread's unit); audited."""
    thread.assigned_to = staff.id
    db.add(thread)
    await record(db, "thread.assigned", actor, subject_person_id=thread.person_id,
                 on_behalf_of=thread.person_id, object_type="message_thread", object_id=thread.id,
                 detail={"staff_id": staff.id})
    await db.flush()


async def set_status(db: AsyncSession, thread: Thread, status: str, actor: Actor) -> bool:
    """Close (CLOSED) or reopen (OPEN) the thread; audited. False when it already was."""
    if status not in (OPEN, CLOSED):
        raise ValueError(status)
    if thread.status == status:
        return False
    thread.status = status
    db.add(thread)
    await record(db, "thread.closed" if status == CLOSED else "thread.reopened", actor,
                 subject_person_id=thread.person_id, on_behalf_of=thread.person_id,
                 object_type="message_thread", object_id=thread.id)
    await db.flush()
    return True


async def add_note(db: AsyncSession, thread: Thread, text: str, actor: Actor, key: str,
                   now: datetime) -> tuple[InternalNote, bool]:
    """An internal note on the thread (the person never sees it); (note, duplicate). The
    same form sent again returns the note it made."""
    note, duplicate = await notes.add(db, person_id=thread.person_id, unit_id=thread.unit_id,
                                      text=text, actor=actor, key=key, now=now, thread_id=thread.id)
    if not duplicate:
        await record(db, "thread.note_added", actor, subject_person_id=thread.person_id,
                     on_behalf_of=thread.person_id, object_type="message_thread", object_id=thread.id)
    return note, duplicate


async def notes_of(db: AsyncSession, thread_id: str) -> list[tuple[InternalNote, StaffMember]]:
    """The thread's internal notes with their authors, oldest first (staff only)."""
    return await notes.of(db, thread_id=thread_id)

