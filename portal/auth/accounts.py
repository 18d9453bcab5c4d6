"""From verified ID-token claims to a person or staff member; login audit.

A person is found by the national id (personnummer, samordningsnummer or
personbeteckning) and created at first login; nobody is created or kept
without both names.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.auth.assurance import level
from portal.auth.oidc import FI_ID_CLAIM, SE_COORDINATION_CLAIM, SE_ID_CLAIM, LoginError
from portal.auth.viewer import Viewer
from portal.people import national_id
from portal.people.models import LoginIdentity, Person, StaffMember, Unit


class UnknownStaff(Exception):
    pass


class NoNationalId(LoginError):
    """The claims hold no personnummer, samordningsnummer or personbeteckning."""


class NoName(LoginError):
    """Neither the ID token nor userinfo gave the person's given and family name."""


# Which claim, in which order, gives the national id (Sweden's profile sends a
# samordningsnummer in its own claim, only when there is no personnummer).
NATIONAL_ID_CLAIMS = ((SE_ID_CLAIM, "SE"), (SE_COORDINATION_CLAIM, "SE"), (FI_ID_CLAIM, "FI"))


def national_id_from(claims: dict) -> tuple[str, str]:
    """(normalised number, country 'SE'/'FI') from the first national id claim present.

    Raises NoNationalId without one, LoginError for a malformed one."""
    for claim, country in NATIONAL_ID_CLAIMS:
        raw = claims.get(claim)
        if raw:
            try:
                return national_id.normalise(str(raw), country), country
            except national_id.NationalIdError:
                raise LoginError("malformed national id claim") from None
    raise NoNationalId("no national id claim")


def names_from(claims: dict) -> tuple[str, str]:
    """(given, family) stripped and cut to the column size; '' where a claim is missing."""
    def one(name: str) -> str:
        value = claims.get(name)
        return value.strip()[:100] if isinstance(value, str) else ""

    return one("given_name"), one("family_name")


@dataclass(frozen=True)
class LoggedIn:
    kind: str  # person or staff
    id: str
    unit_id: str | None = None


async def _identity(db: AsyncSession, issuer: str, subject: str) -> LoginIdentity | None:
    return (await db.exec(select(LoginIdentity).where(
        LoginIdentity.issuer == issuer, LoginIdentity.subject == subject))).first()


async def user_from_claims(db: AsyncSession, kind: str, issuer: str, claims: dict) -> LoggedIn:
    subject = str(claims["sub"])
    identity = await _identity(db, issuer, subject)
    if kind == "staff":
        employee_id = claims.get("employee_id")
        if not employee_id:
            raise LoginError("staff token without employee id")
        staff = (await db.exec(select(StaffMember).where(
            StaffMember.employee_id == employee_id))).first()
        unit = await db.get(Unit, staff.unit_id) if staff else None
        if staff is None or unit is None or unit.code != claims.get("unit"):
            raise UnknownStaff()
        if identity is None:
            db.add(LoginIdentity(issuer=issuer, subject=subject, staff_id=staff.id))
        elif identity.staff_id != staff.id:
            raise LoginError("subject bound to another user")
        return LoggedIn("staff", staff.id, staff.unit_id)

    number, country = national_id_from(claims)
    given, family = names_from(claims)
    person = (await db.exec(select(Person).where(Person.national_id == number))).first()
    if person is None:
        if not (given and family):
            raise NoName("no name for a new person")
        person = Person(
            national_id=number,
            given_name=given,
            family_name=family,
            birth_date=national_id.birth_date(number, country),
            country=country,
        )
        db.add(person)
        await db.flush()
        await record(db, "person.created_at_login", Actor("system"),
                     subject_person_id=person.id, object_type="person", object_id=person.id)
    elif not (person.given_name.strip() and person.family_name.strip()):
        # Created without a name by an earlier version: mend it, or refuse.
        if not (given and family):
            raise NoName("no name for a person stored without one")
        person.given_name, person.family_name = given, family
        db.add(person)
    if identity is None:
        db.add(LoginIdentity(issuer=issuer, subject=subject, person_id=person.id))
    elif identity.person_id != person.id:
        raise LoginError("subject bound to another person")
    return LoggedIn("person", person.id)


async def record_login(db: AsyncSession, user: LoggedIn, acr: str, reauth: bool) -> None:
    actor = Actor(user.kind, user.id, "staff" if user.kind == "staff" else "self", user.unit_id)
    await record(
        db, "auth.reauthenticated" if reauth else "auth.login", actor,
        subject_person_id=user.id if user.kind == "person" else None,
        detail={"assurance": level(acr)},
    )


async def record_logout(db: AsyncSession, viewer: Viewer) -> None:
    await record(db, "auth.logout", viewer.actor(),
                 subject_person_id=viewer.person.id if viewer.person else None)


class RateLimiter:
    """At most `limit` hits per key within `window` seconds of the key's first hit.

    The window starts at the first hit (not at a calendar minute), so a burst
    cannot double its allowance by straddling a minute boundary. Counting is atomic:
    in Redis one MULTI (SET NX EX, then INCR) whatever the number of app instances;
    in a process-local store (development, tests) under the store's lock. Without it,
    two hits at once read the same count and a burst got past the limit.
    """

    def __init__(self, store: Store, limit: int, window: int = 60) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    async def allow(self, key: str) -> bool:
        bucket = f"ratelimit:{key}"
        if isinstance(self.store, RedisStore):
            name = self.store._make_key(bucket)  # the store's own namespace
            async with self.store._redis.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, ex=self.window, nx=True)
                pipe.incr(name)
                _, count = await pipe.execute()
            return count <= self.limit
        async with _lock_for(self.store):
            now = time.time()
            raw = await self.store.get(bucket)
            started, count = (json.loads(raw) if raw else (now, 0))
            if now - started >= self.window:
                started, count = now, 0
            count += 1
            left = max(1, int(self.window - (now - started)))
            await self.store.set(bucket, json.dumps([started, count]), expires_in=left)
        return count <= self.limit


# One lock per process-local store and event loop (a lock belongs to one loop).
_LOCKS: dict[tuple[int, int], asyncio.Lock] = {}


def _lock_for(store: Store) -> asyncio.Lock:
    key = (id(store), id(asyncio.get_running_loop()))
    if key not in _LOCKS:
        if len(_LOCKS) > 256:  # stores and loops of apps gone (tests make many)
            _LOCKS.clear()
        _LOCKS[key] = asyncio.Lock()
    return _LOCKS[key]
