"""Read the change counters that database triggers keep (portal/migrations/data_versions.py).

    stamp = await versions(db, ["site", person_scope(person.id)])   # (3, 41)

A scope's counter grows with every committed change of a row that concerns it: "p:<id>"
a person, "u:<id>" a unit's inbox, "site" the units, staff and wordings shown on many
pages. A scope never changed has version 0. One indexed statement however many scopes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, String, select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

SITE = "site"


class DataVersion(SQLModel, table=True):
    """One counter per scope (created and counted by triggers, never by the app)."""

    __tablename__ = "data_version"
    scope: str = Field(sa_column=Column(String(40), primary_key=True))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


def person_scope(person_id: str) -> str:
    return f"p:{person_id}"


def unit_scope(unit_id: str) -> str:
    return f"u:{unit_id}"


async def versions(db: AsyncSession, scopes: Sequence[str]) -> tuple[int, ...]:
    """The counters of `scopes`, in their order (0 for a scope never changed): what was
    committed when the statement ran. One statement (primary-key lookups)."""
    found = dict((await db.exec(select(DataVersion.scope, DataVersion.version).where(
        col(DataVersion.scope).in_(scopes)))).all())
    return tuple(found.get(scope, 0) for scope in scopes)
