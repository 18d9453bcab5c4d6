"""Plans: read, draft, publish, close — with access rules and the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.core.clock import local_date
from portal.core.ids import utcnow
from portal.core.inputs import INT_MAX
from portal.notices.outbox import notify
from portal.people.models import Person, StaffMember
from portal.people.representation import Scope
from portal.plans import content as plan_content
from portal.plans.calendar import follow_up_start
from portal.plans.forms import section_base
from portal.plans.models import Plan, PlanSeen, PlanVersion


class Conflict(Exception):
    """The draft changed since the form was shown."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("draft changed")
        self.plan = plan


async def open_plan(db: AsyncSession, person_id: str) -> Plan | None:
    return (await db.exec(select(Plan).where(Plan.person_id == person_id,
                                             Plan.status != "closed"))).first()


async def active_plan(db: AsyncSession, person_id: str) -> Plan | None:
    return (await db.exec(select(Plan).where(Plan.person_id == person_id,
                                             Plan.status == "active"))).first()


async def active_plan_and_version(db: AsyncSession,
                                  person_id: str) -> tuple[Plan | None, PlanVersion | None]:
    """`active_plan` with its current version (None before the first is published), in one
    statement (the start page shows the plan's follow-up)."""
    row = (await db.exec(
        select(Plan, PlanVersion).outerjoin(PlanVersion, and_(
            PlanVersion.plan_id == Plan.id, PlanVersion.number == Plan.current_version))
        .where(Plan.person_id == person_id, Plan.status == "active"))).first()
    return (row[0], row[1]) if row else (None, None)


async def closed_plans(db: AsyncSession, person_id: str) -> list[Plan]:
    return list((await db.exec(select(Plan).where(Plan.person_id == person_id,
                                                  Plan.status == "closed")
                               .order_by(col(Plan.closed_at).desc()))).all())


async def active_and_closed(db: AsyncSession, person_id: str) -> tuple[Plan | None, list[Plan]]:
    """`active_plan` and `closed_plans` in one statement (the person's plan page shows both)."""
    plans = (await db.exec(select(Plan).where(Plan.person_id == person_id,
                                              col(Plan.status).in_(("active", "closed")))
                           .order_by(col(Plan.closed_at).desc()))).all()
    active = next((plan for plan in plans if plan.status == "active"), None)
    return active, [plan for plan in plans if plan.status == "closed"]


async def plan_of_person(db: AsyncSession, plan_id: str, person_id: str) -> Plan | None:
    plan = await db.get(Plan, plan_id)
    return plan if plan is not None and plan.person_id == person_id else None


async def version(db: AsyncSession, plan_id: str, number: int) -> PlanVersion | None:
    return (await db.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id,
                                                    PlanVersion.number == number))).first()


async def versions(db: AsyncSession, plan_id: str) -> list[PlanVersion]:
    return list((await db.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                               .order_by(col(PlanVersion.number).desc()))).all())


async def mark_seen(db: AsyncSession, plan: Plan, reader_id: str, number: int) -> int | None:
    """Remember the newest version this reader has seen; return the one seen before."""
    seen = (await db.exec(select(PlanSeen).where(PlanSeen.plan_id == plan.id,
                                                 PlanSeen.reader_id == reader_id))).first()
    before = seen.version if seen else None
    if seen is None:
        db.add(PlanSeen(plan_id=plan.id, reader_id=reader_id, version=number))
    elif seen.version < number:
        seen.version = number
        seen.seen_at = utcnow()
    return before


@dataclass
class Reading:
    plan: Plan
    version: PlanVersion
    content: dict
    changed: set[str]  # sections changed since the reader last looked
    first_visit: bool


async def read_current(db: AsyncSession, plan: Plan, reader_id: str) -> Reading:
    """The current version for this reader, with the sections changed since they last
    looked (the current and the last-seen version are read in one statement)."""
    seen_before = await mark_seen(db, plan, reader_id, plan.current_version)
    wanted = {plan.current_version}
    if seen_before is not None and seen_before < plan.current_version:
        wanted.add(seen_before)
    found = {v.number: v for v in (await db.exec(select(PlanVersion).where(
        PlanVersion.plan_id == plan.id, col(PlanVersion.number).in_(wanted)))).all()}
    current = found[plan.current_version]
    old = found.get(seen_before) if seen_before != plan.current_version else None
    before = plan_content.load(old.content) if old else None
    content = plan_content.load(current.content)
    return Reading(plan, current, content, plan_content.changed_sections(before, content),
                   seen_before is None)


# --- staff: write -------------------------------------------------------------------------


async def create_plan(db: AsyncSession, person: Person, staff: StaffMember, *,
                      actor: Actor | None = None, audited: bool = True) -> Plan:
    """The person's open plan, made now with `staff` as its coordinator if there is none.

    `actor`: who did it, when not `staff` in the editor (a staff system over the FHIR API,
    portal.fhir.plan_publication). `audited=False` when the caller records the whole
    operation as one event (a system's send is one thing, not create, save and publish)."""
    existing = await open_plan(db, person.id)
    if existing is not None:
        return existing
    draft = dict(plan_content.EMPTY, coordinator_id=staff.id)
    plan = Plan(person_id=person.id, created_by=staff.id, draft=plan_content.dump(draft),
                draft_updated_by=staff.id)
    try:
        async with db.begin_nested():
            db.add(plan)
    except IntegrityError:  # another contact person created it a moment ago
        return await open_plan(db, person.id)  # type: ignore[return-value]
    if audited:
        await record(db, "plan.created", actor or _actor(staff), subject_person_id=person.id,
                     on_behalf_of=person.id, object_type="plan", object_id=plan.id)
    return plan


def _actor(staff: StaffMember) -> Actor:
    return Actor("staff", staff.id, "staff", staff.unit_id)


async def _conflict(db: AsyncSession, plan: Plan) -> None:
    """Reload the plan as it is now and raise Conflict with it (nothing was written)."""
    await db.refresh(plan)
    raise Conflict(plan)


async def save_draft(db: AsyncSession, plan: Plan, staff: StaffMember, revision: int,
                     changes: dict, *, section: str | None = None, base: str | None = None,
                     actor: Actor | None = None, audited: bool = True,
                     detail: dict | None = None) -> Plan:
    """Apply `changes` to the draft if nobody saved since `revision`, else raise Conflict.

    With `section` and `base` (forms.section_base of the draft the form was made from):
    when others saved since `revision` but not this section (its base still matches),
    the changes are saved on top of theirs instead: a second tab or a colleague
    editing another part is not a conflict. A revision outside 0..INT_MAX-1 (a forged
    form; revision + 1 is stored) is a Conflict too, without a query.

    `staff` is who wrote the draft (Plan.draft_updated_by); `actor`, when given, who did
    it (a staff system, with the staff member as its author in `detail`); `audited=False`
    when the caller records the operation itself (create_plan)."""
    if not 0 <= revision < INT_MAX:  # revision + 1 is stored: it must fit an integer
        await _conflict(db, plan)
    draft = plan_content.load(plan.draft)
    draft.update(changes)
    result = await db.exec(
        update(Plan).where(Plan.id == plan.id, Plan.draft_revision == revision,
                           Plan.status != "closed")
        .values(draft=plan_content.dump(draft), draft_revision=revision + 1,
                draft_updated_at=utcnow(), draft_updated_by=staff.id)
    )
    if result.rowcount != 1:
        await db.refresh(plan)
        if (section and base and plan.status != "closed"
                and section_base(plan_content.load(plan.draft), section) == base):
            # Only other sections changed: save on top of them (once; a further race conflicts).
            return await save_draft(db, plan, staff, plan.draft_revision, changes,
                                    actor=actor, audited=audited, detail=detail)
        raise Conflict(plan)
    if audited:
        await record(db, "plan.draft_saved", actor or _actor(staff),
                     subject_person_id=plan.person_id, on_behalf_of=plan.person_id,
                     object_type="plan", object_id=plan.id,
                     detail={**(detail or {}), "sections": sorted(changes)})
    await db.refresh(plan)
    return plan


@dataclass(frozen=True)
class Source:
    """A staff system a version came from (PlanVersion.source_*, portal.fhir.publish):
    FhirClient.id, the plan's business identifier there (`system|value`), SHA-256 (hex)."""

    client_id: str
    identifier: str
    digest: str


async def publish(db: AsyncSession, plan: Plan, staff: StaffMember, revision: int,
                  now: datetime | None = None, *, source: Source | None = None,
                  actor: Actor | None = None, detail: dict | None = None) -> PlanVersion:
    """Publish the draft as the next version, once (a repeated form is a Conflict).

    `now` (aware, the request's time) decides whose representation is valid for the notice.
    `source`: the staff system that sent this version; without it, the draft's own source
    when a staff system sent the draft (Plan.draft_source_*), which the version takes over.
    `staff` is the version's author (PlanVersion.published_by); `actor`, when given, who
    published it (a staff system over the FHIR API), with more to say in `detail`."""
    if not 0 <= revision < INT_MAX:  # no form of ours has it (and +1 must fit): stale
        await _conflict(db, plan)
    result = await db.exec(
        update(Plan).where(Plan.id == plan.id, Plan.draft_revision == revision,
                           Plan.status != "closed")
        .values(current_version=Plan.current_version + 1, status="active",
                draft_revision=revision + 1)
    )
    if result.rowcount != 1:
        await _conflict(db, plan)
    await db.refresh(plan)
    if source is None and plan.draft_source_client_id:
        source = Source(plan.draft_source_client_id, plan.draft_source_identifier or "",
                        plan.draft_source_digest or "")
    plan.draft_source_client_id = plan.draft_source_identifier = plan.draft_source_digest = None
    published = PlanVersion(plan_id=plan.id, number=plan.current_version, content=plan.draft,
                            published_by=staff.id,
                            source_client_id=source.client_id if source else None,
                            source_identifier=source.identifier if source else None,
                            source_digest=source.digest if source else None)
    db.add(published)
    person = await db.get(Person, plan.person_id)
    plan.follow_up_at, plan.coordinator_id = follow_up_fields(
        plan_content.load(plan.draft), person, published.published_at)
    await record(db, "plan.published", actor or _actor(staff), subject_person_id=plan.person_id,
                 on_behalf_of=plan.person_id, object_type="plan", object_id=plan.id,
                 detail={**(detail or {}), "version": published.number})
    await _notify_followers(db, plan, now or utcnow())
    return published


def follow_up_fields(content: dict, person: Person, published_at: datetime) -> tuple[datetime | None, str | None]:
    """(Plan.follow_up_at, Plan.coordinator_id) for a version with `content` published at
    `published_at` (aware): when its follow-up starts, in UTC, unless the version was
    published after that (then None); and its coordinator's staff id."""
    start = follow_up_start(content, person)
    due = start.astimezone(UTC) if start is not None and published_at < start else None
    return due, content.get("coordinator_id")


async def _notify_followers(db: AsyncSession, plan: Plan, now: datetime) -> None:
    """The person, and representatives who may read the plan on the person's date."""
    person = await db.get(Person, plan.person_id)
    await notify(db, person, "plan_published", followers=Scope.PLAN_READ,
                 today=local_date(now, person))


async def close(db: AsyncSession, plan: Plan, staff: StaffMember, reason: str) -> Plan:
    plan.status = "closed"
    plan.closed_at = utcnow()
    plan.closed_by = staff.id
    plan.close_reason = reason
    await record(db, "plan.closed", _actor(staff), subject_person_id=plan.person_id,
                 on_behalf_of=plan.person_id, object_type="plan", object_id=plan.id)
    return plan
