"""The outbox worker killed in the middle of sending a notice.

A real portal process (its outbox worker on) sends a notice to a real SMTP server
(aiosmtpd) that holds the message in DATA: it has the whole message but has not
answered. The process is killed (SIGKILL) while it waits. The server is an MTA that
takes responsibility for a message only by answering 250 on a live connection, so the
held message was never delivered. Started again, the portal sends the notice once:
not zero times, not twice, with the same Message-ID.

What stays at-least-once is documented in portal/notices/outbox.py: a crash after the
250 and before the commit sends the notice again, with the same Message-ID.

Marked slow (it starts a portal process twice: 10-30 s on two busy cores): `make test`
leaves it out, `make faults` runs it with the other fault tests.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from portal.core.migrate import upgrade
from portal.notices import outbox
from portal.notices.models import OutboxMessage
from portal.people.models import Person
from portal.people.national_id import swedish_with_check_digit
from tests.conftest import PG_ENV, _postgres_database, run_db
from tests.faults.servers import requires_postgres
from tests.processes import free_port, launch, portal_env


class MTA:
    """An aiosmtpd handler that delivers a message only when it answers 250 to a client
    that is still connected. While `hold` is set it keeps each message in DATA without
    answering until the client goes away (then the message is dropped, never delivered)."""

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.holding = threading.Event()  # a message is held now
        self.delivered: list = []
        self.dropped: list = []

    async def handle_DATA(self, server, session, envelope):
        if self.hold.is_set():
            self.holding.set()
            try:
                # Until aiosmtpd cancels the handler: the client's connection was lost.
                await asyncio.Event().wait()
            finally:
                self.dropped.append(envelope)
        if server.transport is None or server.transport.is_closing():
            self.dropped.append(envelope)
            return "451 Try again later"
        self.delivered.append(envelope)
        return "250 Message accepted for delivery"


def message_ids(envelopes) -> list[str]:
    """The Message-ID header of each envelope's message."""
    return [message_from_bytes(e.original_content, policy=policy.default)["Message-ID"]
            for e in envelopes]


@pytest.fixture
def database_url():
    requires_postgres()
    for url in _postgres_database(os.environ[PG_ENV]):
        upgrade(url)
        yield url


@pytest.fixture
def mta():
    handler = MTA()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _queue_one_notice(url: str) -> str:
    async def work(db) -> str:
        person = Person(national_id=swedish_with_check_digit("500101901", "19"),
                        given_name="Tw", family_name="Provsson", birth_date=date(1950, 1, 1),
                        country="SE", email="tw@example.invalid")
        db.add(person)
        await db.flush()
        return outbox.enqueue_to(db, person, "consent_changed", outbox.EMAIL).id

    return run_db(url, work)


def _row(url: str, row_id: str) -> OutboxMessage:
    async def work(db):
        return (await db.exec(select(OutboxMessage).where(OutboxMessage.id == row_id))).one()

    return run_db(url, work)


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:.0f} s", pytrace=False)
        time.sleep(0.05)


@pytest.mark.slow  # two starts of a real portal process: `make faults` runs it
def test_a_worker_killed_while_the_server_holds_the_message_sends_it_once(
        database_url, mta, tmp_path):
    handler, smtp_port = mta
    row_id = _queue_one_notice(database_url)
    (tmp_path / "sessions").mkdir()
    env = portal_env(tmp_path, free_port(), database_url=database_url,
                     extra={"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(smtp_port),
                            "PORTAL_OUTBOX_WORKER": "1"})
    handler.hold.set()
    portal = launch(env, tmp_path / "portal-1.log")
    try:
        portal.wait_healthy()  # its worker's first round starts at once
        _wait(handler.holding.is_set, 20, "the worker did not send the notice")
        portal.kill()
        _wait(lambda: handler.dropped, 10, "the server did not see the client go away")
        assert handler.delivered == []
        row = _row(database_url, row_id)
        assert row.sent_at is None and row.attempts == 0  # the kill undid nothing stored

        handler.hold.clear()
        killed = portal
        portal = launch(env, tmp_path / "portal-2.log")
        portal.wait_healthy()
        _wait(lambda: _row(database_url, row_id).sent_at is not None, 20,
              "the notice was not sent after the restart")
        time.sleep(0.5)  # a second send would come now, in the same round
    finally:
        portal.stop()
    expected = f"<{row_id}@127.0.0.1>"
    assert message_ids(handler.dropped) == [expected]
    assert message_ids(handler.delivered) == [expected]
    assert _row(database_url, row_id).attempts == 1
    killed.assert_clean_log()
    portal.assert_clean_log()
