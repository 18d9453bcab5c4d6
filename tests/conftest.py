"""Shared fixtures: a migrated database per backend, the app, a test client,
a real OIDC login through the development identity provider, and `page`.

The suite runs on SQLite, and on PostgreSQL too when PORTAL_TEST_DATABASE_URL
is set. When it is set but unreachable the PostgreSQL tests fail: a silent
skip in CI proves nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from bs4 import BeautifulSoup
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from portal.app import create_app
from portal.config import Settings
from portal.core.db import make_async_engine, make_sessionmaker
from portal.core.logging import LOG_FORMAT, SingleLineFormatter
from portal.core.migrate import upgrade
from portal.people.demo import STAFF, load_demo
from tests.log_scan import Harvest, report, scan

BASE_URL = "http://testserver.local"
PG_ENV = "PORTAL_TEST_DATABASE_URL"


def _postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    url = make_url(admin_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_ENV = "PORTAL_TEST_REDIS_URL"


def redis_for_tests(who: str) -> str:
    """The Redis URL in PORTAL_TEST_REDIS_URL, checked with a PING (3 s). Skips the test
    ("`who` need Redis") when it is unset (a laptop); fails it when it is set but Redis
    does not answer (CI: a silent skip proves nothing)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{who} need Redis: set {REDIS_ENV} (CI sets it)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"{REDIS_ENV} is set but Redis is unreachable: {exc}")
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "portal.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (CI sets it)")
    for url in _postgres_database(admin):
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def demo_ids(database_url) -> dict[str, str]:
    async def load() -> dict[str, str]:
        engine = make_async_engine(database_url)
        async with make_sessionmaker(engine)() as db:
            # The people without their stories: tests make the consent and plans they
            # need. The stories are tested on a database of their own
            # (tests/people/test_demo_stories.py).
            ids = await load_demo(db, stories=False)
        await engine.dispose()
        return ids

    return asyncio.run(load())


@pytest.fixture(scope="session")
def dev_key_file(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("idp") / "dev-idp-key.json")


@pytest.fixture
def settings(database_url, dev_key_file, demo_ids) -> Settings:
    return Settings(
        base_url=BASE_URL,
        database_url=database_url,
        session_dir=":memory:",
        allowed_hosts=("testserver.local",),
        dev_idp_key_file=dev_key_file,
        login_rate_limit=1000,
    )


def run_db(database_url: str, work, engine_factory=make_async_engine):
    """Run `work(db)` in a fresh async session on the test database."""
    async def go():
        engine = engine_factory(database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                result = await work(db)
                await db.commit()  # services only flush: the request's policy commits
                return result
        finally:
            await engine.dispose()

    return asyncio.run(go())


def build_app(settings: Settings):
    """An app whose OIDC client reaches the development provider in-process."""
    holder: dict = {}

    class LoopbackTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return await httpx.ASGITransport(app=holder["app"]).handle_async_request(request)

    app = create_app(settings, http_transport=LoopbackTransport(), store=MemoryStore())
    holder["app"] = app
    return app


@pytest.fixture
def app(settings):
    return build_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


STAFF_IDS = {given.lower(): employee for employee, given, *_ in STAFF}


def login(client: TestClient, who: str, kind: str | None = None) -> httpx.Response:
    """Log in through the real flow: portal -> provider -> choice -> callback.

    `who` is a demo key ("viola") or a staff first name ("anna").
    Returns the callback response (a redirect to the start page on success).
    """
    if kind is None:
        kind = "staff" if who in STAFF_IDS else "citizen"
    start = client.get(f"/auth/login/{kind}", follow_redirects=False)
    assert start.status_code == 303, start.text
    choice = choose_at_provider(client, start.headers["location"], who)
    callback = choice.headers["location"]
    return client.get(callback, follow_redirects=False)


def choose_at_provider(client: TestClient, authorize_url: str, who: str,
                       action: str | None = None) -> httpx.Response:
    page = client.get(authorize_url)
    assert page.status_code == 200, page.text
    soup = BeautifulSoup(page.text, "html.parser")
    form = soup.select_one('form[action="/dev-idp/authorize"]')
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    if action:
        data["action"] = action
    else:
        buttons = form.select("button[name=who]")
        name = who.lower()
        matches = [b for b in buttons if b.strong.get_text().lower().startswith(name)]
        assert matches, f"{who} is not offered by the provider"
        data["who"] = matches[0]["value"]
    response = client.post("/dev-idp/authorize", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def url(app, name: str, **params) -> str:
    """The path of the route named `name` (the handler's name), as templates' url_for builds it."""
    return app.route_reverse(name, **params)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


class Page:
    """A parsed HTML page with the house checks already made."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.soup = BeautifulSoup(response.text, "html.parser")
        check_page(self.soup)

    def select(self, selector: str):
        return self.soup.select(selector)

    def select_one(self, selector: str):
        return self.soup.select_one(selector)

    def text(self, selector: str = "main") -> str:
        node = self.soup.select_one(selector)
        return " ".join(node.get_text(" ").split()) if node else ""

    @property
    def h1(self) -> str:
        return " ".join(self.soup.h1.get_text(" ").split())

    def csrf(self) -> str:
        return self.soup.select_one('input[name="csrf_token"]')["value"]


def check_page(soup: BeautifulSoup) -> None:
    h1s = soup.find_all("h1")
    assert len(h1s) == 1, f"expected one h1, found {len(h1s)}"
    h1 = " ".join(h1s[0].get_text(" ").split())
    title = " ".join(soup.title.get_text().split())
    assert title.startswith(h1), f"title {title!r} does not start with h1 {h1!r}"
    assert soup.html.get("lang") in {"sv", "sv-FI"}
    ids = [node["id"] for node in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    for script in soup.find_all("script"):
        assert script.get("src"), "inline script"
    assert not soup.find_all(style=True), "inline style"
    for field in soup.select("input:not([type=hidden]), select, textarea"):
        labelled = field.get("aria-label") or (
            field.get("id") and soup.select_one(f'label[for="{field["id"]}"]'))
        assert labelled, f"unlabelled field {field}"
    for node in soup.find_all(attrs={"aria-describedby": True}):
        for ref in node["aria-describedby"].split():
            assert soup.find(id=ref) is not None, f"aria-describedby {ref!r} names nothing: {node}"
    check_error_summary(soup)


FORM_CONTROLS = ("input", "select", "textarea", "button")


def check_error_summary(soup: BeautifulSoup) -> None:
    """Each error summary link goes to a form control, so following it moves focus there.

    A link to a wrapper or to nothing leaves focus on <body>. (A button is a target only
    where the field is a set of buttons, like the citizen's consent decision.)"""
    for link in soup.select(".error-summary a"):
        href = link.get("href", "")
        assert href.startswith("#") and len(href) > 1, f"error link {href!r} is not to this page"
        target = soup.find(id=href[1:])
        assert target is not None, f"error link {href} has no target"
        assert target.name in FORM_CONTROLS and target.get("type") != "hidden", \
            f"error link {href} goes to <{target.name}>, not to an input"


@pytest.fixture
def page(client):
    def get(url: str, status: int = 200, **kwargs) -> Page:
        response = client.get(url, **kwargs)
        assert response.status_code == status, (response.status_code, response.text[:500])
        return Page(response)

    return get


def strip_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


ROOT = Path(__file__).resolve().parent.parent


# Test modules about who may reach what, not about the database: they walk every route for
# many personas and take minutes, so they run on SQLite only. The access layer asks the
# database the same questions on both (the first authorization matrix, the consent, plan
# and audit tests run on PostgreSQL too).
SQLITE_ONLY_MODULES = ("test_acting_matrix.py", "test_protected_identity.py")


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        on_postgres = "[postgresql" in item.nodeid
        (dropped if on_postgres and item.fspath.basename in SQLITE_ONLY_MODULES
         else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# ---------------------------------------------------------------- every log line, scanned

# The levels the app runs its loggers at: "portal" at INFO (portal.core.logging, which
# also keeps httpx, authlib, SQLAlchemy and the drivers at WARNING), "litestar" at INFO
# (Litestar's default logging config), everything else at the root's WARNING.
# tests/core/test_log_scan.py checks these against the loggers of a built app. A test
# that raises a level for itself (caplog at DEBUG) is scanned at the app's level: a
# record the app would not write is not a line in its log.
APP_LOG_LEVELS = {"portal": logging.INFO, "litestar": logging.INFO}


def app_log_level(name: str) -> int:
    """The level the app runs the logger `name` at (APP_LOG_LEVELS; WARNING otherwise)."""
    top = name.split(".", 1)[0]
    return APP_LOG_LEVELS.get(top, logging.WARNING)


class _LogCapture(logging.Handler):
    """Formats every record any logger hands to its handlers with the portal's own
    formatter, and keeps (test, logger, line)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(SingleLineFormatter(LOG_FORMAT))
        self.lines: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        where = os.environ.get("PYTEST_CURRENT_TEST", "outside a test").rsplit(" (", 1)[0]
        try:
            self.lines.append((where, record.name, self.format(record)))
        except Exception:
            self.handleError(record)


def _harvest_store_writes(harvest: Harvest) -> list[tuple[type, Callable]]:
    """Wrap `set` of every store the portal uses so each secret written is remembered."""
    from litestar.stores.file import FileStore
    from litestar.stores.redis import RedisStore

    patched = []
    for store in (MemoryStore, FileStore, RedisStore):
        original = store.set

        async def set_(self, key, value, expires_in=None, _original=original):
            harvest.saw(key, value)
            return await _original(self, key, value, expires_in)

        store.set = set_
        patched.append((store, original))
    return patched


@pytest.fixture(scope="session", autouse=True)
def _every_log_line_is_scanned() -> Iterator[tuple[_LogCapture, Harvest]]:
    """Every log line written during the run (on each xdist worker, its own), formatted
    as the portal formats it, from every logger at the level the app runs it at
    (APP_LOG_LEVELS), is checked at the end for the demo people's ids, names and addresses, JWT-shaped
    tokens, and the session ids, CSRF tokens, login states and authorization codes
    handed out in the run (tests/log_scan.py). A hit fails the run, at the teardown of
    the worker's last test, naming the test and logger, not the secret."""
    capture = _LogCapture()
    # Where every logger passes a record it lets through to its handlers: so records of
    # loggers that do not propagate to the root ("portal", "litestar", whose handlers the
    # app sets, and resets, when it is built) are seen too.
    call_handlers = logging.Logger.callHandlers

    def call_and_capture(self, record, _original=call_handlers):
        if record.levelno >= app_log_level(record.name):
            capture.handle(record)
        _original(self, record)

    logging.Logger.callHandlers = call_and_capture
    harvest = Harvest()
    patched = _harvest_store_writes(harvest)
    yield capture, harvest
    logging.Logger.callHandlers = call_handlers
    for store, original in patched:
        store.set = original
    # That the capture and the harvest see what they should: tests/core/test_log_scan.py.
    hits = scan(capture.lines, harvest.secrets)
    if hits:
        pytest.fail(report(hits), pytrace=False)
