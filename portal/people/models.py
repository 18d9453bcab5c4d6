"""Persons, staff, units (actors) and representation ("acting for")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


class Unit(SQLModel, table=True):
    """An actor that can take part in coordination: a care or social-services unit."""

    __tablename__ = "unit"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    code: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    organisation: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    country: str = Field(max_length=2)
    description: str = Field(default="", max_length=300)
    phone: str | None = Field(default=None, max_length=40)
    # The unit's promise: a request or question is answered within this many working days
    # (portal.core.workdays), counted in the unit's country.
    answer_days: int = 3


class Person(SQLModel, table=True):
    """A person who can be the subject of a plan, or act for one.

    The national id is stored to match logins and registers; it never
    appears in a URL, a log line or an e-mail. `id` is what URLs carry.
    """

    __tablename__ = "person"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    national_id: str = Field(unique=True, max_length=20)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date
    country: str = Field(max_length=2)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)  # E.164 for SMS, e.g. +46701234567
    # How the person wants notices (portal.notices): by e-mail, by SMS, both or neither.
    notify_email: bool = True
    notify_sms: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class StaffMember(SQLModel, table=True):
    """A contact person or other staff member, belonging to one unit."""

    __tablename__ = "staff_member"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    employee_id: str = Field(unique=True, max_length=64)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    title: str = Field(max_length=100)
    unit_id: str = Field(foreign_key="unit.id", max_length=32)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class LoginIdentity(SQLModel, table=True):
    """Who logged in, keyed on (issuer, subject), linked to a person or staff member."""

    __tablename__ = "login_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=300)
    person_id: str | None = Field(default=None, foreign_key="person.id", max_length=32)
    staff_id: str | None = Field(default=None, foreign_key="staff_member.id", max_length=32)
    first_login_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Representation(SQLModel, table=True):
    """Who may act for whom, why, for what and for how long.

    kind: guardian (of a child), legal_representative (god man, förvaltare,
    intressebevakare), proxy (given by the person: fullmakt, Suomi.fi-fullmakt).
    scope: space-separated permissions, see `portal.people.representation.Scope`.
    source: where we know it from (population_register, court, person, suomi_fi).
    """

    __tablename__ = "representation"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    representative_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    represented_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    kind: str = Field(max_length=40)
    scope: str = Field(max_length=300)
    valid_from: date
    valid_to: date | None = None
    source: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())
