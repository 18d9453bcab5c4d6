"""The person's access log ("Vem har tittat på dina uppgifter"), read from the audit log.

Every read and change of the person's plan, consent, requests, messages and
representation by STAFF, by REPRESENTATIVES (an actor of type person other than the
person) and by STAFF SYSTEMS through the FHIR API (actor type "client": a
portal.fhir.clients.FhirClient, named with its owner, "Lifecare SP (Region Kalmar län)"),
newest first. Not the person's own actions; not system bookkeeping (events
written by the system, and the actions `portal.audit.actions.EXCLUDED` names).
The same unchanged page seen again in one session within PORTAL_ACCESS_LOG_REPEAT
seconds (the inbox polling every 30 s, a reload) is one entry: portal.core.page_cache.

    page = await entries(db, person, month="2026-11", who=staff_id, before_id=None, limit=50)
    page.entries       # list[Entry], newest first
    page.older         # pass as before_id for "Visa äldre"; None when there is nothing older
    page.months        # ["2026-11", "2026-10", ...]: the months that have entries
    page.actors        # list[Actor]: everyone who appears (for the "who" filter)

Times: `Entry.at` is aware UTC; templates show it with `| datetime`, which uses the
person's zone (set by `portal.access`). A month ("YYYY-MM") is a calendar month in the
person's own zone (Europe/Stockholm or Europe/Helsinki), whatever the variant shown.

A fixed number of statements whatever the number of entries: the actors, the entries, the months,
then one batch each for the staff, people, staff systems, representations, units, requests and
threads they name (eleven in all).
`limit=None` gives every entry (the "Mina uppgifter" export; `templates/audit/_entries.html`
renders the list).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.actions import EXCLUDED, words_for
from portal.audit.models import AuditEvent
from portal.core.clock import zone_of
from portal.core.i18n import N_
from portal.fhir.clients import FhirClient
from portal.people.models import Person, Representation, StaffMember, Unit

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

# How a representative is related to the person, by the event's role (the kind of
# representation at the time) and, for a legal representative, the court's appointment.
APPOINTMENT_WORDS = {
    "god_man": N_("god man"),
    "forvaltare": N_("förvaltare"),
    "intressebevakare": N_("intressebevakare"),
}
RELATION_WORDS = {
    "guardian": N_("vårdnadshavare"),
    "legal_representative": N_("god man eller förvaltare"),
    "proxy": N_("ombud med fullmakt"),
    "invitee": N_("inbjuden att bli ombud"),
}
SUOMI_FI_PROXY = N_("ombud med Suomi.fi-fullmakt")
REPRESENTATIVE = N_("företrädare")
# Actions whose detail names the units they were about ({"units": [unit id, ...]}), and
# those that name the plan's version ({"version": n}).
UNIT_LISTS = ("consent.", "fhir.consent.", "fhir.careplan.")
VERSIONED = ("plan.read", "plan.published", "fhir.careplan.read")


@dataclass(frozen=True)
class Actor:
    """Someone who appears in the log: staff (with title and unit), a representative
    (with the relation) or a staff system (FHIR API client). `person` is shown through
    `| shown_name` (protected identity)."""

    id: str
    kind: str  # "staff", "person" (a representative) or "client" (a staff system)
    staff: StaffMember | None = None  # None: no longer known
    person: Person | None = None
    unit: Unit | None = None  # staff: their unit
    relation: str | None = None  # msgid, for a representative
    client: FhirClient | None = None  # a staff system; None: no longer known

    @property
    def by_staff(self) -> bool:
        return self.kind == "staff"


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime  # aware, UTC
    action: str
    words: str  # msgid: what was done (portal.audit.actions)
    actor: Actor
    unit: Unit | None = None  # staff: the unit they worked for at the time
    version: int | None = None  # a plan read: which version
    request_reference: str | None = None  # about a request: its reference, e.g. K7Q2-9PXD
    thread_subject: str | None = None  # about a question: its subject, as the person wrote it
    units: list[Unit] = field(default_factory=list)  # consent: the units it was about

    @property
    def by_staff(self) -> bool:
        return self.actor.by_staff


@dataclass
class Page:
    entries: list[Entry]
    older: int | None
    months: list[str]
    actors: list[Actor]
    month: str | None = None  # the filters applied
    who: str | None = None
    before_id: int | None = None

    def link(self, before_id: int | None = None) -> str:
        """The query string for these filters (and `before_id`), e.g. "?manad=2026-11&fore=9"."""
        params = {"manad": self.month, "vem": self.who, "fore": before_id}
        query = urlencode({k: v for k, v in params.items() if v})
        return f"?{query}" if query else ""

    @property
    def month_choices(self) -> list[tuple[str, date]]:
        """(value, first day) of each month with entries, for `| date("month")`."""
        return [(m, month_start(m)) for m in self.months]

    @property
    def chosen_month(self) -> date | None:
        return month_start(self.month) if self.month else None

    @property
    def chosen_actor(self) -> Actor | None:
        return next((a for a in self.actors if a.id == self.who), None)


def month_start(month: str) -> date | None:
    """The first day of "YYYY-MM", or None when it is not a month."""
    found = MONTH.fullmatch(month or "")
    return date(int(found[1]), int(found[2]), 1) if found else None


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in `zone`, as aware UTC instants."""
    first = month_start(month)
    if first is None:
        raise ValueError(month)
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(following.year, following.month, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def visible(person_id: str):
    """The rows of the person's log: about them, by staff or by someone else acting for
    them, and not bookkeeping."""
    return and_(
        col(AuditEvent.subject_person_id) == person_id,
        or_(col(AuditEvent.actor_type).in_(["staff", "client"]),
            and_(col(AuditEvent.actor_type) == "person", col(AuditEvent.actor_id) != person_id)),
        col(AuditEvent.action).not_in(list(EXCLUDED)),
    )


async def _months(db: AsyncSession, person: Person, zone: ZoneInfo) -> list[str]:
    """The months (in the person's zone) that have entries, newest first. One statement:
    PostgreSQL groups by the local month; SQLite, which knows no zones, by the UTC hour
    (the zones are whole hours from UTC), turned into months here."""
    if db.bind.dialect.name == "postgresql":
        local = func.to_char(func.timezone(zone.key, AuditEvent.at), "YYYY-MM")
        rows = (await db.exec(select(local).where(visible(person.id)).group_by(local))).all()
        return sorted(set(rows), reverse=True)
    hour = func.strftime("%Y-%m-%d %H:00:00", AuditEvent.at)
    rows = (await db.exec(select(hour).where(visible(person.id)).group_by(hour))).all()
    months = set()
    for row in rows:
        instant = datetime.fromisoformat(row).replace(tzinfo=UTC).astimezone(zone)
        months.add(f"{instant.year:04d}-{instant.month:02d}")
    return sorted(months, reverse=True)


def _detail(event: AuditEvent) -> dict:
    try:
        value = json.loads(event.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _relation(role: str | None, rep: Representation | None, country: str) -> str:
    if rep is not None and rep.kind == "legal_representative" and rep.appointment in APPOINTMENT_WORDS:
        return APPOINTMENT_WORDS[rep.appointment]
    if role == "legal_representative" and country == "FI":
        return APPOINTMENT_WORDS["intressebevakare"]  # Finland appoints no other kind
    if rep is not None and rep.kind == "proxy" and rep.source == "suomi_fi":
        return SUOMI_FI_PROXY
    return RELATION_WORDS.get(role or "", REPRESENTATIVE)


async def entries(db: AsyncSession, person: Person, *, month: str | None = None,
                  who: str | None = None, before_id: int | None = None,
                  limit: int | None = 50) -> Page:
    """The person's log, newest first, filtered by `month` ("YYYY-MM" in the person's
    zone) and `who` (an actor id), from just before `before_id` (keyset pagination);
    at most `limit` entries (None: all). Filters that are not well-formed are ignored."""
    zone = zone_of(person)
    if month is not None and month_start(month) is None:
        month = None
    # Everyone who appears, with the role they had (for a representative: the kind).
    seen = (await db.exec(select(AuditEvent.actor_type, AuditEvent.actor_id, AuditEvent.role)
                          .where(visible(person.id)).distinct())).all()
    staff_ids = {actor_id for kind, actor_id, _ in seen if kind == "staff" and actor_id}
    person_ids = {actor_id for kind, actor_id, _ in seen if kind == "person" and actor_id}
    roles = {actor_id: role for kind, actor_id, role in seen if kind == "person"}
    client_ids = {actor_id for kind, actor_id, _ in seen if kind == "client" and actor_id}

    if who not in person_ids | staff_ids | client_ids:
        who = None
    query = select(AuditEvent).where(visible(person.id))
    if month:
        start, end = month_bounds(month, zone)
        query = query.where(col(AuditEvent.at) >= start, col(AuditEvent.at) < end)
    if who:
        query = query.where(col(AuditEvent.actor_id) == who)
    if before_id is not None:
        query = query.where(col(AuditEvent.id) < before_id)
    query = query.order_by(col(AuditEvent.id).desc())
    if limit is not None:
        query = query.limit(limit + 1)
    events = list((await db.exec(query)).all())
    older = None
    if limit is not None and len(events) > limit:
        events = events[:limit]
        older = events[-1].id

    months = await _months(db, person, zone)
    staff = await _by_id(db, StaffMember, staff_ids)
    people = await _by_id(db, Person, person_ids)
    clients = await _by_id(db, FhirClient, client_ids)
    reps: dict[tuple[str, str], Representation] = {}
    for rep in (await db.exec(select(Representation).where(
            col(Representation.represented_id) == person.id,
            col(Representation.representative_id).in_(sorted(person_ids)))
            .order_by(col(Representation.created_at)))).all():
        reps[(rep.representative_id, rep.kind)] = rep  # the newest of each kind wins

    details = {event.id: _detail(event) for event in events}
    unit_ids = {s.unit_id for s in staff.values()} | {e.unit_id for e in events if e.unit_id}
    for event in events:
        if event.action.startswith(UNIT_LISTS) and isinstance(details[event.id].get("units"), list):
            unit_ids |= {u for u in details[event.id]["units"] if isinstance(u, str)}
    units = await _by_id(db, Unit, unit_ids)
    requests = await _objects(db, "coordination_request", events)
    threads = await _objects(db, "message_thread", events)

    def actor_for(kind: str, actor_id: str | None, role: str | None) -> Actor:
        if kind == "staff":
            member = staff.get(actor_id or "")
            return Actor(actor_id or "", "staff", staff=member,
                         unit=units.get(member.unit_id) if member else None)
        if kind == "client":
            return Actor(actor_id or "", "client", client=clients.get(actor_id or ""))
        return Actor(actor_id or "", "person", person=people.get(actor_id or ""),
                     relation=_relation(role, reps.get((actor_id or "", role or "")),
                                        person.country))

    actors: dict[str, Actor] = {}
    for kind, actor_id, _role in seen:
        if actor_id and actor_id not in actors:
            actors[actor_id] = actor_for(kind, actor_id, roles.get(actor_id))
    listed = [_entry(event, actor_for(event.actor_type, event.actor_id, event.role),
                     details[event.id], units, requests, threads) for event in events]
    ordered = sorted(actors.values(), key=lambda a: (not a.by_staff, _sort_name(a)))
    return Page(listed, older, months, ordered, month=month, who=who, before_id=before_id)


def _sort_name(actor: Actor) -> str:
    named = actor.staff or actor.person or actor.client
    return named.name.casefold() if named else ""


def _entry(event: AuditEvent, actor: Actor, detail: dict, units: dict, requests: dict,
           threads: dict) -> Entry:
    by_staff = event.actor_type == "staff"
    version = detail.get("version") if event.action in VERSIONED else None
    request = requests.get(event.object_id) if event.object_type == "coordination_request" else None
    thread = threads.get(event.object_id) if event.object_type == "message_thread" else None
    consent_units = [units[u] for u in detail.get("units", []) if isinstance(u, str) and u in units] \
        if event.action.startswith(UNIT_LISTS) else []
    return Entry(
        id=event.id, at=event.at, action=event.action, words=words_for(event.action, event.actor_type),
        actor=actor, unit=units.get(event.unit_id) if by_staff and event.unit_id else actor.unit,
        version=version if isinstance(version, int) else None,
        request_reference=request.reference if request is not None else None,
        thread_subject=thread.subject if thread is not None else None,
        units=consent_units,
    )


async def _by_id(db: AsyncSession, model, ids: set[str]) -> dict:
    # Asked even for no ids: the page runs the same statements whatever the log holds.
    rows = (await db.exec(select(model).where(col(model.id).in_(sorted(ids))))).all()
    return {row.id: row for row in rows}


async def _objects(db: AsyncSession, object_type: str, events: list[AuditEvent]) -> dict:
    """The requests or threads the entries are about, in one statement."""
    ids = {e.object_id for e in events if e.object_type == object_type and e.object_id}
    if object_type == "coordination_request":
        from portal.coordination.models import CoordinationRequest as model
    else:
        from portal.messages.models import Thread as model
    return await _by_id(db, model, ids)
