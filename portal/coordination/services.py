"""Requests for coordination: the draft, sending it once, and its timeline.

Anyone may ask for coordination (`../shared/DOMAIN.md`, rule 2): the person, a
representative with the `requests` scope, or staff who met the person. The
services only add and flush; the request's transaction commits (one session
per request, `portal.core.security`). Every change is in the audit log with
who, when and on whose behalf, and the person (and representatives who follow
them with the `requests` scope) get a notice without content.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.coordination.models import CoordinationRequest, Meeting, RequestEvent, RequestUnit
from portal.core.clock import local_date
from portal.core.workdays import add_working_days
from portal.notices.outbox import notify
from portal.people.models import Person, StaffMember, Unit

# Letters and digits that cannot be mistaken for each other when read aloud or
# typed from paper: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DRAFT, RECEIVED, ASSIGNED, MEETING_BOOKED, PLAN_MADE, CLOSED = (
    "draft", "received", "assigned", "meeting_booked", "plan_made", "closed")
# The status each timeline event leads to.
STATUS_AFTER = {"received": RECEIVED, "assigned": ASSIGNED, "meeting_booked": MEETING_BOOKED,
                "plan_made": PLAN_MADE, "closed": CLOSED, "reopened": RECEIVED}


def new_reference() -> str:
    """A short reference the person can quote on the phone: "K7Q2-9PXD" (8 random
    characters of REFERENCE_ALPHABET, about 40 bits)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def answers_of(request: CoordinationRequest) -> dict:
    try:
        value = json.loads(request.answers or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def due_on(unit: Unit, sent_at: datetime) -> date:
    """The date the unit has promised an answer by: `unit.answer_days` working days
    (portal.core.workdays, the unit's country) after the date `sent_at` (aware) falls
    on in the unit's zone."""
    return add_working_days(local_date(sent_at, unit), unit.answer_days, unit.country)


async def current_draft(db: AsyncSession, author_id: str, person_id: str) -> CoordinationRequest | None:
    """The author's unsent draft for the person, if any (at most one: a partial unique index)."""
    return (await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.author_id == author_id, CoordinationRequest.person_id == person_id,
        CoordinationRequest.status == DRAFT))).first()


async def start_draft(db: AsyncSession, person: Person, actor: Actor, *,
                      channel: str = "portal") -> CoordinationRequest:
    """The author's draft for the person: the one they started before (another tab, a
    timeout), or a new one. Two tabs starting at once get the same draft."""
    existing = await current_draft(db, actor.id, person.id)
    if existing is not None:
        return existing
    draft = CoordinationRequest(person_id=person.id, author_type=actor.type, author_id=actor.id,
                                author_role=actor.role or "self", channel=channel)
    try:
        async with db.begin_nested():
            db.add(draft)
    except IntegrityError:
        existing = await current_draft(db, actor.id, person.id)
        if existing is None:
            raise
        return existing
    return draft


async def save_answers(db: AsyncSession, draft: CoordinationRequest, changes: dict,
                       now: datetime) -> CoordinationRequest:
    """Merge `changes` (JSON-able) into the draft's answers. A sent request is not changed."""
    if draft.status != DRAFT:
        return draft
    draft.answers = json.dumps({**answers_of(draft), **changes}, ensure_ascii=False, sort_keys=True)
    draft.updated_at = now
    db.add(draft)
    await db.flush()
    return draft


async def send(db: AsyncSession, draft: CoordinationRequest, person: Person, actor: Actor,
               units: list[Unit], now: datetime) -> CoordinationRequest:
    """Send the draft to `units` (at least one): it gets a reference and a due date (the
    earliest promise among the units), a "received" event, an audit event and a
    notice. Sending what was already sent changes nothing and returns it (double
    submit, back button, two tabs)."""
    if draft.status != DRAFT:
        return draft
    if not units:
        raise ValueError("a request needs at least one unit")
    draft.status = RECEIVED
    draft.reference = new_reference()
    draft.sent_at = now
    draft.updated_at = now
    draft.due_on = min(due_on(unit, now) for unit in units)
    db.add(draft)
    for unit in units:
        db.add(RequestUnit(request_id=draft.id, unit_id=unit.id))
    db.add(RequestEvent(request_id=draft.id, kind="received", at=now, actor_type=actor.type,
                        actor_id=actor.id))
    await record(db, "request.sent", actor, subject_person_id=person.id,
                 on_behalf_of=person.id if actor.id != person.id else None,
                 object_type="coordination_request", object_id=draft.id,
                 detail={"units": sorted(u.id for u in units), "channel": draft.channel})
    if actor.id != person.id:
        await notify(db, person, "request_changed", today=local_date(now, person))
    await db.flush()
    return draft


async def add_event(db: AsyncSession, request: CoordinationRequest, person: Person, kind: str,
                    actor: Actor, now: datetime, detail: dict | None = None) -> RequestEvent:
    """A step on the timeline (kind: one of STATUS_AFTER), the status it leads to, an audit
    event and a notice to the person and their followers with the `requests` scope."""
    if kind not in STATUS_AFTER:
        raise ValueError(kind)
    event = RequestEvent(request_id=request.id, kind=kind, at=now, actor_type=actor.type,
                         actor_id=actor.id,
                         detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True))
    db.add(event)
    request.status = STATUS_AFTER[kind]
    request.updated_at = now
    db.add(request)
    await record(db, f"request.{kind}", actor, subject_person_id=person.id, on_behalf_of=person.id,
                 object_type="coordination_request", object_id=request.id, detail=detail)
    template = "meeting_booked" if kind == "meeting_booked" else "request_changed"
    await notify(db, person, template, followers="requests", today=local_date(now, person))
    await db.flush()
    return event


async def requests_of(db: AsyncSession, person_id: str) -> list[CoordinationRequest]:
    """The person's sent requests, newest first (drafts are the authors' own)."""
    return list((await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.person_id == person_id, CoordinationRequest.status != DRAFT)
        .order_by(col(CoordinationRequest.sent_at).desc()))).all())


async def request_of_person(db: AsyncSession, request_id: str, person_id: str) -> CoordinationRequest | None:
    """The sent request `request_id` if it is about `person_id`, else None (never another's)."""
    return (await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.id == request_id, CoordinationRequest.person_id == person_id,
        CoordinationRequest.status != DRAFT))).first()


async def timeline(db: AsyncSession, request_id: str) -> list[RequestEvent]:
    """The request's events, oldest first."""
    return list((await db.exec(select(RequestEvent).where(RequestEvent.request_id == request_id)
                               .order_by(col(RequestEvent.at), col(RequestEvent.id)))).all())


async def units_of(db: AsyncSession, request_id: str) -> list[Unit]:
    """The units the request is addressed to, by name."""
    return list((await db.exec(select(Unit).join(RequestUnit, RequestUnit.unit_id == Unit.id)
                               .where(RequestUnit.request_id == request_id)
                               .order_by(col(Unit.name)))).all())


async def addressed_to(db: AsyncSession, request_id: str, unit_id: str) -> bool:
    """Whether the request is addressed to the unit (its staff may see and handle it)."""
    return (await db.exec(select(RequestUnit.id).where(RequestUnit.request_id == request_id,
                                                       RequestUnit.unit_id == unit_id))).first() is not None


# --- the person's side: the wizard, "Dina ärenden" and the timeline -------------------

PRIMARY_CARE, SOCIAL_SERVICES = "primary_care", "social_services"
OPEN_STATUSES = (RECEIVED, ASSIGNED, MEETING_BOOKED)


async def units_to_offer(db: AsyncSession, person: Person) -> list[Unit]:
    """The units near the person (their care relations), by name; when there are none,
    the primary care and social services units of the person's country. Two queries at most."""
    from portal.consent.models import CareRelation

    near = list((await db.exec(select(Unit).join(CareRelation, CareRelation.unit_id == Unit.id)
                               .where(CareRelation.person_id == person.id)
                               .order_by(col(Unit.name)))).all())
    if near:
        return near
    return list((await db.exec(select(Unit).where(
        Unit.country == person.country, col(Unit.kind).in_((PRIMARY_CARE, SOCIAL_SERVICES)))
        .order_by(col(Unit.name)))).all())


async def addressees(db: AsyncSession, person: Person, chosen: list[str],
                     offered: list[Unit]) -> list[Unit]:
    """The units a request goes to: the chosen ones among `offered`; with none chosen, the
    primary care units among `offered`, else the primary care units of the person's country."""
    picked = [u for u in offered if u.id in set(chosen)]
    if picked:
        return picked
    primary = [u for u in offered if u.kind == PRIMARY_CARE]
    if primary:
        return primary
    return list((await db.exec(select(Unit).where(
        Unit.country == person.country, Unit.kind == PRIMARY_CARE).order_by(col(Unit.name)))).all())


async def authored_request(db: AsyncSession, request_id: str, author_id: str,
                           person_id: str) -> CoordinationRequest | None:
    """The request `request_id` (draft or sent) if `author_id` wrote it about `person_id`."""
    return (await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.id == request_id, CoordinationRequest.author_id == author_id,
        CoordinationRequest.person_id == person_id))).first()


async def claim_draft(db: AsyncSession, draft: CoordinationRequest, now: datetime) -> bool:
    """Take the draft for sending: True for exactly one of several concurrent sends.

    A conditional UPDATE (status still "draft") locks the row on PostgreSQL until the
    transaction ends; a second send waits, then finds it sent and gets False. The
    draft is then read afresh (`draft` reflects the database)."""
    from sqlalchemy import update

    result = await db.exec(update(CoordinationRequest).where(
        CoordinationRequest.id == draft.id, CoordinationRequest.status == DRAFT)
        .values(updated_at=now))
    await db.refresh(draft)
    return result.rowcount == 1 and draft.status == DRAFT


@dataclass
class Listed:
    """A sent request as "Dina ärenden" shows it; `registered_by` (staff, with `unit`) when
    staff registered it after a phone call or a visit."""

    request: CoordinationRequest
    registered_by: StaffMember | None = None
    registered_unit: Unit | None = None


async def listed_requests(db: AsyncSession, person_id: str) -> list[Listed]:
    """The person's sent requests, newest first, with who registered those registered by
    staff. Two queries whatever the number of requests."""
    requests = await requests_of(db, person_id)
    staff_ids = {r.author_id for r in requests if r.author_type == "staff"}
    staff = {}
    if staff_ids:
        staff = {s.id: (s, u) for s, u in (await db.exec(
            select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
            .where(col(StaffMember.id).in_(staff_ids)))).all()}
    return [Listed(r, *(staff.get(r.author_id, (None, None)) if r.author_type == "staff"
                        else (None, None))) for r in requests]


async def newest_open(db: AsyncSession, person_id: str) -> CoordinationRequest | None:
    """The person's newest sent request that is not done (received, assigned, meeting booked)."""
    return (await db.exec(select(CoordinationRequest).where(
        CoordinationRequest.person_id == person_id,
        col(CoordinationRequest.status).in_(OPEN_STATUSES))
        .order_by(col(CoordinationRequest.sent_at).desc()).limit(1))).first()


@dataclass
class TimelineStep:
    """One step of the timeline as the person sees it: the event, and what it names."""

    event: RequestEvent
    detail: dict
    staff: StaffMember | None = None  # assigned: the contact person
    staff_unit: Unit | None = None
    meeting: Meeting | None = None  # meeting_booked
    participants: list[tuple[StaffMember, Unit]] = field(default_factory=list)


@dataclass
class Detail:
    """A sent request with its answers, its units, who wrote it and its timeline."""

    request: CoordinationRequest
    answers: dict
    units: list[Unit]
    chosen: list[Unit]  # the units the author ticked (they may differ from `units`)
    author_person: Person | None
    author_staff: StaffMember | None
    author_unit: Unit | None
    steps: list[TimelineStep]


async def request_detail(db: AsyncSession, request: CoordinationRequest) -> Detail:
    """Everything the request's page shows, in a fixed number of queries (about six): the
    units, the events, the staff and meetings the events name, and the author."""
    answers = answers_of(request)
    units = await units_of(db, request.id)
    events = await timeline(db, request.id)
    details = [_json(e.detail) for e in events]
    meeting_ids = {d.get("meeting_id") for d in details if d.get("meeting_id")}
    meetings = {m.id: m for m in (await db.exec(select(Meeting).where(
        col(Meeting.id).in_(meeting_ids)))).all()} if meeting_ids else {}
    staff_ids = {d.get("staff_id") for d in details if d.get("staff_id")}
    for meeting in meetings.values():
        staff_ids |= {str(s) for s in _json_list(meeting.participants)}
    if request.author_type == "staff":
        staff_ids.add(request.author_id)
    staff = {s.id: (s, u) for s, u in (await db.exec(
        select(StaffMember, Unit).join(Unit, Unit.id == StaffMember.unit_id)
        .where(col(StaffMember.id).in_(staff_ids)))).all()} if staff_ids else {}
    chosen_ids = set(answers.get("units") or [])
    chosen = list(await db.exec(select(Unit).where(col(Unit.id).in_(chosen_ids))
                                 .order_by(col(Unit.name)))) if chosen_ids else []
    steps = []
    for event, detail in zip(events, details, strict=True):
        step = TimelineStep(event, detail)
        if detail.get("staff_id") in staff:
            step.staff, step.staff_unit = staff[detail["staff_id"]]
        meeting = meetings.get(detail.get("meeting_id"))
        if meeting is not None:
            step.meeting = meeting
            step.participants = [staff[s] for s in _json_list(meeting.participants) if s in staff]
        steps.append(step)
    author_person = await db.get(Person, request.author_id) if request.author_type == "person" else None
    author_staff, author_unit = staff.get(request.author_id, (None, None)) \
        if request.author_type == "staff" else (None, None)
    return Detail(request, answers, units, chosen, author_person, author_staff, author_unit, steps)


def _json(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_list(text: str) -> list:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


# --- staff side ---
# The contact persons' actions on a sent request. Each is safe to repeat: asking for
# the state the request is already in changes nothing (double submit, back button),
# and a form made from an older state of the request is refused as stale (two tabs).


class RequestClosed(Exception):
    """The request is closed: reopen it before assigning, booking or marking a plan."""


class StaleRequest(Exception):
    """The request changed after the form was shown (`seen` is not the event count now)."""


def check_seen(events: list[RequestEvent], seen: int | None) -> None:
    """Raise StaleRequest unless `seen` (the event count the form was made from) is current."""
    if seen != len(events):
        raise StaleRequest()


async def assign(db: AsyncSession, request: CoordinationRequest, person: Person, staff_id: str,
                 actor: Actor, now: datetime, seen: int | None) -> bool:
    """Assign the request to staff member `staff_id` (the caller checks they may handle it):
    event "assigned" {"staff_id"}. False when it already was (nothing changed). Raises
    RequestClosed for a closed request, StaleRequest for a form older than the request."""
    if request.assigned_to == staff_id:
        return False
    if request.status == CLOSED:
        raise RequestClosed()
    check_seen(await timeline(db, request.id), seen)
    request.assigned_to = staff_id
    await add_event(db, request, person, "assigned", actor, now, {"staff_id": staff_id})
    return True


async def mark_plan_made(db: AsyncSession, request: CoordinationRequest, person: Person,
                         plan_id: str | None, actor: Actor, now: datetime, seen: int | None) -> bool:
    """Mark that the plan is made, linking `plan_id` (the person's open plan, or None):
    event "plan_made" {"plan_id"}. False when already marked; RequestClosed, StaleRequest."""
    if request.status == PLAN_MADE:
        return False
    if request.status == CLOSED:
        raise RequestClosed()
    check_seen(await timeline(db, request.id), seen)
    request.plan_id = plan_id
    await add_event(db, request, person, "plan_made", actor, now, {"plan_id": plan_id})
    return True


async def close_request(db: AsyncSession, request: CoordinationRequest, person: Person,
                        reason: str, actor: Actor, now: datetime, seen: int | None) -> bool:
    """Close the request with a plain reason (1-500 characters, checked by the caller; the
    person reads it): event "closed" {"reason"}. False when already closed; StaleRequest."""
    if request.status == CLOSED:
        return False
    check_seen(await timeline(db, request.id), seen)
    request.close_reason = reason
    await add_event(db, request, person, "closed", actor, now, {"reason": reason})
    return True


async def reopen_request(db: AsyncSession, request: CoordinationRequest, person: Person,
                         actor: Actor, now: datetime, seen: int | None) -> bool:
    """Open a closed request again (status received): event "reopened". False when it was
    not closed; StaleRequest."""
    if request.status != CLOSED:
        return False
    check_seen(await timeline(db, request.id), seen)
    request.close_reason = None
    await add_event(db, request, person, "reopened", actor, now)
    return True


async def add_note(db: AsyncSession, request: CoordinationRequest, person: Person, text_: str,
                   actor: Actor, key: str, now: datetime):
    """An internal note on the request (staff only; the person never sees it), stored once
    per form (`key`, scoped to the author and person). Returns (note, duplicate)."""
    from portal.coordination import notes

    note, duplicate = await notes.add(db, person_id=person.id, unit_id=actor.unit_id, text=text_,
                                      actor=actor, key=key, now=now, request_id=request.id)
    if not duplicate:
        await record(db, "request.note_added", actor, subject_person_id=person.id,
                     on_behalf_of=person.id, object_type="coordination_request",
                     object_id=request.id, detail={"note_id": note.id})
    return note, duplicate


async def notes_of(db: AsyncSession, request_id: str, unit_id: str) -> list:
    """The request's internal notes written in `unit_id`, with their authors:
    [(InternalNote, StaffMember)], oldest first. A request may be addressed to units of
    different organisations (a region, a municipality); a note stays within its unit."""
    from portal.coordination import notes

    return await notes.of(db, request_id=request_id, unit_id=unit_id)


async def staff_of_units(db: AsyncSession, unit_ids: list[str]) -> list:
    """Staff members of the units, by given name (for "assign to" and meeting participants)."""
    from portal.people.models import StaffMember

    if not unit_ids:
        return []
    return list((await db.exec(select(StaffMember).where(col(StaffMember.unit_id).in_(unit_ids))
                               .order_by(col(StaffMember.given_name), col(StaffMember.family_name)))).all())


async def register_for_person(db: AsyncSession, person: Person, actor: Actor, *, channel: str,
                              hard: str, units: list[Unit], key: str, now: datetime) -> CoordinationRequest:
    """A request staff register for a person they met or spoke to (`channel` phone or
    visit), sent at once to `units` (the staff member's own first). The form's `key` is
    kept in the answers: the same form sent again returns the request it made."""
    for earlier in await requests_of(db, person.id):
        if earlier.author_id == actor.id and answers_of(earlier).get("form_key") == key:
            return earlier
    draft = await start_draft(db, person, actor, channel=channel)
    draft.channel = channel
    await save_answers(db, draft, {"hard": hard, "form_key": key, "registered_by": "staff"}, now)
    return await send(db, draft, person, actor, units, now)
