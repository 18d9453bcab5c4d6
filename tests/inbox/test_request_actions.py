"""Staff handle a request: assign, note, meeting, plan made, close, reopen; each audited,
each on the person's timeline with a notice, none done twice by a double submit or a stale tab."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.coordination import services
from portal.coordination.models import InternalNote, Meeting
from portal.notices.models import OutboxMessage
from tests.factories import db_run, decide_directly, new_person, represent, staff_named
from tests.inbox.helpers import AVD12, SOC, VASA_HS, VC, as_staff, form_data, reload_request, send_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def _audits(client, object_id: str) -> list[AuditEvent]:
    async def work(db):
        return list((await db.exec(select(AuditEvent).where(AuditEvent.object_id == object_id)
                                   .order_by(col(AuditEvent.id)))).all())

    return db_run(client, work)


def _outbox(client, *person_ids: str) -> list[OutboxMessage]:
    async def work(db):
        return list((await db.exec(select(OutboxMessage).where(
            col(OutboxMessage.person_id).in_(person_ids)))).all())

    return db_run(client, work)


def _timeline(client, request_id: str) -> list[str]:
    async def work(db):
        return [e.kind for e in await services.timeline(db, request_id)]

    return db_run(client, work)


def _post(client, page, request_id: str, suffix: str, data: dict, status: int = 303):
    shown = page(f"/personal/arenden/{request_id}")
    hidden = form_data(shown, suffix)
    response = client.post(f"/personal/arenden/{request_id}{suffix}", data={**hidden, **data},
                           follow_redirects=False)
    assert response.status_code == status, (response.status_code, response.text[:800])
    return response, hidden


@pytest.fixture
def handled(client):
    """A person with a follower (proxy with every scope) and a request to Anna's unit."""
    person = new_person(client, units=(VC,), prefix="Ra")
    follower = new_person(client, prefix="Rf")
    represent(client, follower, person, "proxy")
    found = send_request(client, person.id, VC)
    return person, follower, found


def test_every_action_is_on_the_timeline_audited_and_told(client, page, handled):
    from tests.factories import staff_named

    person, follower, found = handled
    anna_id, _ = staff_named(client, "Anna")
    as_staff(client, "Anna")
    before = len(_outbox(client, person.id, follower.id))

    # Assign to me: the same form twice changes nothing the second time.
    _, hidden = _post(client, page, found.id, "/tilldela", {"staff_id": anna_id})
    again = client.post(f"/personal/arenden/{found.id}/tilldela", data={**hidden, "staff_id": anna_id},
                        follow_redirects=False)
    assert again.status_code == 303
    assert reload_request(client, found.id).assigned_to == anna_id
    assert _timeline(client, found.id) == ["received", "assigned"]

    # An internal note, double submitted: one note; the person never sees notes.
    shown = page(f"/personal/arenden/{found.id}")
    note = {**form_data(shown, "/anteckning"), "text": "Ring dottern först. <b>inte</b> html"}
    for _ in range(2):
        assert client.post(f"/personal/arenden/{found.id}/anteckning", data=note,
                           follow_redirects=False).status_code == 303
    shown = page(f"/personal/arenden/{found.id}")
    assert "<b>inte</b>" in shown.text()  # shown as text, escaped
    assert shown.select_one("main b") is None

    async def notes(db):
        return (await db.exec(select(InternalNote).where(InternalNote.request_id == found.id))).all()

    assert len(db_run(client, notes)) == 1

    # Book the meeting (twice: one meeting), then plan made, close, reopen.
    meeting = {"date": "2027-03-05", "time": "10:00", "place": "Kalmar vårdcentral, rum 3",
               "participants": [anna_id]}
    _, hidden = _post(client, page, found.id, "/mote", meeting)
    assert client.post(f"/personal/arenden/{found.id}/mote", data={**hidden, **meeting},
                       follow_redirects=False).status_code == 303

    async def meetings(db):
        return (await db.exec(select(Meeting).where(Meeting.request_id == found.id))).all()

    assert len(db_run(client, meetings)) == 1
    _, hidden = _post(client, page, found.id, "/plan-gjord", {})
    assert client.post(f"/personal/arenden/{found.id}/plan-gjord", data=hidden,
                       follow_redirects=False).status_code == 303
    _, hidden = _post(client, page, found.id, "/avsluta", {"reason": "Planen är klar och följs upp."})
    assert client.post(f"/personal/arenden/{found.id}/avsluta",
                       data={**hidden, "reason": "Planen är klar och följs upp."},
                       follow_redirects=False).status_code == 303
    closed = reload_request(client, found.id)
    assert closed.status == "closed" and closed.close_reason == "Planen är klar och följs upp."
    _, hidden = _post(client, page, found.id, "/oppna", {})
    assert client.post(f"/personal/arenden/{found.id}/oppna", data=hidden,
                       follow_redirects=False).status_code == 303
    assert reload_request(client, found.id).status == "received"
    assert _timeline(client, found.id) == ["received", "assigned", "meeting_booked", "plan_made",
                                           "closed", "reopened"]

    # Audited with who, when and on whose behalf.
    audits = [a for a in _audits(client, found.id) if a.action.startswith("request.")
              and a.action != "request.viewed_by_staff"]
    assert [a.action for a in audits] == [
        "request.sent", "request.assigned", "request.note_added", "request.meeting_booked",
        "request.plan_made", "request.closed", "request.reopened"]
    for event in audits[1:]:
        assert event.actor_id == anna_id and event.actor_type == "staff"
        assert event.on_behalf_of == person.id and event.subject_person_id == person.id
        assert event.at is not None
    # The person and the follower with `requests` are told of each of the five steps.
    told = _outbox(client, person.id, follower.id)[before:]
    assert sorted(m.person_id for m in told) == sorted([person.id, follower.id] * 5)
    assert {m.template for m in told} == {"request_changed", "meeting_booked"}


def test_a_stale_form_and_a_closed_request_are_refused_plainly(client, page, handled):
    from tests.factories import staff_named

    _, _, found = handled
    anna_id, _ = staff_named(client, "Anna")
    as_staff(client, "Anna")
    old_tab = form_data(page(f"/personal/arenden/{found.id}"), "/plan-gjord")
    _post(client, page, found.id, "/tilldela", {"staff_id": anna_id})
    stale = client.post(f"/personal/arenden/{found.id}/plan-gjord", data=old_tab)
    assert stale.status_code == 409
    assert "Ärendet har ändrats sedan du öppnade sidan" in stale.text
    assert reload_request(client, found.id).status == "assigned"
    _post(client, page, found.id, "/avsluta", {"reason": "Personen vill inte just nu."})
    # A tab from before the close tries to assign someone else.
    from tests.factories import new_staff

    colleague = new_staff(client, VC)
    refused = client.post(f"/personal/arenden/{found.id}/tilldela",
                          data={**old_tab, "staff_id": colleague.id})
    assert refused.status_code == 409 and "Ärendet är avslutat" in refused.text
    assert reload_request(client, found.id).assigned_to == anna_id


def test_bad_input_is_shown_again_with_what_was_typed(client, page, handled):
    _, _, found = handled
    as_staff(client, "Anna")
    response, _ = _post(client, page, found.id, "/mote",
                        {"date": "2030-13-40", "time": "25:00", "place": "Rum <3>"}, status=400)
    from bs4 import BeautifulSoup

    from tests.conftest import check_error_summary

    shown = BeautifulSoup(response.text, "html.parser")
    assert shown.title.get_text().startswith("Fel: Ärende ")
    check_error_summary(shown)
    assert "Det finns ett fel" in shown.get_text()
    assert shown.select_one("#meeting-place")["value"] == "Rum <3>"
    assert shown.select_one("#meeting-date")["value"] == "2030-13-40"
    assert "Välj minst en deltagare." in shown.get_text()
    response, _ = _post(client, page, found.id, "/avsluta", {"reason": "  "}, status=400)
    assert "Skriv varför ärendet avslutas" in response.text
    # Someone of another unit cannot be assigned.
    from tests.factories import staff_named

    maria_id, _ = staff_named(client, "Maria")
    _post(client, page, found.id, "/tilldela", {"staff_id": maria_id}, status=400)
    assert reload_request(client, found.id).assigned_to is None


@pytest.mark.parametrize(("country", "code", "staff", "zone_hour"), [
    ("SE", VC, "Anna", "T100000"), ("FI", VASA_HS, "Johanna", "T100000")])
def test_meeting_ics_is_in_the_persons_zone_with_uid_and_sequence(client, page, country, code,
                                                                   staff, zone_hour):
    from tests.consent.helpers import sign_in
    from tests.factories import staff_named

    person = new_person(client, country=country, units=(code,), prefix="Rm")
    found = send_request(client, person.id, code)
    staff_id, _ = staff_named(client, staff)
    as_staff(client, staff)
    _post(client, page, found.id, "/mote", {"date": "2027-07-02", "time": "10:00",
                                            "place": "Hälsostationen", "participants": [staff_id]})
    shown = page(f"/personal/arenden/{found.id}")
    link = shown.select_one('a[href$="/kalender.ics"]')["href"]
    for_staff = client.get(link)
    assert for_staff.status_code == 200 and for_staff.headers["content-type"].startswith("text/calendar")
    client.cookies.clear()
    sign_in(client, person)
    meeting_id = link.split("/")[-2]
    for_person = client.get(f"/arenden/moten/{meeting_id}/kalender.ics")
    assert for_person.status_code == 200
    for body in (for_staff.content, for_person.content):
        calendar = Calendar.from_ical(body)
        assert calendar["method"] == "PUBLISH"
        event = calendar.walk("VEVENT")[0]
        start = event.decoded("dtstart")
        zone = "Europe/Stockholm" if country == "SE" else "Europe/Helsinki"
        assert str(start.tzinfo) == zone and start.hour == 10
        assert start.astimezone(UTC) == datetime(2027, 7, 2, 8 if country == "SE" else 7, tzinfo=UTC)
        assert str(event["uid"]) == f"meeting-{meeting_id}@sip-portalen"
        assert int(event["sequence"]) == 0 and str(event["status"]) == "CONFIRMED"
        assert person.national_id.encode() not in body
        assert person.given_name.encode() not in body
    # Another person (and staff of another unit) get the same 404 as a made-up id.
    other = new_person(client, country=country, units=(code,), prefix="Rn")
    client.cookies.clear()
    sign_in(client, other)
    assert client.get(f"/arenden/moten/{meeting_id}/kalender.ics").status_code == 404
    as_staff(client, "Maria")
    assert client.get(f"/personal/moten/{meeting_id}/kalender.ics").status_code == 404


def test_staff_see_every_answer_the_person_gave(client, page):
    """How to reach the person, whom else they see and their consent answer: on the staff page."""
    person = new_person(client, units=(VC,), prefix="Rw")
    found = send_request(client, person.id, VC, answers={
        "other": "Min <b>tandläkare</b>", "unknown": False, "contact": "phone",
        "phone": "070-765 43 21", "times": "Efter kl. 16", "consent": "later"})
    as_staff(client, "Anna")
    shown = page(f"/personal/arenden/{found.id}")
    text = shown.text()
    assert "Per telefon: 070-765 43 21, Efter kl. 16" in text
    assert "Min <b>tandläkare</b>" in text and shown.select_one("main b") is None
    assert "Vill svara senare" in text


def test_only_units_the_person_consented_to_can_join_the_meeting(client, page):
    """A meeting shares the person's matters with everyone in it: staff of a unit without
    the person's consent are not offered, and a forged choice of one is not booked."""
    person = new_person(client, units=(VC, SOC, AVD12), prefix="Rm")
    decide_directly(client, person.id, "give", (VC, SOC))
    found = send_request(client, person.id, VC, SOC)
    as_staff(client, "Anna")
    shown = page(f"/personal/arenden/{found.id}")
    offered = {box.parent.get_text(" ", strip=True) for box in shown.select('input[name="participants"]')}
    assert any("Maria Ek" in o for o in offered) and any("Anna Berg" in o for o in offered)
    assert not any("Lars Öberg" in o for o in offered)
    assert "Personen har inte samtyckt till att Avdelning 12, Länssjukhuset Kalmar är med" in shown.text()
    lars_id, _ = staff_named(client, "Lars")
    response, _ = _post(client, page, found.id, "/mote", {
        "date": "2026-12-08", "time": "10:00", "place": "Rum 4", "participants": [lars_id]},
        status=400)
    assert "Välj minst en deltagare." in response.text

    async def work(db):
        return list((await db.exec(select(Meeting).where(Meeting.request_id == found.id))).all())

    assert db_run(client, work) == []


def test_a_note_stays_within_the_unit_that_wrote_it(client, page):
    """A request to a region's and a municipality's units: each unit's notes are its own."""
    person = new_person(client, units=(VC, SOC), prefix="Rn")
    found = send_request(client, person.id, VC, SOC)
    as_staff(client, "Anna")
    _post(client, page, found.id, "/anteckning", {"text": "Annas anteckning om hemmet."})
    assert "Annas anteckning om hemmet." in page(f"/personal/arenden/{found.id}").text()
    client.cookies.clear()
    as_staff(client, "Maria")
    assert "Annas anteckning om hemmet." not in page(f"/personal/arenden/{found.id}").text()


def test_staff_see_who_sent_a_request_for_the_person(client, page):
    from portal.audit.service import Actor

    person = new_person(client, units=(VC,), prefix="Rs")
    son = new_person(client, prefix="Rt")
    represent(client, son, person, "proxy")
    found = send_request(client, person.id, VC, actor=Actor("person", son.id, "proxy"),
                         answers={"contact": "phone", "phone": "070-111 22 33"})
    as_staff(client, "Anna")
    text = page(f"/personal/arenden/{found.id}").text()
    assert f"Skickat av {son.name}, med fullmakt" in text
    assert "Per telefon: 070-111 22 33" in text
