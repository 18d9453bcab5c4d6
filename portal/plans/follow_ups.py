"""Follow-ups that slipped: a published plan whose follow-up date has passed without a
newer version.

Plans are made once and never followed up in about a third of cases
(`../shared/DOMAIN.md`): the coordinator unit's inbox shows each slipped
follow-up, and the coordinator (plan content `coordinator_id`, a staff id) gets one
notice per plan version ("follow_up_overdue", no name in it). `Plan.overdue_notice_version`
remembers the version told of, set by a conditional UPDATE, so the worker and the
inbox running at once, or several workers, tell the coordinator once.

"Passed" is in the person's own zone: the follow-up's date (plans.calendar.
follow_up_start) is before the person's today, and the current version was
published before the follow-up started (a version published after the meeting is
the follow-up's result, even if it kept the date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.core.clock import local_date
from portal.notices.outbox import enqueue_staff
from portal.people.models import Person, StaffMember, Unit
from portal.plans import content as plan_content
from portal.plans.calendar import follow_up_start
from portal.plans.models import FOLLOW_UP_PENDING, FOLLOW_UP_UNTOLD, Plan, PlanVersion


@dataclass
class SlippedFollowUp:
    plan: Plan
    person: Person
    version: int  # the current version, whose follow-up slipped
    coordinator_id: str | None  # staff id
    due: date  # the follow-up's date, in the person's zone
    coordinator: StaffMember | None = None  # the plan's coordinator (Plan.coordinator_id)


async def slipped(db: AsyncSession, now: datetime, coordinator_ids: set[str] | None = None,
                  untold: bool = False, unit_id: str | None = None) -> list[SlippedFollowUp]:
    """Active published plans whose follow-up slipped at `now` (aware), oldest follow-up
    first; only those coordinated by `coordinator_ids` when given, or by staff of the unit
    `unit_id` when given (a unit's inbox), only those whose coordinator has not been told
    of the current version when `untold`. One statement: the plans whose follow-up
    (`Plan.follow_up_at`, set at publishing) started before `now`, through a partial
    index, with their current version, person and coordinator; then the exact rule in the
    person's zone (the follow-up's date is before their today)."""
    query = (
        select(Plan, PlanVersion, Person, StaffMember)
        .join(PlanVersion, and_(PlanVersion.plan_id == Plan.id,
                                PlanVersion.number == Plan.current_version))
        .join(Person, Person.id == Plan.person_id)
        .outerjoin(StaffMember, StaffMember.id == Plan.coordinator_id)
        .where(text(FOLLOW_UP_UNTOLD if untold else FOLLOW_UP_PENDING), col(Plan.follow_up_at) < now))
    if coordinator_ids is not None:
        query = query.where(col(Plan.coordinator_id).in_(coordinator_ids))
    if unit_id is not None:
        query = query.where(StaffMember.unit_id == unit_id)
    found = []
    for plan, version, person, coordinator in (await db.exec(query)).all():
        content = plan_content.load(version.content)
        start = follow_up_start(content, person)
        if start is None or start.date() >= local_date(now, person) or version.published_at >= start:
            continue
        found.append(SlippedFollowUp(plan, person, version.number, content.get("coordinator_id"),
                                     start.date(), coordinator))
    found.sort(key=lambda s: s.due)
    return found


async def tell_coordinators(db: AsyncSession, found: list[SlippedFollowUp]) -> int:
    """Queue "follow_up_overdue" for the coordinator of each slipped follow-up not yet told
    of (once per plan version, whoever runs this at the same time); return how many were
    queued. One statement for the coordinators, one UPDATE per plan newly slipped."""
    untold = [s for s in found if s.plan.overdue_notice_version != s.version and s.coordinator_id]
    if not untold:
        return 0
    staff = {s.id: (s, u) for s, u in (await db.exec(
        select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
        .where(col(StaffMember.id).in_({s.coordinator_id for s in untold})))).all()}
    queued = 0
    for item in untold:
        claimed = await db.execute(
            update(Plan).where(Plan.id == item.plan.id,
                               or_(col(Plan.overdue_notice_version).is_(None),
                                   Plan.overdue_notice_version != item.version))
            .values(overdue_notice_version=item.version)
            .execution_options(synchronize_session=False))
        set_committed_value(item.plan, "overdue_notice_version", item.version)
        if claimed.rowcount != 1 or item.coordinator_id not in staff:
            continue
        member, unit = staff[item.coordinator_id]
        if await enqueue_staff(db, member, "follow_up_overdue",
                               locale="sv_FI" if unit.country == "FI" else "sv") is not None:
            queued += 1
    await db.flush()
    return queued


async def check_follow_ups(db: AsyncSession, now: datetime) -> int:
    """One round for the outbox worker: find every slipped follow-up and tell the
    coordinators not yet told; the caller commits. Returns how many notices were queued."""
    return await tell_coordinators(db, await slipped(db, now, untold=True))
