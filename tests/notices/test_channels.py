"""Notices by e-mail and SMS: one row per chosen channel, delivered through a real SMTP
server and a local server speaking 46elks' API; outages delay notices and lose none,
several workers send each once, and no notice carries personal data."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.core.ids import utcnow
from portal.notices import outbox
from portal.notices.models import OutboxMessage
from portal.people.demo import PEOPLE
from portal.people.models import Person, StaffMember, Unit
from tests.consent.helpers import act_for, consent_form, outbox_of, sign_in
from tests.factories import Who, db_run, decide_directly, family, new_person, unit_ids
from tests.notices.test_outbox import assert_machine_mail_headers, body_of

VC = "se-kalmar-vc"


_GIVEN: set[str] = set()


def mobile() -> str:
    """A fresh Swedish mobile number in E.164 (070-17406xx is set aside for fiction), never
    one given before in this process: two people sharing a random number made one of them
    seem to get two SMS (1 000 numbers, a few hundred draws per run)."""
    while True:
        number = f"+46701740{random.randint(600, 699)}{random.randint(0, 9)}"
        if number not in _GIVEN:
            _GIVEN.add(number)
            return number


def reachable(client, who: Who, *, email: bool = True, sms: bool = True) -> str:
    """Give `who` a mobile number and the channels; return the number."""
    number = mobile()

    async def work(db):
        person = await db.get(Person, who.id)
        person.phone, person.notify_email, person.notify_sms = number, email, sms
        db.add(person)

    db_run(client, work)
    return number


def deliver(client, later: timedelta = timedelta(0), monkeypatch=None) -> int:
    settings = client.app.state.settings
    if later:
        monkeypatch.setattr(outbox, "utcnow", lambda: utcnow() + later)
    try:
        return db_run(client, lambda db: outbox.deliver_due(db, settings))
    finally:
        if later:
            monkeypatch.setattr(outbox, "utcnow", utcnow)


def drain(client, monkeypatch=None) -> None:
    """Send, or give up on, what earlier tests left due."""
    async def work(db):
        for row in (await db.exec(select(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None)))).all():
            row.attempts = outbox.MAX_ATTEMPTS
            db.add(row)

    db_run(client, work)


@pytest.mark.parametrize(("notify_email", "has_email", "notify_sms", "has_phone", "provider",
                          "channels"), [
    (True, True, False, False, False, ["email"]),
    (True, True, True, True, True, ["email", "sms"]),
    (False, True, True, True, True, ["sms"]),
    (True, True, True, True, False, ["email"]),  # no SMS provider: no SMS row
    (True, False, True, False, True, []),  # chose both, reachable on neither
    (False, True, False, True, True, []),  # chose none
    (True, True, True, False, True, ["email"]),
])
def test_one_row_per_chosen_channel(client, notify_email, has_email, notify_sms, has_phone,
                                    provider, channels):
    person = Person(national_id="x", given_name="A", family_name="B", birth_date=utcnow().date(),
                    country="SE", email="a@example.invalid" if has_email else None,
                    phone=mobile() if has_phone else None, notify_email=notify_email,
                    notify_sms=notify_sms)

    async def work(db):
        db.info["sms_enabled"] = provider
        rows = await outbox.enqueue(db, person, "message_answered")
        db.expunge_all()
        return rows

    rows = db_run(client, work)
    assert [row.channel for row in rows] == channels
    assert all(row.to_address is None and row.template == "message_answered" for row in rows)


def test_a_notice_arrives_by_e_mail_and_by_sms(notice_client, smtp, sms_server):
    client = notice_client
    smtp.start()
    drain(client)
    person = new_person(client, units=(VC,))
    number = reachable(client, person)
    decide_directly(client, person.id, "give", (VC,))
    assert deliver(client) == 2
    [mail] = smtp.inbox.to(person.email)
    assert mail["Subject"] == "Något har ändrats i SIP-portalen"
    assert_machine_mail_headers(mail)
    [text] = sms_server.to(number)
    assert text.sender == "SIPportal"
    assert text.message == "SIP-portalen: Något har ändrats om samtycke. Logga in för att se vad."
    rows = outbox_of(client, person.id)
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
    assert deliver(client) == 0
    assert len(sms_server.to(number)) == 1 and len(smtp.inbox.to(person.email)) == 1


def test_a_finnish_person_gets_the_sms_in_finland_swedish(notice_client, smtp, sms_server):
    client = notice_client
    smtp.start()
    drain(client)
    person = new_person(client, country="FI", units=("fi-vasa-hs",))
    number = reachable(client, person, email=False)

    async def work(db):
        await outbox.enqueue(db, await db.get(Person, person.id), "contact_changed")

    db_run(client, work)
    assert deliver(client) == 1
    [text] = sms_server.to(number)
    assert text.message.startswith("SIP-portalen: Dina kontaktuppgifter har ändrats.")
    assert [r.locale for r in outbox_of(client, person.id)] == ["sv_FI"]


def test_each_server_down_for_a_while_delays_notices_and_loses_none(notice_client, smtp,
                                                                    sms_server, monkeypatch):
    client = notice_client
    drain(client)
    sms_server.down = True  # and SMTP is not started: nothing listens on its port
    people = [new_person(client, units=(VC,)) for _ in range(3)]
    numbers = {p.id: reachable(client, p) for p in people}
    for person in people:
        decide_directly(client, person.id, "give", (VC,))
    later = timedelta(0)
    for _ in range(4):  # a few rounds of the worker while both are down
        later += timedelta(minutes=20)
        assert deliver(client, later, monkeypatch) == 0
    for person in people:
        rows = outbox_of(client, person.id)
        assert len(rows) == 2 and all(r.sent_at is None and r.attempts >= 2 for r in rows)
        assert all(r.last_error and person.email not in r.last_error for r in rows)
        assert all(numbers[person.id] not in r.last_error for r in rows)
    assert sms_server.refused >= 3

    smtp.start()  # e-mail back first: the SMS wait on
    later += timedelta(hours=1)
    assert deliver(client, later, monkeypatch) == 3
    assert all(len(smtp.inbox.to(p.email)) == 1 for p in people)
    assert sms_server.received == []

    sms_server.down = False
    sent = 0
    for _ in range(6):  # rounds until nothing is left (a round may meet a passing hiccup)
        later += timedelta(hours=1)
        sent += deliver(client, later, monkeypatch)
    assert sent == 3
    for person in people:
        assert len(smtp.inbox.to(person.email)) == 1
        assert len(sms_server.to(numbers[person.id])) == 1
        assert all(r.sent_at is not None for r in outbox_of(client, person.id))


def test_a_number_the_provider_refuses_is_not_tried_again(notice_client, smtp, sms_server):
    client = notice_client
    smtp.start()
    drain(client)
    person = new_person(client, units=(VC,), email=False)
    reachable(client, person)

    async def work(db):
        row = outbox.enqueue_to(db, await db.get(Person, person.id), "contact_changed",
                                outbox.SMS, to_address="0701234567")  # not E.164: a 400
        return row.id

    db_run(client, work)
    assert deliver(client) == 0
    [row] = outbox_of(client, person.id)
    assert row.sent_at is None and row.attempts == outbox.MAX_ATTEMPTS
    assert row.last_error == "rejected: HTTP 400"


def test_the_backoff_grows_to_an_hour_and_gives_up_after_about_three_days():
    assert outbox.backoff(1) == timedelta(minutes=1)
    assert outbox.backoff(3) == timedelta(minutes=4)
    assert outbox.backoff(7) == timedelta(hours=1)
    assert outbox.backoff(70) == timedelta(hours=1)
    total = sum((outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)), timedelta(0))
    assert timedelta(days=2) < total < timedelta(days=5)


def test_a_notice_to_staff_goes_to_their_e_mail(notice_client, smtp):
    client = notice_client
    smtp.start()
    drain(client)

    async def work(db):
        staff = (await db.exec(select(StaffMember).where(StaffMember.email.is_not(None)))).first()
        row = await outbox.enqueue_staff(db, staff, "follow_up_overdue")
        return staff.email, row.person_id

    address, person_id = db_run(client, work)
    assert person_id is None
    assert deliver(client) == 1
    mails = smtp.inbox.to(address)
    assert mails[-1]["Subject"] == "En uppföljning har inte blivit av"
    assert "se din inkorg" in body_of(mails[-1])


@pytest.mark.postgres
def test_two_workers_at_once_send_each_notice_once(notice_client, smtp, sms_server):
    client = notice_client
    if client.app.state.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite has no row locks (SKIP LOCKED): one worker per database there")
    smtp.start()
    drain(client)
    people = [new_person(client, units=(VC,)) for _ in range(6)]
    numbers = [reachable(client, p) for p in people]
    for person in people:
        decide_directly(client, person.id, "give", (VC,))
    settings = client.app.state.settings
    maker = client.app.state.sessionmaker

    async def worker():
        async with maker() as db:
            return await outbox.deliver_due(db, settings)

    async def both():
        return await asyncio.gather(worker(), worker(), worker())

    counts = client.blocking_portal.call(both)
    assert sum(counts) == 12
    for person, number in zip(people, numbers, strict=True):
        assert len(smtp.inbox.to(person.email)) == 1
        assert len(sms_server.to(number)) == 1


# --- no personal data -----------------------------------------------------------------


def sensitive_words(client, *extra: Who) -> list[str]:
    """Every demo person's and the given people's names, national ids (several writings),
    e-mail and phone, and every unit's name and phone."""
    async def work(db):
        words = []
        for unit in (await db.exec(select(Unit))).all():
            words += [unit.name, unit.phone or ""]
        people = list((await db.exec(select(Person).where(
            Person.national_id.in_([p[3] for p in PEOPLE.values()])))).all())
        people += [await db.get(Person, who.id) for who in extra]
        for person in people:
            number = person.national_id
            words += [person.given_name, person.family_name, number,
                      number[2:], person.email or "", person.phone or ""]
            if len(number) == 12:
                words += [f"{number[2:8]}-{number[8:]}", f"{number[:8]}-{number[8:]}"]
            if person.phone:
                words += [person.phone[3:], "0" + person.phone[3:]]
        for staff in (await db.exec(select(StaffMember))).all():
            words += [staff.given_name, staff.family_name, staff.email or "", staff.phone or ""]
        return [w for w in words if w and len(w) > 2]

    return db_run(client, work)


def assert_no_personal_data(text: str, words: list[str]) -> None:
    for word in words:
        assert word.lower() not in text.lower(), word
    assert not re.search(r"\d{6}[-+A]?\d{3}", text), "something like a national id"
    assert not re.search(r"\+?\d[\d -]{7,}\d", text), "something like a phone number"


def test_no_template_in_either_variant_carries_personal_data(client, settings):
    words = sensitive_words(client)
    assert "Viola" in words and "Kalmar vårdcentral" in words
    for template in outbox.TEMPLATES:
        assert template in outbox.SMS_TEXTS, template
        for locale in ("sv", "sv_FI"):
            row = OutboxMessage(person_id="p", template=template, locale=locale)
            email = outbox.render(row, "a@example.invalid", settings)
            body = email.get_content()
            assert_no_personal_data(str(email["Subject"]) + "\n" + body.replace(
                settings.base_url, ""), words)
            text = outbox.render_sms(row)
            assert_no_personal_data(text, words)
            assert text.startswith("SIP-portalen: ") and len(text) <= 160, (template, locale)
    assert set(outbox.SMS_TEXTS) == set(outbox.TEMPLATES)


def test_the_notices_of_a_real_consent_say_nothing_personal(notice_client, smtp, sms_server):
    """A guardian gives consent for a child through the pages; the other guardian is asked
    to answer by e-mail and SMS; nothing in either names anyone or anything."""
    client = notice_client
    smtp.start()
    drain(client)
    child, (mother, father) = family(client, units=(VC,))
    father_number = reachable(client, father)
    mother_number = reachable(client, mother)
    sign_in(client, mother)
    act_for(client, lambda url: page_of(client, url), child.id)
    form = consent_form(page_of(client, "/samtycke"))
    response = client.post("/samtycke", data={**form, "decision": "give",
                                              "unit": unit_ids(client, VC)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert deliver(client) >= 2
    [mail] = smtp.inbox.to(father.email)
    [text] = sms_server.to(father_number)
    assert text.message.startswith("SIP-portalen: En fråga om samtycke väntar på ditt svar.")
    words = sensitive_words(client, child, mother, father)
    assert_no_personal_data(str(mail["Subject"]) + "\n" + body_of(mail).replace(
        client.app.state.settings.base_url, ""), words)
    assert_no_personal_data(text.message, words)
    assert sms_server.to(mother_number) == []  # she answered; the child has no address


def page_of(client, url: str):
    from tests.conftest import Page

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return Page(response)
