"""Two portal processes behind one address behave as one service.

As in production (README, "Production topology"): one PostgreSQL database migrated once
(`python -m portal migrate`, as a release does), the demo people loaded, then two
`python -m portal serve` processes on their own ports, sharing that database, one Redis
database (sessions, login state, the development provider's codes, rate limits), the
public address (PORTAL_BASE_URL) and an SMTP server (aiosmtpd). Each runs its outbox
worker. The test is the load balancer: `Balancer` sends each request to the instance it
is told to, with the public Host, so the same cookies, forms and redirects are used on
both. (The instances' own back-channel calls to the development provider go to the
public address, here instance A's port.)

PostgreSQL and Redis only: skipped without PORTAL_TEST_DATABASE_URL and
PORTAL_TEST_REDIS_URL, failed when they are set and unreachable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlmodel import col, select

from portal.notices.models import OutboxMessage
from portal.notices.outbox import EMAIL, enqueue_to
from portal.people.models import Person
from tests.conftest import PG_ENV, _postgres_database, choose_at_provider, redis_for_tests, run_db
from tests.processes import Mailbox, Server, free_port, launch, portal_env, run_command

# More than two rounds of one worker (outbox.deliver_due sends at most 50 a round, and a
# worker waits OUTBOX_INTERVAL seconds between rounds): the other worker has a round while
# rows are left, so both send.
NOTICES = 150
OUTBOX_INTERVAL = 1.0
SENDERS = {"a": "instance-a@sip-portal.invalid", "b": "instance-b@sip-portal.invalid"}


class Balancer(httpx.HTTPTransport):
    """Sends each request to the instance named by `to` ("a" or "b"), keeping the URL's
    Host header (the public address), as a load balancer in front of both would."""

    def __init__(self, ports: dict[str, int]) -> None:
        super().__init__()
        self.ports = ports
        self.to = "a"
        self.served: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=self.ports[self.to])
        self.served.append(self.to)
        return super().handle_request(request)


def _redis_url() -> str:
    return redis_for_tests("Two instances")


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[tuple[dict[str, Server], Mailbox, str]]:
    """Instances "a" and "b", the Mailbox both send to, and the database URL."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"two instances need PostgreSQL: set {PG_ENV} (CI sets it)")
    redis_url = _redis_url()
    mailbox = Mailbox().start()
    try:
        for database_url in _postgres_database(admin):
            ports = {"a": free_port(), "b": free_port()}
            public = f"http://127.0.0.1:{ports['a']}"
            (tmp_path / "sessions").mkdir()
            envs = {name: portal_env(tmp_path, port, database_url=database_url, redis_url=redis_url,
                                     base_url=public, mailbox=mailbox,
                                     extra={"PORTAL_MAIL_FROM": SENDERS[name],
                                            "PORTAL_OUTBOX_INTERVAL": str(OUTBOX_INTERVAL)})
                    for name, port in ports.items()}
            run_command(["migrate"], envs["a"])  # once per release, before the instances start
            servers = {name: launch(env, tmp_path / f"{name}.log") for name, env in envs.items()}
            try:
                run_command(["demo", "--people-only"], envs["a"])
                for server in servers.values():
                    server.wait_healthy()
                yield servers, mailbox, database_url
            finally:
                for server in servers.values():
                    server.stop()
            for server in servers.values():
                server.assert_clean_log()
    finally:
        mailbox.stop()


def _form(html: str, selector: str) -> dict:
    form = BeautifulSoup(html, "html.parser").select_one(selector)
    assert form is not None, f"no {selector} on the page"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def _units_offered(html: str) -> list[str]:
    return [i["value"] for i in BeautifulSoup(html, "html.parser")
            .select("form#form-field input[name=unit]")]


def _log_in_across(client: httpx.Client, balancer: Balancer, who: str) -> None:
    """The OIDC login with its steps on alternate instances: the login state (state,
    nonce, PKCE verifier) and the provider's code must be shared to succeed."""
    balancer.to = "a"
    start = client.get("/auth/login/citizen")
    assert start.status_code == 303, start.text
    balancer.to = "b"
    callback = choose_at_provider(client, start.headers["location"], who).headers["location"]
    balancer.to = "a"
    done = client.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/", done.text[:500]


def _signed_in_and_consenting(client: httpx.Client, balancer: Balancer) -> None:
    # (a) Logged in through A and B; the session is valid on B.
    _log_in_across(client, balancer, "viola")
    balancer.to = "b"
    assert "Hej Viola!" in client.get("/").text

    # A form shown by A is posted through B: same session, CSRF token valid.
    balancer.to = "a"
    shown = client.get("/samtycke")
    assert shown.status_code == 200
    units = _units_offered(shown.text)
    assert len(units) >= 2, units
    balancer.to = "b"
    given = client.post("/samtycke", data={**_form(shown.text, "form#form-field"),
                                           "decision": "give", "unit": [units[0]]})
    assert given.status_code == 303, given.text[:800]
    assert given.headers["location"].startswith("/samtycke/kvitto/")

    # (b) Consent given through A is seen on B on the next request.
    shown = client.get("/samtycke")
    balancer.to = "a"
    given = client.post("/samtycke", data={**_form(shown.text, "form#form-field"),
                                           "decision": "give", "unit": [units[1]]})
    assert given.status_code == 303, given.text[:800]
    balancer.to = "b"
    assert client.get(given.headers["location"]).status_code == 200
    state = BeautifulSoup(client.get("/samtycke").text, "html.parser")
    tags = [t.get_text(strip=True) for t in state.select(".consent-state .summary-list__row .tag")]
    assert tags == ["Ja", "Ja"], tags

    # Logged out through B means logged out on A too.
    csrf = BeautifulSoup(client.get("/").text, "html.parser").select_one('input[name="csrf_token"]')
    assert client.post("/auth/logout", data={"csrf_token": csrf["value"]}).status_code == 303
    balancer.to = "a"
    assert "Hej Viola!" not in client.get("/").text


def _enqueue_many(database_url: str) -> int:
    async def work(db) -> int:
        people = (await db.exec(select(Person).where(col(Person.email).is_not(None)))).all()
        assert len(people) >= 5
        for n in range(NOTICES):
            enqueue_to(db, people[n % len(people)], "consent_changed", EMAIL)
        return NOTICES

    return run_db(database_url, work)


def _outbox(database_url: str) -> list[OutboxMessage]:
    async def work(db):
        return list((await db.exec(select(OutboxMessage).where(OutboxMessage.channel == EMAIL))).all())

    return run_db(database_url, work)


def _each_notice_arrives_once(servers: dict[str, Server], mailbox: Mailbox, database_url: str) -> None:
    # (c) Many notices, sent by both instances' workers together, each exactly once.
    _enqueue_many(database_url)
    deadline = time.monotonic() + 20
    while True:
        rows = _outbox(database_url)
        if rows and all(r.sent_at is not None for r in rows):
            break
        assert time.monotonic() < deadline, (
            f"{sum(r.sent_at is None for r in rows)} of {len(rows)} notices unsent after 20 s")
        time.sleep(0.25)
    time.sleep(1.0)  # a second sender of the same row would have sent it by now
    for server in servers.values():
        server.assert_running()

    ids = [m["Message-ID"] for m in mailbox.messages()]
    expected = {f"<{r.id}@127.0.0.1>" for r in rows}
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"{len(duplicates)} notices arrived more than once"
    assert set(ids) == expected and len(rows) >= NOTICES
    senders = {e.mail_from for e in mailbox.received}
    assert senders == set(SENDERS.values()), f"only {senders} sent: the other worker did not take part"


def test_two_instances_behind_one_address_are_one_service(topology) -> None:
    servers, mailbox, database_url = topology
    # Each answers its health check (what a container engine or balancer asks) with the
    # public Host, on its own port.
    for server in servers.values():
        run_command(["health"], server.env)
    balancer = Balancer({name: server.port for name, server in servers.items()})
    public = servers["a"].env["PORTAL_BASE_URL"]
    with httpx.Client(base_url=public, transport=balancer, timeout=10) as client:
        _signed_in_and_consenting(client, balancer)
    assert set(balancer.served) == {"a", "b"}
    _each_notice_arrives_once(servers, mailbox, database_url)
