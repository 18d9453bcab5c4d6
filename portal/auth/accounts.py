"""From verified ID-token claims to a person or staff member; login audit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from litestar.stores.base import Store
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.auth.oidc import ACCEPTED_ACR, FI_ID_CLAIM, SE_ID_CLAIM, LoginError
from portal.auth.viewer import Viewer
from portal.people import national_id
from portal.people.models import LoginIdentity, Person, StaffMember, Unit


class UnknownStaff(Exception):
    pass


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

    if SE_ID_CLAIM in claims:
        country, raw = "SE", claims[SE_ID_CLAIM]
    elif FI_ID_CLAIM in claims:
        country, raw = "FI", claims[FI_ID_CLAIM]
    else:
        raise LoginError("no national id claim")
    try:
        number = national_id.normalise(str(raw), country)
    except national_id.NationalIdError:
        raise LoginError("malformed national id claim") from None
    person = (await db.exec(select(Person).where(Person.national_id == number))).first()
    if person is None:
        person = Person(
            national_id=number,
            given_name=str(claims.get("given_name") or "")[:100],
            family_name=str(claims.get("family_name") or "")[:100],
            birth_date=national_id.birth_date(number, country),
            country=country,
        )
        db.add(person)
        await db.flush()
        await record(db, "person.created_at_login", Actor("system"),
                     subject_person_id=person.id, object_type="person", object_id=person.id)
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
        detail={"assurance": ACCEPTED_ACR.get(acr, "unknown")},
    )


async def record_logout(db: AsyncSession, viewer: Viewer) -> None:
    await record(db, "auth.logout", viewer.actor(),
                 subject_person_id=viewer.person.id if viewer.person else None)


class RateLimiter:
    """At most `limit` hits per key within `window` seconds of the key's first hit.

    The window starts at the first hit (not at a calendar minute), so a burst
    cannot double its allowance by straddling a minute boundary.
    """

    def __init__(self, store: Store, limit: int, window: int = 60) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    async def allow(self, key: str) -> bool:
        bucket = f"ratelimit:{key}"
        now = time.time()
        raw = await self.store.get(bucket)
        started, count = (json.loads(raw) if raw else (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        count += 1
        left = max(1, int(self.window - (now - started)))
        await self.store.set(bucket, json.dumps([started, count]), expires_in=left)
        return count <= self.limit
