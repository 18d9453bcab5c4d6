"""Consent acts: give, think, withdraw — exactly once, never over a stale form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.consent import rules
from portal.consent.models import CareRelation, ConsentAct, ConsentEvent, ConsentWording
from portal.consent.state import GIVEN, WAITING, WITHDRAWN, Decision, UnitState, derive
from portal.consent.unit_search import units_by_id
from portal.consent.wording import current_text, current_wording  # noqa: F401
from portal.core.ids import utcnow
from portal.notices.outbox import enqueue
from portal.people.models import Person, StaffMember, Unit

GIVE, THINK, WITHDRAW = "give", "think", "withdraw"
REMINDER_DELAY = timedelta(days=7)


@dataclass
class Overview:
    person: Person
    units: list[Unit]  # proposed first (care relations), then others in the country
    proposed: set[str]
    states: dict[str, UnitState]
    deciders: frozenset[str]
    seq: int
    thinking: bool
    last_thinking_at: datetime | None = None
    names: dict[str, str] = field(default_factory=dict)
    # The deciders themselves (id -> Person): a page names one to a citizen through
    # `| shown_name` (people.names), e.g. the other guardian who has not answered.
    deciding: dict[str, Person] = field(default_factory=dict)
    thinking_by: str | None = None  # who asked to think last (a person's id), while no one has answered

    def state(self, unit_id: str) -> UnitState:
        return self.states.get(unit_id, UnitState())

    @property
    def active_units(self) -> list[Unit]:
        return [u for u in self.units if self.state(u.id).status == GIVEN]

    @property
    def waiting_units(self) -> list[Unit]:
        return [u for u in self.units if self.state(u.id).status == WAITING]

    @property
    def joint(self) -> bool:
        return len(self.deciders) > 1


async def _decisions(db: AsyncSession, person_id: str) -> list[tuple[ConsentEvent, ConsentAct]]:
    return list((await db.exec(
        select(ConsentEvent, ConsentAct).join(ConsentAct, ConsentAct.id == ConsentEvent.act_id)
        .where(ConsentEvent.person_id == person_id).order_by(col(ConsentEvent.seq))
    )).all())


def _as_decisions(rows) -> list[Decision]:
    return [Decision(e.seq, e.unit_id, e.kind, a.given_by_id or a.person_id) for e, a in rows]


async def overview(db: AsyncSession, person: Person, today: date, *,
                   every_unit: bool = True) -> Overview:
    """The person's consent per unit on `today` (their own date): the units proposed to
    them (care relations) first, then the other units of their country. With
    `every_unit=False` only the proposed units and those with a decision are read (the
    citizen's pages; a country has hundreds of units, found by portal.consent.unit_search).
    Three statements: decisions, deciders with their people, units with their nearness."""
    rows = await _decisions(db, person.id)
    deciding = await rules.deciding(db, person, today)
    decide = frozenset(deciding)
    states = derive(_as_decisions(rows), decide)
    # The units, and whether each is near the person (a care relation), in one statement.
    near = col(Unit.id).in_(select(CareRelation.unit_id).where(CareRelation.person_id == person.id))
    which = (Unit.country == person.country) if every_unit else or_(near, col(Unit.id).in_(set(states)))
    units = (await db.exec(select(Unit, near).where(which).order_by(Unit.name))).all()
    proposed = {u.id for u, is_near in units if is_near}
    ordered = [u for u, _ in units if u.id in proposed] + [u for u, _ in units if u.id not in proposed]
    last_decision = max((e.seq for e, _ in rows if e.kind in (GIVEN, WITHDRAWN)), default=0)
    thinking_rows = [(e, a) for e, a in rows if e.kind == "thinking" and e.seq > last_decision]
    names = {pid: p.name for pid, p in deciding.items()}
    return Overview(
        person=person, units=ordered, proposed=proposed, states=states, deciders=decide,
        seq=max((e.seq for e, _ in rows), default=0), thinking=bool(thinking_rows),
        last_thinking_at=thinking_rows[-1][1].recorded_at if thinking_rows else None, names=names,
        deciding=deciding,
        thinking_by=thinking_rows[-1][1].actor_id if thinking_rows else None,
    )


async def unit_has_consent(db: AsyncSession, person: Person, unit_id: str, today: date) -> bool:
    rows = await _decisions(db, person.id)
    decide = await rules.deciders(db, person, today)
    return derive(_as_decisions(rows), decide).get(unit_id, UnitState()).active


@dataclass(frozen=True)
class Current:
    """The person's consent now, with the acts behind it (`current`)."""

    states: dict[str, UnitState]  # unit id -> state, for the units with a decision
    acts: dict[str, ConsentAct]  # unit id -> the act that made its state
    thinking: ConsentAct | None  # the latest "think", when no decision came after it


async def current(db: AsyncSession, person: Person, today: date) -> Current:
    """The state per unit (as `unit_has_consent`: latest decision, every guardian, `today`
    in the person's zone) and the act behind each; two statements."""
    rows = await _decisions(db, person.id)
    states = derive(_as_decisions(rows), await rules.deciders(db, person, today))
    act_of_seq = {event.seq: act for event, act in rows}
    last_decision = max((e.seq for e, _ in rows if e.kind in (GIVEN, WITHDRAWN)), default=0)
    thinking = [a for e, a in rows if e.kind == "thinking" and e.seq > last_decision]
    return Current(states, {unit_id: act_of_seq[state.since_seq]
                            for unit_id, state in states.items() if state.since_seq in act_of_seq},
                   thinking[-1] if thinking else None)


class StaleForm(Exception):
    """The consent changed after the form was shown."""


class NothingChosen(Exception):
    pass


@dataclass
class Outcome:
    act: ConsentAct
    duplicate: bool  # the same form was sent before: nothing new was stored


async def _lock_person(db: AsyncSession, person_id: str) -> None:
    if db.bind.dialect.name == "postgresql":
        await db.exec(select(Person.id).where(Person.id == person_id).with_for_update())
    else:
        # SQLite: take the write lock now, so the read-check-write below is serial.
        await db.exec(text("UPDATE person SET id = id WHERE id = :p"), params={"p": person_id})


def scoped_key(actor: Actor, person_id: str, key: str) -> str:
    """The stored idempotency key: the form's key scoped to (signed-in user, subject).

    A key is unique per signed-in user and person, so a key sent first by someone
    else (or for someone else) is never matched to this person's act: it makes a
    different stored key. Hex sha256, 64 characters (the column's length)."""
    return hashlib.sha256(f"{actor.type}:{actor.id}:{person_id}:{key}".encode()).hexdigest()


async def _existing(db: AsyncSession, key: str) -> ConsentAct | None:
    return (await db.exec(select(ConsentAct).where(ConsentAct.idempotency_key == key))).first()


async def decide(
    db: AsyncSession, *, person: Person, actor: Actor, given_by: str, decision: str,
    unit_ids: list[str], idempotency_key: str, seen_seq: int, locale: str, today: date,
    method: str = "digital", note: str | None = None, occurred_at: datetime | None = None,
    on_behalf_of: str | None = None, now: datetime | None = None,
) -> Outcome:
    """Store one consent act exactly once, or raise StaleForm / NothingChosen.

    `today` is the person's own date; `now` (aware, UTC) the request's time, when the
    act is recorded (and when it happened, unless staff give `occurred_at`). The act is added to the caller's transaction
    (the request's commit policy commits it); the person's row is locked first, so
    concurrent forms for one person are serial. Raises before writing anything, so
    the caller needs no rollback. A withdrawal is never refused for being stale.
    """
    if decision not in (GIVE, THINK, WITHDRAW):
        raise ValueError(decision)
    now = now or utcnow()
    key = scoped_key(actor, person.id, idempotency_key)
    previous = await _existing(db, key)
    if previous is not None:
        return Outcome(previous, duplicate=True)
    await _lock_person(db, person.id)
    previous = await _existing(db, key)
    if previous is not None:
        return Outcome(previous, duplicate=True)
    now_seq = (await db.exec(select(func.max(ConsentEvent.seq)).where(
        ConsentEvent.person_id == person.id))).one() or 0
    # Only the units named (a country has hundreds): one of another country is not allowed.
    allowed = {u.id for u in await units_by_id(db, person.country, unit_ids)}
    units = [u for u in dict.fromkeys(unit_ids) if u in allowed]
    if decision == WITHDRAW:
        current = await overview(db, person, today, every_unit=False)
        units = [u for u in units if current.state(u).status in (GIVEN, WAITING)]
        if not units:
            raise NothingChosen()
    elif decision == GIVE:
        if not units or len(units) < len(set(unit_ids)):  # none, or an unknown unit: refuse all
            raise NothingChosen()
        if now_seq != seen_seq:
            raise StaleForm()
    wording = await current_wording(db, locale) if decision != WITHDRAW else None
    act = ConsentAct(
        idempotency_key=key, person_id=person.id, decision=decision,
        actor_type=actor.type, actor_id=actor.id or "", role=actor.role or "self",
        unit_id=actor.unit_id, given_by_id=given_by, method=method, note=note,
        occurred_at=occurred_at or now, wording_id=wording.id if wording else None,
        recorded_at=now,
    )
    try:
        async with db.begin_nested():  # a lost race on the key undoes only this
            db.add(act)
            await db.flush()
    except IntegrityError:
        again = await _existing(db, key)
        if again is None:
            raise
        return Outcome(again, duplicate=True)
    kind = {GIVE: GIVEN, WITHDRAW: WITHDRAWN, THINK: "thinking"}[decision]
    targets = units if decision != THINK else [None]
    for offset, unit_id in enumerate(targets, start=1):
        db.add(ConsentEvent(act_id=act.id, person_id=person.id, seq=now_seq + offset,
                            unit_id=unit_id, kind=kind))
    await db.flush()
    await record(db, f"consent.{decision}", actor, subject_person_id=person.id,
                 on_behalf_of=on_behalf_of, object_type="consent_act", object_id=act.id,
                 detail={"units": units, "method": method})
    after = await overview(db, person, today, every_unit=False)
    await _notify(db, person, act, after, given_by)
    return Outcome(act, duplicate=False)


async def _notify(db: AsyncSession, person: Person, act: ConsentAct, after: Overview,
                  given_by: str) -> None:
    """Notices without content: to the person, and to a guardian who still has to answer.

    "Jag vill tänka på det" gets a reminder a week later instead."""
    if act.decision == THINK:
        await enqueue(db, person, "consent_reminder", delay=REMINDER_DELAY)
        return
    await enqueue(db, person, "consent_changed")
    if after.joint and after.waiting_units:
        # Only a guardian whose yes is still missing somewhere, never the one acting now.
        missing = set().union(*(after.deciders - after.state(u.id).given_by
                                for u in after.waiting_units))
        for guardian_id in missing - {given_by}:
            guardian = await db.get(Person, guardian_id)
            if guardian is not None:
                await enqueue(db, guardian, "consent_waiting")


@dataclass
class HistoryEntry:
    act: ConsentAct
    units: list[Unit]
    actor_name: str
    actor_unit: Unit | None
    given_by_name: str | None
    # The people behind the names: pages name them through `| shown_name`, so a person
    # with protected personal data is not named to another citizen (people.names).
    actor_person: Person | None = None
    given_by: Person | None = None


async def history(db: AsyncSession, person: Person) -> list[HistoryEntry]:
    """Every consent act for the person, newest first, with units and names.

    Five statements whatever the number of acts (actors are looked up together)."""
    acts = (await db.exec(select(ConsentAct).where(ConsentAct.person_id == person.id)
                          .order_by(col(ConsentAct.recorded_at).desc()))).all()
    events = (await db.exec(select(ConsentEvent).where(ConsentEvent.person_id == person.id))).all()
    # Only the units named (a region has hundreds; a person's history names a few).
    named = {e.unit_id for e in events if e.unit_id} | {a.unit_id for a in acts if a.unit_id}
    units = {u.id: u for u in (await db.exec(select(Unit).where(col(Unit.id).in_(named)))).all()}
    by_act: dict[str, list[Unit]] = {}
    for event in sorted(events, key=lambda e: e.seq):
        if event.unit_id:
            by_act.setdefault(event.act_id, []).append(units[event.unit_id])
    staff_ids = {a.actor_id for a in acts if a.actor_type == "staff"}
    person_ids = ({a.actor_id for a in acts if a.actor_type != "staff"}
                  | {a.given_by_id for a in acts if a.given_by_id})
    staff = {s.id: s for s in (await db.exec(select(StaffMember).where(
        col(StaffMember.id).in_(staff_ids)))).all()} if staff_ids else {}
    people = {p.id: p for p in (await db.exec(select(Person).where(
        col(Person.id).in_(person_ids)))).all()} if person_ids else {}
    entries = []
    for act in acts:
        if act.actor_type == "staff":
            actor = staff.get(act.actor_id)
            unit = units.get(act.unit_id or "")
        else:
            actor, unit = people.get(act.actor_id), None
        given_by = people.get(act.given_by_id) if act.given_by_id else None
        entries.append(HistoryEntry(act, by_act.get(act.id, []), actor.name if actor else "", unit,
                                    given_by.name if given_by else None,
                                    actor if act.actor_type != "staff" else None, given_by))
    return entries


async def act_for_person(db: AsyncSession, act_id: str, person_id: str) -> ConsentAct | None:
    act = await db.get(ConsentAct, act_id)
    return act if act is not None and act.person_id == person_id else None


async def wording_shown_to(db: AsyncSession, wording_id: str, person_id: str) -> ConsentWording | None:
    """The text, if this person's log refers to it (otherwise: not found)."""
    used = (await db.exec(select(ConsentAct.id).where(
        ConsentAct.person_id == person_id, ConsentAct.wording_id == wording_id))).first()
    return await db.get(ConsentWording, wording_id) if used else None


async def unit_states(db: AsyncSession, unit_id: str,
                      today_for) -> list[tuple[Person, UnitState]]:
    """Each person the unit works with and the consent state for that unit, by name.

    `today_for(person)` gives each person's own date (`RequestTime.today_for`).
    Three statements whatever the number of people, events or guardians."""
    people = await persons_of_unit(db, unit_id)
    ids = [p.id for p in people]
    if not ids:
        return []
    rows = (await db.exec(
        select(ConsentEvent, ConsentAct).join(ConsentAct, ConsentAct.id == ConsentEvent.act_id)
        .where(col(ConsentEvent.person_id).in_(ids)).order_by(col(ConsentEvent.seq)))).all()
    guardians = await rules.guardians_of(db, ids)
    decisions: dict[str, list] = {}
    for event, act in rows:
        decisions.setdefault(event.person_id, []).append((event, act))
    result = []
    for person in people:
        decide = rules.current_deciders(person, guardians.get(person.id, []), today_for(person))
        states = derive(_as_decisions(decisions.get(person.id, [])), decide)
        result.append((person, states.get(unit_id, UnitState())))
    return result


async def persons_of_unit(db: AsyncSession, unit_id: str) -> list[Person]:
    return list((await db.exec(
        select(Person).join(CareRelation, CareRelation.person_id == Person.id)
        .where(CareRelation.unit_id == unit_id).order_by(Person.family_name, Person.given_name)
    )).all())


async def unit_works_with(db: AsyncSession, unit_id: str, person_id: str) -> bool:
    return (await db.exec(select(CareRelation.id).where(
        CareRelation.unit_id == unit_id, CareRelation.person_id == person_id))).first() is not None
