"""Notices by e-mail: the outbox delivered over real SMTP (aiosmtpd on 127.0.0.1).

A notice says only that something changed: no unit, no name, no national id.
An SMTP outage loses nothing: the row stays unsent and is delivered later.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from portal.core.ids import utcnow
from portal.notices import outbox
from portal.notices.models import OutboxMessage
from portal.people.models import Person, Unit
from tests.conftest import BASE_URL, Page, build_app
from tests.consent.helpers import consent_form, outbox_of, sign_in
from tests.factories import db_run, decide_directly, family, new_person, unit_ids
from tests.notices.servers import Inbox, SMTPServer  # noqa: F401


@pytest.fixture
def mail_client(settings, smtp):
    app = build_app(settings.with_(smtp_host="127.0.0.1", smtp_port=smtp.port))
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


def deliver(client, later: timedelta = timedelta(0), monkeypatch=None) -> int:
    settings = client.app.state.settings
    if later and monkeypatch is not None:
        monkeypatch.setattr(outbox, "utcnow", lambda: utcnow() + later)
    try:
        return db_run(client, lambda db: outbox.deliver_due(db, settings))
    finally:
        if monkeypatch is not None:
            monkeypatch.setattr(outbox, "utcnow", utcnow)


def drain(client) -> None:
    """Send what other tests left due, so the next round holds only this test's notices."""
    for _ in range(50):
        if deliver(client) == 0:
            return


def forbidden_words(client, *people_ids: str) -> list[str]:
    async def work(db):
        words = [u.name for u in (await db.exec(select(Unit))).all()]
        for person_id in people_ids:
            person = await db.get(Person, person_id)
            number = person.national_id
            words += [person.given_name, person.family_name, number, number[2:],
                      f"{number[2:8]}-{number[8:]}", f"{number[:8]}-{number[8:]}"]
        return words

    return db_run(client, work)


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def assert_says_nothing_sensitive(message, words: list[str]) -> None:
    everything = str(message["Subject"]) + "\n" + body_of(message)
    for word in words:
        assert word not in everything, word
    assert not re.search(r"\d{6}[-+A]?\d{3}", everything), "something like a national id"


def test_a_consent_notice_reaches_the_person_and_says_nothing_sensitive(mail_client, smtp):
    client = mail_client
    smtp.start()
    drain(client)
    smtp.inbox.envelopes.clear()
    person = new_person(client, units=("se-kalmar-vc",))
    sign_in(client, person)
    form = consent_form(page_of(client, "/samtycke"))
    response = client.post("/samtycke", data={**form, "decision": "give",
                                              "unit": unit_ids(client, "se-kalmar-vc")},
                           follow_redirects=False)
    assert response.status_code == 303
    assert deliver(client) >= 1
    [message] = smtp.inbox.to(person.email)
    assert message["To"] == person.email
    assert message["From"] == client.app.state.settings.mail_from
    assert message["Subject"] == "Något har ändrats i SIP-portalen"
    body = body_of(message)
    assert "Logga in för att se vad som har hänt." in body
    assert "Svar till den här adressen läses inte." in body
    assert f"Du når SIP-portalen på {BASE_URL}/" in body
    assert_machine_mail_headers(message)
    assert_says_nothing_sensitive(message, forbidden_words(client, person.id))
    [row] = outbox_of(client, person.id)
    assert row.sent_at is not None and row.attempts == 1 and row.template == "consent_changed"
    assert deliver(client) == 0  # sent once, never again
    assert len(smtp.inbox.to(person.email)) == 1


def assert_machine_mail_headers(message) -> None:
    """Date (RFC 5322 3.6.1), Message-ID (3.6.4) on the portal's host, Auto-Submitted (RFC 3834)."""
    assert message.get_all("Date") and len(message.get_all("Date")) == 1
    sent = parsedate_to_datetime(message["Date"])
    assert sent.tzinfo is not None and sent.utcoffset() == timedelta(0)
    assert abs(sent - utcnow()) < timedelta(minutes=5)
    assert len(message.get_all("Message-ID")) == 1
    host = urlsplit(BASE_URL).hostname
    assert re.fullmatch(rf"<[A-Za-z0-9_.-]+@{re.escape(host)}>", message["Message-ID"].strip())
    assert message["Auto-Submitted"] == "auto-generated"


def test_the_other_guardian_is_asked_to_answer(mail_client, smtp):
    client = mail_client
    smtp.start()
    drain(client)
    child, (mother, father) = family(client)
    decide_directly(client, child.id, "give", ("se-kalmar-vc",), actor_id=mother.id,
                    role="guardian", given_by=mother.id)
    deliver(client)
    [message] = smtp.inbox.to(father.email)
    assert message["Subject"] == "Du behöver svara i SIP-portalen"
    assert "väntar på ditt svar" in body_of(message)
    assert "Svar till den här adressen läses inte." in body_of(message)
    assert_machine_mail_headers(message)
    assert_says_nothing_sensitive(message, forbidden_words(client, child.id, mother.id,
                                                          father.id))
    assert smtp.inbox.to(mother.email) == []  # she has answered; the child has no e-mail


def test_an_smtp_outage_keeps_the_notice_and_it_is_sent_when_the_server_is_back(
        mail_client, smtp, monkeypatch):
    client = mail_client
    smtp.start()
    drain(client)
    smtp.stop()  # nothing listens on the port now
    person = new_person(client, units=("se-kalmar-vc",))
    decide_directly(client, person.id, "give", ("se-kalmar-vc",))
    assert deliver(client) == 0
    [row] = outbox_of(client, person.id)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error and person.email not in row.last_error
    assert row.next_attempt_at > utcnow()  # backed off
    assert deliver(client) == 0  # not due yet
    assert outbox_of(client, person.id)[0].attempts == 1

    smtp.start()
    assert deliver(client, later=timedelta(minutes=5), monkeypatch=monkeypatch) >= 1
    [row] = outbox_of(client, person.id)
    assert row.sent_at is not None and row.attempts == 2
    [message] = smtp.inbox.to(person.email)
    assert message["Subject"] == "Något har ändrats i SIP-portalen"
    assert_machine_mail_headers(message)
    assert message["Message-ID"] == f"<{row.id}@{urlsplit(BASE_URL).hostname}>"  # as on try 1
    # Later rounds never send it again (tests/faults has the worker killed mid-send).
    deliver(client, later=timedelta(hours=2), monkeypatch=monkeypatch)
    assert len(smtp.inbox.to(person.email)) == 1


def test_every_notice_in_both_variants_has_the_headers_and_says_replies_are_not_read(settings):
    for template in outbox.TEMPLATES:
        for locale in ("sv", "sv_FI"):
            row = OutboxMessage(person_id="p", template=template, locale=locale)
            message = message_from_bytes(outbox.render(row, "a@example.se", settings).as_bytes(),
                                         policy=policy.default)
            assert_machine_mail_headers(message)
            body = body_of(message)
            assert "Svar till den här adressen läses inte." in body, (template, locale)
            assert f"{settings.base_url}/" in body


def test_a_person_without_e_mail_gets_no_row(client):
    person = new_person(client, units=("se-kalmar-vc",), email=False)
    decide_directly(client, person.id, "give", ("se-kalmar-vc",))
    assert outbox_of(client, person.id) == []


def page_of(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200
    return Page(response)
