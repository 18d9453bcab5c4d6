"""The audit log: append-only and hash-chained per person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    action: str = Field(max_length=60)
    actor_type: str = Field(max_length=20)  # person, staff, system
    actor_id: str | None = Field(default=None, max_length=32)
    role: str | None = Field(default=None, max_length=40)  # self, guardian, proxy, staff...
    unit_id: str | None = Field(default=None, max_length=32)
    on_behalf_of: str | None = Field(default=None, max_length=32)
    subject_person_id: str | None = Field(default=None, index=True, max_length=32)
    object_type: str | None = Field(default=None, max_length=40)
    object_id: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="{}", max_length=4000)
    chain: str = Field(index=True, max_length=40)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
