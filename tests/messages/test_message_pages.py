"""The plan's "Skicka en fråga" links, and statements per message page: a ceiling, and
no growth with the number of messages (3 against 30)."""

from __future__ import annotations

from portal.audit.service import Actor
from portal.consent.forms import new_key
from portal.core.ids import utcnow
from portal.messages import services
from portal.messages.models import Thread
from portal.people.models import Person, Unit
from tests.consent.helpers import act_for, sign_in
from tests.core.test_query_counts import counting
from tests.factories import SOC, VC, db_run, new_person, person_with_consent, represent, staff_named
from tests.messages.helpers import as_staff, ask, thread_id_of
from tests.plans.helpers import ensure_plan, publish, save
from tests.shared_app import app, client, module_client, settings  # noqa: F401

CEILING = {
    "/meddelanden": 4,  # viewer, threads with units and "Nytt svar"
    "thread": 9,  # viewer, thread, mark seen, messages, authors (2), unit
    "proxy /meddelanden": 8,  # + the right, and the access log (lock, last hash, insert)
    "proxy thread": 13,
    "staff thread": 14,  # viewer, thread, person, access log (3), mark read, messages,
                         # colleagues, notes, authors (2)
}


def test_the_plan_offers_a_question_to_the_coordinator_and_staff_contacts(client, page):
    person = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    anna, vc = staff_named(client, "Anna")
    maria, soc = staff_named(client, "Maria")
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "coordinator", {"coordinator_id": anna})
    save(client, page, person.id, "contact_add", {"name": "Maria Ek", "role": "Handläggare"})
    save(client, page, person.id, "contact_add", {"name": "Doktor Okänd", "role": "Läkare"})
    publish(client, page, person.id)
    client.cookies.clear()
    sign_in(client, person)
    plan = page("/plan")
    links = [a["href"] for a in plan.select("a") if "Skicka en fråga" in a.get_text()]
    assert links == [f"/meddelanden/ny?till={vc}&kontakt={anna}",
                     f"/meddelanden/ny?till={soc}&kontakt={maria}"]
    chosen = page(links[1])
    assert chosen.select_one("input[name=recipient][checked]")["value"] == f"{soc}.{maria}"
    reader = new_person(client, prefix="Tr")
    represent(client, reader, person, "proxy", scope="plan:read")
    client.cookies.clear()
    sign_in(client, reader)
    act_for(client, page, person.id)
    assert "Skicka en fråga" not in page("/plan").text()


def _add_messages(client, thread_id: str, count: int) -> None:
    anna, _ = staff_named(client, "Anna")

    async def work(db):
        thread = await db.get(Thread, thread_id)
        person = await db.get(Person, thread.person_id)
        unit = await db.get(Unit, thread.unit_id)
        for n in range(count):
            actor = Actor("staff", anna, "staff", unit.id) if n % 2 else Actor("person", person.id, "self")
            await services.post(db, thread, person=person, unit=unit, body=f"Meddelande {n}",
                                actor=actor, key=new_key(), now=utcnow())

    db_run(client, work)


def _measure(client, app, url: str) -> tuple[int, int]:
    with counting(app) as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counted.statements, counted.checkouts


def _counts(client, page, app, person, proxy, thread_id) -> dict[str, int]:
    found = {}
    client.cookies.clear()
    sign_in(client, person)
    found["/meddelanden"] = _measure(client, app, "/meddelanden")
    found["thread"] = _measure(client, app, f"/meddelanden/{thread_id}")
    client.cookies.clear()
    sign_in(client, proxy)
    act_for(client, page, person.id)
    found["proxy /meddelanden"] = _measure(client, app, "/meddelanden")
    found["proxy thread"] = _measure(client, app, f"/meddelanden/{thread_id}")
    as_staff(client, "Anna")
    found["staff thread"] = _measure(client, app, f"/personal/meddelanden/{thread_id}")
    return found


def test_message_pages_use_one_session_and_do_not_grow_with_messages(client, page, app):
    person = new_person(client, units=(VC, SOC), prefix="Qm")
    proxy = new_person(client, prefix="Qp")
    represent(client, proxy, person, "proxy")
    sign_in(client, person)
    _anna, vc = staff_named(client, "Anna")
    thread_id = thread_id_of(ask(client, page, recipient=vc, body="Första")[0])
    ask(client, page, subject="En till", body="Andra")
    _add_messages(client, thread_id, 2)  # 3 messages
    before = _counts(client, page, app, person, proxy, thread_id)
    for name, (statements, checkouts) in before.items():
        assert checkouts == 1, (name, before)
        assert statements <= CEILING[name], (name, statements, before)
    _add_messages(client, thread_id, 27)  # 30 messages
    for _ in range(3):
        client.cookies.clear()
        sign_in(client, person)
        ask(client, page, subject=f"Fler {new_key()}", body="Fler trådar")
    after = _counts(client, page, app, person, proxy, thread_id)
    grown = {n: (before[n][0], after[n][0]) for n in before if after[n][0] > before[n][0]}
    assert not grown, f"statements grew with the messages: {grown}"
