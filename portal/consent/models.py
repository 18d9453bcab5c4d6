"""Consent to coordination, stored as an append-only log.

A `ConsentAct` is one decision made on one form (idempotency key unique);
it creates one `ConsentEvent` per actor (unit). Nothing is ever updated or
deleted (database triggers); the current state is derived from the events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


class CareRelation(SQLModel, table=True):
    """A unit works with a person (is proposed as an actor in their coordination)."""

    __tablename__ = "care_relation"
    __table_args__ = (UniqueConstraint("person_id", "unit_id"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ConsentWording(SQLModel, table=True):
    """The exact text a person was shown, per version and language variant."""

    __tablename__ = "consent_wording"
    __table_args__ = (UniqueConstraint("version", "locale", "sha256"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    version: int
    locale: str = Field(max_length=10)
    sha256: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ConsentAct(SQLModel, table=True):
    __tablename__ = "consent_act"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    idempotency_key: str = Field(unique=True, max_length=64)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    decision: str = Field(max_length=20)  # give, withdraw, think
    actor_type: str = Field(max_length=20)  # person, staff
    actor_id: str = Field(max_length=32)
    role: str = Field(max_length=40)  # self, guardian, legal_representative, proxy, staff
    unit_id: str | None = Field(default=None, max_length=32)  # the staff member's unit
    given_by_id: str | None = Field(default=None, max_length=32)  # whose decision (person or guardian)
    method: str = Field(max_length=20)  # digital, oral, paper
    note: str | None = Field(default=None, max_length=1000)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    wording_id: str | None = Field(default=None, foreign_key="consent_wording.id", max_length=32)


class ConsentEvent(SQLModel, table=True):
    __tablename__ = "consent_event"
    __table_args__ = (UniqueConstraint("person_id", "seq"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    act_id: str = Field(foreign_key="consent_act.id", index=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    seq: int  # per person, 1, 2, 3 ... : orders events and detects stale forms
    unit_id: str | None = Field(default=None, foreign_key="unit.id", max_length=32)
    kind: str = Field(max_length=20)  # given, withdrawn, thinking
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
