"""Outbox for notices: written in the same transaction as the event it tells of."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # The recipient: a person, or a staff member (e.g. a coordinator told of a slipped follow-up).
    person_id: str | None = Field(default=None, foreign_key="person.id", index=True, max_length=32)
    staff_id: str | None = Field(default=None, foreign_key="staff_member.id", max_length=32)
    channel: str = Field(default="email", max_length=10)  # email, sms
    # Set only when the notice goes to another address than the recipient's current one
    # (a change of address is confirmed to the old one).
    to_address: str | None = Field(default=None, max_length=254)
    template: str = Field(max_length=60)
    locale: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_error: str | None = Field(default=None, max_length=200)
