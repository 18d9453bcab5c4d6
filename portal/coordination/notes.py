"""Internal notes between staff on a request or a thread: the person never sees them.

One note per form: the form's key, scoped to the author and the person
(`portal.consent.services.scoped_key`), is unique, so a double submit or a second
tab stores the note once. Added to the caller's transaction; the caller audits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.consent.services import scoped_key
from portal.coordination.models import InternalNote
from portal.people.models import StaffMember


async def add(db: AsyncSession, *, person_id: str, unit_id: str, text: str, actor: Actor, key: str,
              now: datetime, request_id: str | None = None,
              thread_id: str | None = None) -> tuple[InternalNote, bool]:
    """Store the note on the request or the thread (one of them); (note, duplicate)."""
    stored = scoped_key(actor, person_id, key)
    query = select(InternalNote).where(InternalNote.idempotency_key == stored)
    found = (await db.exec(query)).first()
    if found is not None:
        return found, True
    note = InternalNote(person_id=person_id, request_id=request_id, thread_id=thread_id,
                        author_id=actor.id, unit_id=unit_id, text=text, idempotency_key=stored,
                        created_at=now)
    try:
        async with db.begin_nested():
            db.add(note)
    except IntegrityError:
        found = (await db.exec(query)).first()
        if found is None:
            raise
        return found, True
    return note, False


async def of(db: AsyncSession, *, request_id: str | None = None, thread_id: str | None = None,
             unit_id: str | None = None) -> list[tuple[InternalNote, StaffMember]]:
    """The request's or the thread's notes with their authors, oldest first; with
    `unit_id`, only the notes written in that unit."""
    where = [InternalNote.request_id == request_id if request_id is not None
             else InternalNote.thread_id == thread_id]
    if unit_id is not None:
        where.append(InternalNote.unit_id == unit_id)
    return list((await db.exec(select(InternalNote, StaffMember)
                               .join(StaffMember, StaffMember.id == InternalNote.author_id)
                               .where(*where)
                               .order_by(col(InternalNote.created_at), col(InternalNote.id)))).all())
