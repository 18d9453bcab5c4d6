"""Coordinated individual plans (SIP): a plan, its published versions, who saw what.

A plan is `draft` until first published, then `active`, finally `closed`.
At most one plan per person is open (draft or active): a partial unique index.
Published versions are append-only; the draft is edited with a revision
number so that two editors never overwrite each other silently.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow
from portal.fhir import clients as _clients  # noqa: F401  (fhir_client: the source columns' foreign keys)

# The partial indexes' conditions; portal.plans.follow_ups queries with the same words.
FOLLOW_UP_PENDING = "status = 'active' AND follow_up_at IS NOT NULL"
FOLLOW_UP_UNTOLD = (FOLLOW_UP_PENDING + " AND coordinator_id IS NOT NULL AND "
                    "(overdue_notice_version IS NULL OR overdue_notice_version != current_version)")


class Plan(SQLModel, table=True):
    __tablename__ = "plan"
    __table_args__ = (
        Index("one_open_plan_per_person", "person_id", unique=True,
              sqlite_where=text("status != 'closed'"),
              postgresql_where=text("status != 'closed'")),
        # The follow-ups that may have slipped, without reading every active plan
        # (portal.plans.follow_ups): a coordinator unit's inbox, and the outbox worker's
        # round every few seconds, which wants only those not yet told of.
        Index("plan_follow_up_by_coordinator", "coordinator_id", "follow_up_at",
              sqlite_where=text(FOLLOW_UP_PENDING), postgresql_where=text(FOLLOW_UP_PENDING)),
        Index("plan_follow_up_untold", "follow_up_at",
              sqlite_where=text(FOLLOW_UP_UNTOLD), postgresql_where=text(FOLLOW_UP_UNTOLD)),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    status: str = Field(default="draft", max_length=20)  # draft, active, closed
    draft: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    draft_revision: int = 0
    current_version: int = 0  # 0: never published
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(foreign_key="staff_member.id", max_length=32)
    draft_updated_at: datetime = Field(default_factory=utcnow,
                                       sa_column=Column(UTCDateTime, nullable=False))
    draft_updated_by: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_by: str | None = Field(default=None, max_length=32)
    close_reason: str | None = Field(default=None, max_length=500)
    # The version whose slipped follow-up the coordinator has been told of (told once per version).
    overdue_notice_version: int | None = None
    # Of the current version, set when it is published (portal.plans.services.publish):
    # when its follow-up starts (UTC), or None when it has none or the version was
    # published after it started (then the version is the follow-up's result); and its
    # coordinator (content "coordinator_id", a staff id).
    follow_up_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    coordinator_id: str | None = Field(default=None, max_length=32)
    # Where the draft came from when a staff system sent it as a draft (portal.fhir.publish,
    # FhirClient.publish_as "draft"): kept until a contact person publishes it, when the
    # version takes it over (PlanVersion.source_*). None for a draft written in the editor.
    draft_source_client_id: str | None = Field(default=None, foreign_key="fhir_client.id",
                                               max_length=32)
    draft_source_identifier: str | None = Field(default=None, max_length=300)
    draft_source_digest: str | None = Field(default=None, max_length=64)


class PlanVersion(SQLModel, table=True):
    """One published version. A version sent by a staff system over the FHIR API
    (portal.fhir.publish) names its source: the client, the plan's business identifier in
    that system (`system|value` of CarePlan.identifier) and the SHA-256 (hex) of what was
    sent; `published_by` is still the staff member who authored it (CarePlan.author)."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),
                      Index("plan_version_source", "source_client_id", "source_identifier"))
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    plan_id: str = Field(foreign_key="plan.id", index=True, max_length=32)
    number: int
    content: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    published_by: str = Field(foreign_key="staff_member.id", max_length=32)
    source_client_id: str | None = Field(default=None, foreign_key="fhir_client.id", max_length=32)
    source_identifier: str | None = Field(default=None, max_length=300)
    source_digest: str | None = Field(default=None, max_length=64)


class PlanSeen(SQLModel, table=True):
    """The newest version a reader has seen: drives "Vad har ändrats"."""

    __tablename__ = "plan_seen"
    __table_args__ = (UniqueConstraint("plan_id", "reader_id"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    plan_id: str = Field(foreign_key="plan.id", max_length=32)
    reader_id: str = Field(foreign_key="person.id", max_length=32)
    version: int
    seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
