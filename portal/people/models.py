"""Persons, staff, units (actors) and representation ("acting for")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day` (a birthday counts from that day)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


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
    # Where visitors go (besöksadress), e.g. "Storgatan 14, 392 32 Kalmar". Never shown to a
    # representative of a person with protected personal data, nor in notices or .ics files.
    address: str | None = Field(default=None, max_length=200)
    # The unit's national identifier (portal.fhir.identifiers.unit_system): an HSA-id in
    # Sweden, an OID of the SOTE organisation register in Finland. Staff systems name
    # the unit by it (the FHIR API).
    external_id: str | None = Field(default=None, unique=True, max_length=64)


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
    # Skyddade personuppgifter (Sweden: sekretessmarkering or skyddad folkbokföring from
    # Skatteverket; Finland: spärrmarkering / turvakielto from the population register).
    # Then no address, unit address or meeting place is shown to a representative or sent
    # in a notice or .ics, no proxy is added by invitation, and the person's name is not
    # shown to other citizens (portal.people.names.shown_name).
    protected_identity: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


class StaffMember(SQLModel, table=True):
    """A contact person or other staff member, belonging to one unit."""

    __tablename__ = "staff_member"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    employee_id: str = Field(unique=True, max_length=64)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    title: str = Field(max_length=100)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=32)
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
    appointment: for a legal representative, what the court appointed: god_man,
    forvaltare (Sweden) or intressebevakare (Finland).
    scope: space-separated permissions, see `portal.people.representation.Scope`.
    source: where we know it from (population_register, court, person, suomi_fi,
    invitation: a proxy the person invited and the proxy accepted, see ProxyInvitation).
    ended_at/ended_by: the person (or staff) ended it before valid_to; it stops counting
    at once, on the representative's next request.
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
    appointment: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    ended_by: str | None = Field(default=None, max_length=32)  # person or staff id

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


class ProxyInvitation(SQLModel, table=True):
    """A person invites someone to act for them (a proxy, fullmakt) with chosen scopes.

    The invitee is named by national id (normalised, `portal.people.national_id`); it is
    matched when they log in and never shown, logged or sent. Nothing is shared until the
    invitee accepts: then a Representation(kind="proxy", source="invitation") is made and
    `representation_id` points to it.

    status: pending, accepted, declined, withdrawn (by the person before an answer).
    idempotency_key: from the invitation form, unique per person, so a double submit
    makes one invitation.
    """

    __tablename__ = "proxy_invitation"
    __table_args__ = (UniqueConstraint("person_id", "idempotency_key"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    invitee_national_id: str = Field(index=True, max_length=20)
    invitee_country: str = Field(max_length=2)
    scope: str = Field(max_length=300)
    valid_to: date | None = None
    status: str = Field(default="pending", max_length=20)
    idempotency_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    answered_by: str | None = Field(default=None, foreign_key="person.id", max_length=32)
    representation_id: str | None = Field(default=None, foreign_key="representation.id",
                                          max_length=32)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())
