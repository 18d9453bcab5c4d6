"""create_app(): the one place where everything is wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import httpx
from litestar import Litestar, Request
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit import routes as audit_routes
from portal.auth import routes as auth_routes
from portal.auth.accounts import RateLimiter
from portal.auth.oidc import OIDCProvider
from portal.auth.sessions import SessionMiddleware
from portal.config import Settings, get_settings
from portal.consent import routes as consent_routes
from portal.coordination import routes as coordination_routes
from portal.coordination import staff_routes as coordination_staff_routes
from portal.core import assets, csp_report, errors
from portal.core.clock import Clock, RequestTime
from portal.core.db import make_async_engine, make_sessionmaker
from portal.core.logging import configure_logging
from portal.core.page_cache import PageCache
from portal.core.paths import ValidPathParams
from portal.core.security import (
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    check_csrf,
    commit_before_sending,
)
from portal.core.templating import make_engine
from portal.fhir import api as fhir_api
from portal.inbox import routes as inbox_routes
from portal.messages import routes as message_routes
from portal.my_data import routes as my_data_routes
from portal.notices import routes as notice_routes
from portal.people import representation
from portal.people import representatives as representative_routes
from portal.people import routes as people_routes
from portal.plans import routes as plan_routes
from portal.plans import staff_routes as plan_staff_routes
from portal.site import routes as site_routes
from portal.staff import routes as staff_routes

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("portal")


# Seconds to wait for Redis to accept a connection or answer one command (it answers in
# well under a millisecond): a hung Redis gives the plain 503 page (core.errors), not a
# hung request. Set here because redis-py's own default has been "wait forever".
REDIS_TIMEOUT = 2.0


def make_store(settings: Settings) -> Store:
    """Where sessions, login state and rate limits live: Redis (settings.redis_url, with
    REDIS_TIMEOUT), else files in settings.session_dir, or memory for ":memory:"."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore
        from redis.asyncio import ConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        # One retry, on a new connection, when a pooled one turns out dead: after a Redis
        # restart or failover every idle connection in the pool is closed, and without
        # it the first request on each would fail (503) although Redis is back. A hung
        # Redis (a timeout) is not retried: the request gets the 503 page in REDIS_TIMEOUT.
        pool = ConnectionPool.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT,
                                       socket_connect_timeout=REDIS_TIMEOUT,
                                       retry=Retry(NoBackoff(), 1),
                                       retry_on_error=[RedisConnectionError])
        return RedisStore(Redis(connection_pool=pool), namespace="sip",
                          handle_client_shutdown=True)
    if settings.session_dir == ":memory:":
        return MemoryStore()
    return FileStore(path=Path(settings.session_dir), create_directories=True)


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host header carries the port; accept each name with and without it."""
    if "*" in settings.allowed_hosts:
        return ["*"]
    hosts = {httpx.URL(settings.base_url).netloc.decode()}
    for host in settings.allowed_hosts:
        hosts.add(host)
        if ":" not in host:
            hosts.add(f"{host}:{settings.port}")
    return sorted(hosts)


def create_app(settings: Settings | None = None, *,
               http_transport: httpx.AsyncBaseTransport | None = None,
               store: Store | None = None, clock: Clock | None = None) -> Litestar:
    settings = (settings or get_settings()).check()
    configure_logging()
    representation.configure(settings.age_rules)
    clock = clock or Clock()
    engine = make_async_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    sessionmaker.configure(info={"sms_enabled": settings.sms_enabled})  # portal.notices.outbox
    store = store or make_store(settings)
    providers = {
        "citizen": OIDCProvider(settings.client("citizen"), http_transport),
        "staff": OIDCProvider(settings.client("staff"), http_transport),
    }
    rate_limiter = RateLimiter(store, settings.login_rate_limit)
    csp_rate_limiter = RateLimiter(store, csp_report.REPORT_RATE_LIMIT)

    def provide_db(request: Request) -> AsyncSession:
        """The request's one session (opened, committed and closed by the middleware)."""
        return request.scope["state"]["db"]

    def provide_time(request: Request) -> RequestTime:
        return request.scope["state"]["time"]

    def provide_settings() -> Settings:
        return settings

    def provide_providers() -> dict[str, OIDCProvider]:
        return providers

    def provide_rate_limiter() -> RateLimiter:
        return rate_limiter

    def provide_csp_rate_limiter() -> RateLimiter:
        return csp_rate_limiter

    route_handlers: list = [
        *site_routes.route_handlers,
        *auth_routes.route_handlers,
        *people_routes.route_handlers,
        *representative_routes.route_handlers,
        *consent_routes.route_handlers,
        *coordination_routes.route_handlers,
        *plan_routes.route_handlers,
        *plan_staff_routes.route_handlers,
        *staff_routes.route_handlers,
        *message_routes.route_handlers,
        *inbox_routes.route_handlers,
        *coordination_staff_routes.route_handlers,
        *notice_routes.route_handlers,
        *audit_routes.route_handlers,
        *my_data_routes.route_handlers,
        *assets.route_handlers,
        *csp_report.route_handlers,
        *fhir_api.route_handlers,
    ]
    if settings.dev_idp:
        from portal.auth.dev_idp import DevProvider, make_router

        route_handlers.append(make_router(DevProvider(settings, store)))

    worker: dict = {}

    async def start_outbox_worker() -> None:
        if settings.outbox_worker and (settings.smtp_host or settings.sms_enabled):
            from portal.notices.outbox import run_worker

            worker["task"] = asyncio.create_task(run_worker(sessionmaker, settings,
                                                               interval=settings.outbox_interval))

    async def dispose_engine() -> None:
        task = worker.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.dispose()

    page_cache = PageCache(settings.page_cache_seconds, settings.page_cache_entries,
                           settings.access_log_repeat)
    hosts = allowed_hosts(settings)
    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "time": Provide(provide_time, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "providers": Provide(provide_providers, sync_to_thread=False),
            "rate_limiter": Provide(provide_rate_limiter, sync_to_thread=False),
            "csp_rate_limiter": Provide(provide_csp_rate_limiter, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(SecurityHeadersMiddleware, settings=settings),
            DefineMiddleware(SessionMiddleware, settings=settings, store=store),
            DefineMiddleware(RequestContextMiddleware, settings=settings,
                             sessionmaker=sessionmaker, clock=clock, page_cache=page_cache),
            ValidPathParams,  # path ids and numbers checked once, before any handler
        ],
        before_request=check_csrf,
        exception_handlers=errors.handlers,
        after_request=commit_before_sending,
        # Templates change with a release, not under a running production process.
        template_config=TemplateConfig(instance=make_engine(auto_reload=not settings.production)),
        allowed_hosts=AllowedHostsConfig(allowed_hosts=hosts) if hosts != ["*"] else None,
        # Pages: brotli (quality 5, fast) or gzip, from 1 KB up; static files come
        # compressed at the best quality once (portal.core.assets).
        compression_config=CompressionConfig(backend="brotli", brotli_gzip_fallback=True,
                                             minimum_size=1024, exclude="^/static/"),
        request_max_body_size=256 * 1024,
        on_startup=[start_outbox_worker],
        on_shutdown=[dispose_engine],
        openapi_config=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.assets = assets.Assets(STATIC_DIR)
    app.state.sessionmaker = sessionmaker
    app.state.store = store
    app.state.providers = providers
    app.state.clock = clock
    app.state.page_cache = page_cache
    return app
