"""PostgreSQL restarted while a person keeps giving and withdrawing consent.

A private PostgreSQL (tests.faults.servers) is restarted twice under a stream of consent
posts made as the form sends them (each with its own idempotency key): once with
`pg_ctl restart -m fast`, once stopped immediately (as in a crash) and started again a
few seconds later. Every post that got a receipt is stored exactly once; every other
post got the plain "nothing was saved" page (503); the person sends the same form again
(as the page asks), and once the database is back it is stored once, under the same
idempotency key; a form refused and never sent again stored nothing. The app, never
restarted, serves again as soon as the database is back.

Honest limit: if PostgreSQL commits and the connection breaks before the answer comes
back, the app cannot know and answers 503 for something stored. The idempotency key
makes the person's retry safe (the receipt of the stored act, not a second act), which
is why the test sends refused forms again rather than asserting on them alone.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlencode

import psycopg
import pytest
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.orm.session import Session as SyncSession

from portal.audit.service import Actor
from portal.config import Settings
from portal.consent.models import ConsentAct
from portal.consent.services import scoped_key
from portal.core.db import DB_CONNECT_TIMEOUT, PING_AFTER_IDLE
from portal.core.migrate import upgrade
from portal.people.demo import load_demo
from tests.conftest import BASE_URL, Page, build_app, run_db
from tests.consent.helpers import consent_form, sign_in, withdraw_forms
from tests.core.test_error_pages import assert_plain, loopback_app
from tests.factories import db_run, new_person
from tests.faults.servers import PrivatePostgres, requires_postgres

DOWN_H1 = "Tjänsten fungerar inte just nu"
UNITS = ("se-kalmar-vc", "se-kalmar-soc")
# An authorization request the development provider answers by looking people up.
AUTHORIZE = urlencode({
    "client_id": "portal-citizen", "redirect_uri": f"{BASE_URL}/auth/callback/citizen",
    "response_type": "code", "scope": "openid", "state": "s" * 22, "nonce": "n" * 22,
    "code_challenge": "x" * 43, "code_challenge_method": "S256"})


@pytest.fixture(scope="module")
def private_postgres():
    requires_postgres()
    server = PrivatePostgres()
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE portal")
        url = server.url.rsplit("/", 1)[0] + "/portal"
        upgrade(url)

        run_db(url, lambda db: load_demo(db, stories=False))
        yield server, url
    finally:
        server.close()


@pytest.fixture
def client(private_postgres, dev_key_file):
    _, url = private_postgres
    settings = Settings(base_url=BASE_URL, database_url=url, session_dir=":memory:",
                        allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                        login_rate_limit=100_000)
    with TestClient(build_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


def _acts_of(person_id: str):
    async def stored(db) -> list[tuple[str, str]]:
        """(stored idempotency key, act id) of each consent act of the person."""
        rows = (await db.exec(select(ConsentAct).where(ConsentAct.person_id == person_id)
                              .order_by(col(ConsentAct.recorded_at)))).all()
        return [(row.idempotency_key, row.id) for row in rows]

    return stored


def _next_form(page: Page) -> dict:
    """The form a person sends next on /samtycke: withdraw when something is given (the
    first withdraw form), else give to every unit offered."""
    forms = withdraw_forms(page)
    if forms:
        return forms[0]
    return {**consent_form(page), "decision": "give",
            "unit": [b["value"] for b in page.select("form#form-field input[name=unit]")]}


def test_restarts_during_consent_posts_lose_nothing_and_invent_nothing(client,
                                                                       private_postgres):
    server, _ = private_postgres
    person = new_person(client, units=UNITS)
    sign_in(client, person)
    assert "idempotency_key" in consent_form(Page(client.get("/samtycke")))

    restarts_done = threading.Event()
    failures: list[BaseException] = []

    def restart() -> None:
        try:
            time.sleep(0.8)
            server.restart_fast()
            time.sleep(0.8)
            server.stop_immediately()
            time.sleep(3)  # a few seconds with no database at all
            server.start()
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)
        finally:
            restarts_done.set()

    saved: dict[str, str] = {}  # idempotency key -> the receipt's act id
    refused: set[str] = set()  # keys of posts answered "nothing was saved"
    pages_refused = after_restarts = 0
    form = None
    thread = threading.Thread(target=restart)
    thread.start()
    deadline = time.monotonic() + 40
    while after_restarts < 3:
        assert time.monotonic() < deadline, "the app did not recover after the restarts"
        done = restarts_done.is_set()
        if form is None:
            opened = client.get("/samtycke")
            if opened.status_code != 200:
                assert_plain(opened, 503, DOWN_H1)
                pages_refused += 1
                time.sleep(0.05)
                continue
            form = _next_form(Page(opened))
        key = form["idempotency_key"]
        response = client.post("/samtycke", data=form, follow_redirects=False)
        if response.status_code == 303:
            location = response.headers["location"]
            assert location.startswith("/samtycke/kvitto/"), location
            assert key not in saved
            saved[key] = location.rsplit("/", 1)[1]
            form = None
            after_restarts += done
            continue
        # Anything but a receipt is the plain page: no 500, no trace, nothing saved.
        page = assert_plain(response, 503, DOWN_H1)
        assert "Ingenting har sparats. Försök igen om en stund." in page.text()
        refused.add(key)
        # The person sends the same form again (same key), as after "try again later".
        time.sleep(0.05)
    thread.join()
    assert not failures, failures

    async def stored(db):
        rows = (await db.exec(select(ConsentAct).where(ConsentAct.person_id == person.id)
                              .order_by(col(ConsentAct.recorded_at)))).all()
        return [(row.idempotency_key, row.id) for row in rows]


    acts = db_run(client, stored)
    keys = [key for key, _ in acts]
    assert len(keys) == len(set(keys))
    # Each receipt is exactly one stored act, and every stored act had a receipt.
    actor = Actor("person", person.id, "self")
    assert dict(acts) == {scoped_key(actor, person.id, key): act for key, act in saved.items()}
    # A refused form never sent again successfully stored nothing. (One sent again
    # after the database returned is stored once, under its receipt, above.)
    assert not {scoped_key(actor, person.id, key) for key in refused - saved.keys()} & set(keys)
    # The outage was real: posts met it, and were saved once the database was back.
    assert refused & saved.keys()
    assert len(saved) >= 4


def test_a_quiet_restart_costs_nobody_an_error(client, private_postgres):
    """A restart while nobody is using the portal cuts every pooled connection; the next
    request finds its connection rested (PING_AFTER_IDLE), pings it, and gets a new one:
    a page, not the 503 (it is, without the ping)."""
    server, _ = private_postgres
    person = new_person(client, units=UNITS)
    sign_in(client, person)
    assert client.get("/samtycke").status_code == 200
    server.restart_fast()
    time.sleep(PING_AFTER_IDLE + 0.2)
    assert client.get("/samtycke").status_code == 200
    assert client.get("/plan").status_code == 200


def test_a_post_whose_commit_is_cut_off_says_nothing_was_saved(client):
    """The connection dies at the very commit of a consent post (the server ends the
    backend, as a restart or a failover does): the answer is the 503 page, not a receipt,
    and nothing is stored; the same form sent again is stored once."""
    person = new_person(client, units=UNITS)
    sign_in(client, person)
    form = _next_form(Page(client.get("/samtycke")))
    armed = {"on": True}

    def cut_off(session) -> None:
        if armed.pop("on", False):
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(SyncSession, "before_commit", cut_off)
    try:
        response = client.post("/samtycke", data=form, follow_redirects=False)
    finally:
        event.remove(SyncSession, "before_commit", cut_off)
    assert not armed, "the commit was never reached"
    assert_plain(response, 503, DOWN_H1)
    assert db_run(client, _acts_of(person.id)) == []

    again = client.post("/samtycke", data=form, follow_redirects=False)
    assert again.status_code == 303, again.text[:300]
    assert len(db_run(client, _acts_of(person.id))) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_that_accepts_but_never_answers_gives_the_plain_page_in_seconds(settings):
    """A PostgreSQL host that takes the connection and says nothing (hung, or half of a
    failover): the request waits DB_CONNECT_TIMEOUT, then gets the plain 503 page."""
    requires_postgres()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/portal"
        app = loopback_app(settings.with_(database_url=url), MemoryStore())
        answers: list = []
        with TestClient(app, base_url=BASE_URL) as hung_client:
            def ask() -> None:
                started = time.monotonic()
                answers.append((hung_client.get(f"/dev-idp/authorize?{AUTHORIZE}"),
                                time.monotonic() - started))

            asking = threading.Thread(target=ask, daemon=True)
            asking.start()
            asking.join(timeout=DB_CONNECT_TIMEOUT + 10)
            assert answers, "the request still waits for the database"
    response, waited = answers[0]
    assert DB_CONNECT_TIMEOUT - 0.5 < waited < DB_CONNECT_TIMEOUT + 5, waited
    page = assert_plain(response, 503, DOWN_H1)
    assert "Ingenting har sparats. Försök igen om en stund." in page.text()
