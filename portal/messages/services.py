"""Threads and messages between a person's side and a unit's contact persons.

Text only: stored as typed, shown escaped (never rendered as HTML). A message is
stored once per form (the idempotency key, scoped to who sends it and for whom,
`portal.consent.services.scoped_key`), so double submits, the back button and
two tabs never make two. A staff answer tells the person, and representatives
who follow them with the `messages` scope, that there is a new message (a
notice without content). The services add and flush; the request commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.consent.services import scoped_key
from portal.coordination.services import due_on
from portal.core.clock import local_date
from portal.messages.models import Message, Thread
from portal.notices.outbox import notify
from portal.people.models import Person, Unit

OPEN, CLOSED = "open", "closed"
SUBJECT_MAX = 120
BODY_MAX = 10_000


async def _existing(db: AsyncSession, key: str) -> Message | None:
    return (await db.exec(select(Message).where(Message.idempotency_key == key))).first()


async def start_thread(db: AsyncSession, *, person: Person, unit: Unit, subject: str, body: str,
                       actor: Actor, key: str, now: datetime, staff_id: str | None = None,
                       request_id: str | None = None) -> Thread:
    """A new thread about `person` to `unit` (and named staff member `staff_id`), with its
    first message. The same form sent again returns the thread it made."""
    stored_key = scoped_key(actor, person.id, key)
    found = await _existing(db, stored_key)
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
    """Add a message to the thread; (message, duplicate). A closed thread is reopened by
    a message from the person's side."""
    stored_key = scoped_key(actor, person.id, key)
    found = await _existing(db, stored_key)
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
    """Mark the person's side's unread messages read ("Läst"); how many were marked."""
    unread = (await db.exec(select(Message).where(
        Message.thread_id == thread.id, Message.author_type != "staff",
        col(Message.read_by_staff_at).is_(None)))).all()
    for message in unread:
        message.read_by_staff_at, message.read_by_staff_id = now, staff_id
        db.add(message)
    await db.flush()
    return len(unread)


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
