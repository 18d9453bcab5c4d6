"""Who sees which request and thread in the inbox, and who may open and handle a request."""

from __future__ import annotations

from tests.factories import db_run, new_person
from tests.inbox.helpers import SOC, VASA_HS, VC, as_staff, form_data, inbox_rows, send_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def _thread(client, person_id: str, code: str, subject: str):
    from sqlmodel import select

    from portal.audit.service import Actor
    from portal.consent.forms import new_key
    from portal.messages import services as messages
    from portal.people.models import Person, Unit

    async def work(db):
        person = await db.get(Person, person_id)
        unit = (await db.exec(select(Unit).where(Unit.code == code))).one()
        return await messages.start_thread(db, person=person, unit=unit, subject=subject,
                                           body="Hej, när kommer hemtjänsten?",
                                           actor=Actor("person", person.id, "self"),
                                           key=new_key(), now=client.app.state.clock.now())

    return db_run(client, work)


def test_a_unit_sees_only_requests_and_threads_addressed_to_it(client, page):
    person = new_person(client, units=(VC, SOC), prefix="Ia")
    found = send_request(client, person.id, VC)
    thread = _thread(client, person.id, VC, "Fråga om tider")
    as_staff(client, "Anna")
    rows = [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]
    assert any(found.reference in r for r in rows)
    assert any("Fråga om tider" in r for r in rows)
    assert page(f"/personal/arenden/{found.id}").h1 == f"Ärende {found.reference}"

    # Maria's unit works with the person, without consent, and the request is not to it.
    as_staff(client, "Maria")
    assert not [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]
    assert client.get(f"/personal/arenden/{found.id}").status_code == 404
    # A made-up id looks the same.
    assert client.get("/personal/arenden/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert thread.unit_id  # the thread stays Anna's unit's

    # Staff in Finland see nothing.
    as_staff(client, "Johanna")
    assert not [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]
    assert client.get(f"/personal/arenden/{found.id}").status_code == 404


def test_staff_without_consent_see_a_request_once_it_is_addressed_to_them(client, page):
    person = new_person(client, units=(VC, SOC), prefix="Ib")
    to_vc = send_request(client, person.id, VC)
    as_staff(client, "Maria")
    assert client.get(f"/personal/arenden/{to_vc.id}").status_code == 404
    other = new_person(client, units=(VC, SOC), prefix="Ic")
    to_soc = send_request(client, other.id, VC, SOC)
    rows = [r for r in inbox_rows(page("/personal/inkorg")) if other.name in r]
    assert len(rows) == 1 and to_soc.reference in rows[0]
    shown = page(f"/personal/arenden/{to_soc.id}")
    assert other.name in shown.text()
    # No more about the person than the request: no national id, no plan or consent links.
    assert other.national_id not in shown.response.text
    assert "Se samtycke" not in shown.text()


def test_citizens_cannot_open_the_staff_pages(client, page):
    person = new_person(client, units=(VC,), prefix="Id")
    found = send_request(client, person.id, VC)
    from tests.consent.helpers import sign_in

    client.cookies.clear()
    sign_in(client, person)
    assert client.get("/personal/inkorg").status_code == 403
    assert client.get(f"/personal/arenden/{found.id}").status_code == 403


def test_finnish_unit_sees_a_finnish_request(client, page):
    person = new_person(client, country="FI", units=(VASA_HS,), prefix="Ie")
    found = send_request(client, person.id, VASA_HS)
    as_staff(client, "Johanna")
    rows = [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]
    assert rows and found.reference in rows[0]
    detail = page(f"/personal/arenden/{found.id}")
    assert form_data(detail, "/tilldela")["seen"] == "1"
