"""Write audit events in the caller's transaction, hash-chained per person.

Each row stores sha256(previous_hash || canonical_row) for its chain (the
person the event is about, or "system"); `verify_chains` reports the first
broken link. Database triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, insert, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.models import AuditEvent
from portal.core.ids import utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did something: the signed-in person or staff member, and in which role."""

    type: str  # person, staff, system
    id: str | None = None
    role: str | None = None
    unit_id: str | None = None


SYSTEM = Actor("system")


@dataclass(frozen=True)
class Read:
    """An access-log write a page made (`note_read`): portal.core.page_cache records it
    again, the same way, when it sends the kept page instead of running the handler."""

    write: Callable[..., Awaitable[object]]  # record or record_many
    args: tuple
    kwargs: dict

    async def again(self, session: AsyncSession) -> None:
        await self.write(session, *self.args, **self.kwargs)


_reads: ContextVar[list[Read] | None] = ContextVar("portal_page_reads", default=None)
_quiet: ContextVar[bool] = ContextVar("portal_page_reads_quiet", default=False)


@contextmanager
def collecting_reads(quiet: bool = False) -> Iterator[list[Read]]:
    """The `Read`s noted while the block runs (a page handler), in order. `quiet`: they
    are only noted, not written (portal.core.page_cache: the same unchanged page was
    recorded for this session a moment ago)."""
    collected: list[Read] = []
    token, quiet_token = _reads.set(collected), _quiet.set(quiet)
    try:
        yield collected
    finally:
        _reads.reset(token)
        _quiet.reset(quiet_token)


def reads_are_quiet() -> bool:
    """Whether access-log reads are only to be noted now (see `collecting_reads`)."""
    return _quiet.get()


def note_read(write: Callable[..., Awaitable[object]], *args: object, **kwargs: object) -> None:
    """Note an access-log write made (or, quiet, due) for a page (no-op outside
    `collecting_reads`)."""
    collected = _reads.get()
    if collected is not None:
        collected.append(Read(write, args, kwargs))


def canonical(event: AuditEvent) -> str:
    return json.dumps(
        {
            # In UTC: PostgreSQL returns timestamptz in the session's time zone.
            "at": event.at.astimezone(UTC).isoformat(),
            "action": event.action,
            "actor_type": event.actor_type,
            "actor_id": event.actor_id,
            "role": event.role,
            "unit_id": event.unit_id,
            "on_behalf_of": event.on_behalf_of,
            "subject_person_id": event.subject_person_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
            "chain": event.chain,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


async def record(
    session: AsyncSession,
    action: str,
    actor: Actor,
    *,
    subject_person_id: str | None = None,
    on_behalf_of: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (the caller commits)."""
    chain = subject_person_id or "system"
    if session.bind.dialect.name == "postgresql":
        # Serialise writers of one chain so two events never share a parent.
        await session.exec(text("SELECT pg_advisory_xact_lock(hashtextextended(:c, 0))"),
                           params={"c": chain})
    elif session.bind.dialect.name == "sqlite":
        # SQLite starts a transaction only at the first write: take the database's
        # write lock before reading the chain's last hash (the statement changes nothing).
        await session.exec(text("UPDATE audit_event SET id = id WHERE 0"))
    last = (
        await session.exec(
            select(AuditEvent.hash).where(AuditEvent.chain == chain)
            .order_by(col(AuditEvent.id).desc()).limit(1)
        )
    ).first()
    event = AuditEvent(
        at=utcnow(),
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        role=actor.role,
        unit_id=actor.unit_id,
        on_behalf_of=on_behalf_of,
        subject_person_id=subject_person_id,
        object_type=object_type,
        object_id=object_id,
        detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
        chain=chain,
        prev_hash=last or GENESIS,
        hash="",
    )
    event.hash = chain_hash(event.prev_hash, event)
    session.add(event)
    await session.flush()
    return event


async def record_many(session: AsyncSession, action: str, actor: Actor,
                      subjects: list[tuple[str, str | None, str | None]]) -> None:
    """One event per (subject person id, object type, object id), e.g. a list page
    that shows many people. Three statements whatever the number of people: lock
    the chains (sorted, so two writers never deadlock), read each chain's last hash,
    insert all. Added to the caller's transaction."""
    if not subjects:
        return
    note_read(record_many, action, actor, subjects)
    if reads_are_quiet():
        return
    chains = sorted({person_id for person_id, _, _ in subjects})
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        await session.exec(text(
            "SELECT pg_advisory_xact_lock(hashtextextended(c, 0)) "
            "FROM (SELECT unnest(CAST(:chains AS text[])) AS c ORDER BY 1) AS ordered"),
            params={"chains": chains})
    elif dialect == "sqlite":
        await session.exec(text("UPDATE audit_event SET id = id WHERE 0"))
    newest = (select(func.max(AuditEvent.id)).where(col(AuditEvent.chain).in_(chains))
              .group_by(AuditEvent.chain))
    last = dict((await session.exec(select(AuditEvent.chain, AuditEvent.hash).where(
        col(AuditEvent.id).in_(newest)))).all())
    at = utcnow()
    rows = []
    for person_id, object_type, object_id in subjects:
        event = AuditEvent(at=at, action=action, actor_type=actor.type, actor_id=actor.id,
                           role=actor.role, unit_id=actor.unit_id, on_behalf_of=None,
                           subject_person_id=person_id, object_type=object_type,
                           object_id=object_id, detail="{}", chain=person_id,
                           prev_hash=last.get(person_id, GENESIS), hash="")
        event.hash = chain_hash(event.prev_hash, event)
        last[person_id] = event.hash
        rows.append({column: getattr(event, column) for column in _INSERTED})
    # One executemany, in this order (the ids then follow the chains' order).
    await session.execute(insert(AuditEvent), rows)


_INSERTED = ("at", "action", "actor_type", "actor_id", "role", "unit_id", "on_behalf_of",
             "subject_person_id", "object_type", "object_id", "detail", "chain", "prev_hash",
             "hash")


async def verify_chains(session: AsyncSession) -> list[str]:
    """Return a description of the first broken link in each broken chain."""
    rows = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
    last: dict[str, str] = {}
    broken: dict[str, str] = {}
    for event in rows:
        if event.chain in broken:
            continue
        expected_prev = last.get(event.chain, GENESIS)
        if event.prev_hash != expected_prev or event.hash != chain_hash(expected_prev, event):
            broken[event.chain] = f"audit event {event.id} in chain {event.chain}"
            continue
        last[event.chain] = event.hash
    return list(broken.values())
