"""Database engines and sessions.

One URL configures everything: `sqlite:///path` or `postgresql://...`.
The app uses an async engine; Alembic and commands use a sync one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import event, exc
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
# gets the plain 503 page (core.errors). A pooled connection that a restart has cut is
# replaced before use (_ping_idle_connections), so the first request after a restart
# is not lost.
DB_CONNECT_TIMEOUT = 3

# Seconds a pooled connection may have rested before it is pinged at checkout.
PING_AFTER_IDLE = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, but only for a connection that has rested in the
    pool for PING_AFTER_IDLE seconds or more: pre_ping's round trip (a SELECT 1) on every
    checkout cost each request as much as its own query. A connection given back less
    than a second ago was alive then; one cut within that second is a request met by
    the outage itself, which answers the plain 503 and has SQLAlchemy replace every
    pooled connection (a disconnect invalidates the pool), as a failed ping does here
    (InvalidatePoolError: the pool then connects anew, or raises as on any connect).
    New connections are not pinged (pool_pre_ping's rule too)."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection, record) -> None:
        record.info["rested_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy) -> None:
        rested_from = record.info.get("rested_from")
        if rested_from is None or time.monotonic() - rested_from < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(str(error)) from error


def _connect_args(url: str) -> dict:
    if make_url(sync_url(url)).drivername == "postgresql+psycopg":
        return {"connect_timeout": DB_CONNECT_TIMEOUT}
    return {}


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url), hide_parameters=True,
                           connect_args=_connect_args(url))
    _ping_idle_connections(engine)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(url: str) -> AsyncEngine:
    # hide_parameters: error messages never carry a national id or a message text.
    engine = create_async_engine(async_url(url), hide_parameters=True,
                                 connect_args=_connect_args(url))
    _ping_idle_connections(engine.sync_engine)
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
