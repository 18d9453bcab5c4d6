"""Database engines and sessions.

One URL configures everything: `sqlite:///path` or `postgresql://...`.
The app uses an async engine; Alembic and commands use a sync one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import create_engine
from sqlmodel.ext.asyncio.session import AsyncSession


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)  # stored in UTC: SQLite keeps no zone

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg"}:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername.startswith("sqlite"):
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return url


def async_url(url: str) -> str:
    parsed = make_url(sync_url(url))
    if parsed.drivername == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# Seconds to wait for PostgreSQL to accept a new connection (it takes milliseconds; the
# least psycopg allows is 2). Without it, a database host that is down without refusing
# (a failover, a dropped route) holds each request for minutes; with it the request
# gets the plain 503 page (core.errors). pool_pre_ping replaces a pooled connection that
# a restart has cut, so the first request after a restart is not lost.
DB_CONNECT_TIMEOUT = 3


def _connect_args(url: str) -> dict:
    if make_url(sync_url(url)).drivername == "postgresql+psycopg":
        return {"connect_timeout": DB_CONNECT_TIMEOUT}
    return {}


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url), pool_pre_ping=True, hide_parameters=True,
                           connect_args=_connect_args(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(url: str) -> AsyncEngine:
    # hide_parameters: error messages never carry a national id or a message text.
    engine = create_async_engine(async_url(url), pool_pre_ping=True, hide_parameters=True,
                                 connect_args=_connect_args(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session


def now() -> datetime:
    return datetime.now(UTC)
