"""A plan sent by a staff system becomes a published version (or the draft), once.

    result = await publish_sent(db, caller, sent, now)   # FhirError 403 / 409 / 422

Through the editor's own services (portal.plans.services: create_plan, save_draft,
publish), so notices, follow-up fields, the audit trail and conflicts are as when a
contact person publishes; `published_by` is the CarePlan's author (a staff member of one
of the caller's units), and the version keeps its source (PlanVersion.source_*).
FhirClient.publish_as "draft", or CarePlan.status "draft", leaves the plan's draft instead
(Plan.draft_source_*) for a contact person to publish in the editor.

Sent once: the person's row is locked first (SELECT … FOR UPDATE on PostgreSQL, the write
lock on SQLite), so two sends for one person run one after the other; then the newest
version from the same client and business identifier is read, and if it has the same
digest (portal.fhir.sent_plan.digest) it is the answer (200), nothing new is written. Not
a unique index on the digest: a system that goes back to what it sent before (A, B, A)
publishes A again, as a new version.

The person must have consented to the author's unit (portal.fhir.subjects: 403, the same
for an unknown person). Audit: ONE event per send, by `Actor("client", client id, "fhir",
author's unit)` with {"author": staff id} (and "created" when the plan was new) in its
detail: "plan.published" (with the version), or "plan.draft_saved" for a draft. Not the
author's: she is the version's author (published_by) but did nothing in the portal, and
the person's access log must not say she did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.core.clock import local_date
from portal.fhir import subjects
from portal.fhir.outcome import FhirError
from portal.fhir.sent_plan import SentPlan, digest, resolve_parties, sent_content
from portal.fhir.tokens import Caller
from portal.people.models import Person
from portal.plans import services
from portal.plans.models import Plan, PlanVersion


@dataclass
class Published:
    plan: Plan
    version: PlanVersion | None  # None: kept as the draft
    created: bool  # False: the same was sent before, nothing new was written


async def lock_person(db: AsyncSession, person_id: str) -> None:
    """Serialise writes for one person until the transaction ends."""
    if db.bind.dialect.name == "postgresql":
        await db.exec(select(Person.id).where(Person.id == person_id).with_for_update())
    else:
        await db.exec(text("UPDATE person SET id = id WHERE id = :p"), params={"p": person_id})


async def _latest_from_source(db: AsyncSession, client_id: str,
                              identifier: str) -> tuple[PlanVersion, Plan] | None:
    return (await db.exec(
        select(PlanVersion, Plan).join(Plan, col(Plan.id) == PlanVersion.plan_id)
        .where(PlanVersion.source_client_id == client_id,
               PlanVersion.source_identifier == identifier)
        .order_by(col(PlanVersion.published_at).desc(), col(PlanVersion.number).desc())
        .limit(1))).first()


async def publish_sent(db: AsyncSession, caller: Caller, sent: SentPlan, now: datetime) -> Published:
    """Publish (or keep as the draft) the plan in `sent` for the person it names.

    `now` is aware (the request's time). FhirError 403 without the person's consent to
    the author's unit (or an unknown person), 422 for unknown units or staff, or an
    identifier already naming another person's plan; 409 when the draft changed meanwhile."""
    client = caller.client
    parties = await resolve_parties(db, sent, caller)
    author = parties.author
    person = await subjects.find_person(db, *parties.patient)
    if person is None or author.unit_id not in await subjects.consented_units(
            db, person, caller, local_date(now, person)):
        raise FhirError(403, "forbidden", subjects.NO_CONSENT)
    content = sent_content(sent, parties, person, client.id)
    as_draft = client.publish_as == "draft" or sent.status == "draft"
    sent_digest = digest(content, "draft" if as_draft else "active", author.id, person.id)

    await lock_person(db, person.id)
    latest = await _latest_from_source(db, client.id, sent.identifier)
    if latest is not None and latest[1].person_id != person.id:
        raise FhirError(422, "business-rule", "This CarePlan.identifier already names the plan "
                        "of another patient.", [sent.at("identifier")])
    if latest is not None and latest[0].source_digest == sent_digest:
        return Published(latest[1], latest[0], created=False)
    plan = await services.open_plan(db, person.id)
    if (as_draft and plan is not None and plan.draft_source_client_id == client.id
            and plan.draft_source_identifier == sent.identifier
            and plan.draft_source_digest == sent_digest):
        return Published(plan, None, created=False)
    # One event for the send, by the system on behalf of the person, naming the author:
    # not the author's own create/save/publish (she did nothing in the portal).
    actor = Actor("client", client.id, "fhir", author.unit_id)
    detail = {"author": author.id}
    if plan is None:
        plan = await services.create_plan(db, person, author, actor=actor, audited=False)
        detail["created"] = True
    try:
        plan = await services.save_draft(db, plan, author, plan.draft_revision, content,
                                         actor=actor, audited=as_draft, detail=detail)
        if as_draft:
            plan.draft_source_client_id = client.id
            plan.draft_source_identifier = sent.identifier
            plan.draft_source_digest = sent_digest
            return Published(plan, None, created=True)
        version = await services.publish(
            db, plan, author, plan.draft_revision, now,
            source=services.Source(client.id, sent.identifier, sent_digest),
            actor=actor, detail=detail)
    except services.Conflict:
        await db.rollback()  # the request commits what a 4xx leaves: nothing here
        raise FhirError(409, "conflict", "The plan's draft changed while this was saved; "
                        "nothing was saved. Send again.") from None
    return Published(plan, version, created=True)
