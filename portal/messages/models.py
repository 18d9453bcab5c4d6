"""Threads between a person (or someone acting for them) and a unit's contact persons.

A thread is about one person and addressed to one unit (and, when asked from
the plan, to a named staff member there). Messages are text only, append-only,
and idempotent on the form's key. `waiting_for` says whose turn it is
("staff" after the person wrote, "person" after staff answered) and `due_on`
is the unit's promise in working days for the next staff answer.

Statuses: open, closed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


class Thread(SQLModel, table=True):
    __tablename__ = "message_thread"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)  # whom it is about
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=32)  # addressed to
    staff_id: str | None = Field(default=None, foreign_key="staff_member.id", max_length=32)  # named
    request_id: str | None = Field(default=None, foreign_key="coordination_request.id", max_length=32)
    subject: str = Field(max_length=120)
    status: str = Field(default="open", max_length=20)
    waiting_for: str = Field(default="staff", max_length=20)  # staff, person
    assigned_to: str | None = Field(default=None, foreign_key="staff_member.id", max_length=32)
    due_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    last_message_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Message(SQLModel, table=True):
    """One message. `author_type` person or staff; `on_behalf_of` is the person's id when a
    representative wrote (the person sees who); `read_by_staff_at` shows as "Läst"."""

    __tablename__ = "message"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    thread_id: str = Field(foreign_key="message_thread.id", index=True, max_length=32)
    author_type: str = Field(max_length=20)
    author_id: str = Field(max_length=32)
    author_role: str = Field(max_length=40)  # self, guardian, legal_representative, proxy, staff
    on_behalf_of: str | None = Field(default=None, max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))
    idempotency_key: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    read_by_staff_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    read_by_staff_id: str | None = Field(default=None, max_length=32)
