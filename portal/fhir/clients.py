"""Staff systems registered to call the FHIR API (`portal.fhir.api`), and their units.

A client is one installation of a staff system (e.g. "Lifecare SP" at Region Kalmar län)
that acts for one or more units. It authenticates as in SMART Backend Services
(HL7 SMART App Launch 2.x, "Backend Services": OAuth 2.0 client credentials with a
`private_key_jwt` client assertion); its public keys are its JWKS, stored here.

    FhirClient.client_id    the OAuth client_id it puts in `iss`/`sub` of its assertion
    FhirClient.jwks         its public keys, a JWKS document (JSON text)
    FhirClient.scopes       what it may ask for, space separated (system/CarePlan.write …)
    FhirClient.publish_as   "version": a sent plan becomes a new published version;
                            "draft": it becomes the plan's draft, a contact person publishes
    FhirClientUnit          the units it acts for (it may read and write only for them)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.core.ids import new_id, utcnow

PUBLISH_MODES = ("version", "draft")
# The scopes the API knows (SMART v1 style, which SMART 2 servers still accept).
SCOPES = ("system/CarePlan.write", "system/CarePlan.read", "system/Consent.read")


class FhirClient(SQLModel, table=True):
    __tablename__ = "fhir_client"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    client_id: str = Field(unique=True, max_length=100)
    name: str = Field(max_length=100)  # the system, as the person reads it: "Lifecare SP"
    owner: str = Field(max_length=200)  # who runs it: "Region Kalmar län"
    jwks: str = Field(sa_column=Column(Text, nullable=False))
    scopes: str = Field(max_length=500)
    publish_as: str = Field(default="version", max_length=10)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))

    def allowed_scopes(self) -> set[str]:
        return set(self.scopes.split())


class FhirClientUnit(SQLModel, table=True):
    __tablename__ = "fhir_client_unit"
    client_id: str = Field(foreign_key="fhir_client.id", primary_key=True, max_length=32)
    unit_id: str = Field(foreign_key="unit.id", primary_key=True, max_length=32)
