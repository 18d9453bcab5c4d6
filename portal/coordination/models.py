"""Requests for coordination, their timeline, coordination meetings and staff notes.

A `CoordinationRequest` starts as the author's draft (status "draft", one per
author and person: the wizard's answers are saved on every step, so a timeout
or a closed tab loses nothing) and is sent once (status "received",
`reference` and `due_on` set). Its history is `RequestEvent`s, append-only:
received → assigned (a named contact person) → meeting_booked → plan_made, or
closed with a plain reason; reopened puts it back. `RequestUnit` says which
units it is addressed to: only their staff see it.

Statuses: draft, received, assigned, meeting_booked, plan_made, closed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


class CoordinationRequest(SQLModel, table=True):
    __tablename__ = "coordination_request"
    __table_args__ = (
        # One open draft per author and person: two tabs edit the same draft.
        Index("one_draft_per_author_and_person", "author_id", "person_id", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)  # for whom
    status: str = Field(default="draft", max_length=20)
    reference: str | None = Field(default=None, unique=True, max_length=16)  # "K7Q2-9PXD", set when sent
    # Who wrote it: a person (themself or a representative) or a staff member (registered).
    author_type: str = Field(max_length=20)  # person, staff
    author_id: str = Field(max_length=32)
    author_role: str = Field(max_length=40)  # self, guardian, legal_representative, proxy, staff
    channel: str = Field(default="portal", max_length=20)  # portal, phone, visit (registered by staff)
    answers: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # the wizard's answers, JSON
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    due_on: date | None = None  # the unit's promise, in working days from sent_at (its zone)
    assigned_to: str | None = Field(default=None, foreign_key="staff_member.id", max_length=32)
    plan_id: str | None = Field(default=None, foreign_key="plan.id", max_length=32)
    close_reason: str | None = Field(default=None, max_length=500)


class RequestUnit(SQLModel, table=True):
    """A unit the request is addressed to; its staff see and handle the request."""

    __tablename__ = "request_unit"
    __table_args__ = (UniqueConstraint("request_id", "unit_id"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    request_id: str = Field(foreign_key="coordination_request.id", index=True, max_length=32)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=32)


class RequestEvent(SQLModel, table=True):
    """One step on the request's timeline (append-only).

    kind: received, assigned, meeting_booked, plan_made, closed, reopened.
    detail (JSON): assigned → {"staff_id"}; meeting_booked → {"meeting_id"};
    plan_made → {"plan_id"}; closed → {"reason"}."""

    __tablename__ = "request_event"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    request_id: str = Field(foreign_key="coordination_request.id", index=True, max_length=32)
    kind: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor_type: str = Field(max_length=20)
    actor_id: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="{}", max_length=2000)


class Meeting(SQLModel, table=True):
    """A coordination meeting (samordningsmöte / SIP-möte). Times are stored in UTC and
    shown in the person's zone. `sequence` rises when the time or place changes
    (RFC 5545 SEQUENCE for the `.ics`); `cancelled_at` marks it cancelled."""

    __tablename__ = "coordination_meeting"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    request_id: str | None = Field(default=None, foreign_key="coordination_request.id", index=True,
                                   max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    place: str = Field(max_length=300)
    participants: str = Field(default="[]", max_length=2000)  # JSON list of staff_member ids
    sequence: int = 0
    created_by: str = Field(foreign_key="staff_member.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class InternalNote(SQLModel, table=True):
    """A note between staff about a request or a thread; the person never sees it."""

    __tablename__ = "internal_note"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    request_id: str | None = Field(default=None, foreign_key="coordination_request.id", index=True,
                                   max_length=32)
    thread_id: str | None = Field(default=None, foreign_key="message_thread.id", index=True,
                                  max_length=32)
    author_id: str = Field(foreign_key="staff_member.id", max_length=32)
    unit_id: str = Field(foreign_key="unit.id", max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    idempotency_key: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
