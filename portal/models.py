"""Imports every table so that metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from portal.audit.models import AuditEvent  # noqa: F401
from portal.consent.models import CareRelation, ConsentAct, ConsentEvent, ConsentWording  # noqa: F401
from portal.coordination.models import (  # noqa: F401
    CoordinationRequest,
    InternalNote,
    Meeting,
    RequestEvent,
    RequestUnit,
)
from portal.core.data_versions import DataVersion  # noqa: F401
from portal.fhir.clients import FhirClient, FhirClientUnit  # noqa: F401
from portal.messages.models import Message, Thread  # noqa: F401
from portal.notices.models import OutboxMessage  # noqa: F401
from portal.people.models import LoginIdentity, Person, Representation, StaffMember, Unit  # noqa: F401
from portal.plans.models import Plan, PlanSeen, PlanVersion  # noqa: F401

metadata = SQLModel.metadata
