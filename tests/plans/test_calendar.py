"""The follow-up meeting as .ics, and dates in the person's own variant (Sweden/Finland)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Calendar

from tests.conftest import url
from tests.factories import decide_directly, person_with_consent
from tests.plans.helpers import (
    VASA_HS,
    as_person,
    as_staff,
    editor_url,
    ensure_plan,
    hidden,
    publish,
    save,
)


def _event(response):
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    assert calendar.walk("VTIMEZONE"), "no VTIMEZONE"
    return calendar, events[0]


def test_swedish_person_gets_stockholm_time(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "follow_up", {"date": "2026-12-08", "time": "10:00",
                                                "place": "Kalmar vårdcentral, rum 3"})
    publish(client, page, person.id)
    as_person(client, person)
    calendar, event = _event(client.get(url(client.app, "plan_calendar")))
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/Stockholm"
    assert start.replace(tzinfo=None) == datetime(2026, 12, 8, 10, 0)
    assert str(event["location"]) == "Kalmar vårdcentral, rum 3"
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Stockholm"}
    plan = page(url(client.app, "my_plan"))
    assert "8 december 2026" in plan.text() and "kl. 10.00" in plan.text()


def test_finnish_person_gets_helsinki_time_and_finnish_formats(client, page, demo_ids):
    elsa = demo_ids["elsa"]
    decide_directly(client, elsa, "give", (VASA_HS,))
    as_staff(client, "Johanna")
    ensure_plan(client, page, elsa)
    save(client, page, elsa, "follow_up", {"date": "2026-11-23", "time": "14:30",
                                          "place": "Hälsostationen i Vasa"})
    publish(client, page, elsa)
    # The preview speaks Elsa's variant even when Johanna chose Sweden Swedish for herself.
    client.get("/sprak/sv?next=/")
    assert page("/").soup.html["lang"] == "sv"
    preview = page(editor_url(client, elsa) + "/forhandsvisning")
    assert preview.soup.html["lang"] == "sv-FI"
    assert "23.11.2026" in preview.text() and "14.30" in preview.text()
    assert page("/").soup.html["lang"] == "sv"  # only that request

    as_person(client, "elsa")
    client.get("/sprak/sv-FI?next=/")
    calendar, event = _event(client.get(url(client.app, "plan_calendar")))
    assert event["dtstart"].params["TZID"] == "Europe/Helsinki"
    assert event.decoded("dtstart").replace(tzinfo=None) == datetime(2026, 11, 23, 14, 30)
    assert str(event["location"]) == "Hälsostationen i Vasa"
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Helsinki"}
    plan = page(url(client.app, "my_plan"))
    assert plan.soup.html["lang"] == "sv-FI"
    assert "23.11.2026" in plan.text() and "kl. 14.30" in plan.text()
    assert "november" not in plan.text()


def test_no_follow_up_date_gives_404(client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "important", {"text": "Inget möte bokat."})
    publish(client, page, person.id)
    as_person(client, person)
    assert client.get(url(client.app, "plan_calendar")).status_code == 404


def test_no_plan_gives_404(client, page):
    person = person_with_consent(client)
    as_person(client, person)
    assert client.get(url(client.app, "plan_calendar")).status_code == 404


def _ics(client):
    response = client.get(url(client.app, "plan_calendar"))
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return _event(response)[1]


def _summary(event) -> tuple[str, int, str, datetime]:
    return (str(event["uid"]), int(event["sequence"]), str(event["status"]),
            event.decoded("dtstart").replace(tzinfo=None))


def _close(client, page, person_id: str) -> None:
    editor = page(editor_url(client, person_id))
    response = client.post(url(client.app, "plan_close", person_id=person_id),
                           data={**hidden(editor, "/plan/avsluta"), "reason": "Klart."},
                           follow_redirects=False)
    assert response.status_code == 303, response.text[:300]


def test_one_meeting_keeps_one_uid_its_sequence_rises_and_it_is_cancelled(client, page):
    year = date.today().year + 1  # a meeting still to come, so a cancellation is offered
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    save(client, page, person.id, "follow_up", {"date": f"{year}-12-08", "time": "10:00",
                                                "place": "Rum 3"})
    publish(client, page, person.id)  # version 1
    as_person(client, person)
    uid, sequence, status, start = _summary(_ics(client))
    assert (sequence, status, start) == (0, "CONFIRMED", datetime(year, 12, 8, 10, 0))
    assert "-v1" not in uid and uid.endswith("@sip-portalen")

    as_staff(client, "Anna")
    save(client, page, person.id, "important", {"text": "Jag vill bo kvar hemma."})
    publish(client, page, person.id)  # version 2: the meeting is as before
    as_person(client, person)
    assert _summary(_ics(client)) == (uid, 0, "CONFIRMED", datetime(year, 12, 8, 10, 0))

    as_staff(client, "Anna")
    save(client, page, person.id, "follow_up", {"date": f"{year}-12-08", "time": "11:00",
                                                "place": "Rum 3"})
    publish(client, page, person.id)  # version 3: a new time
    as_person(client, person)
    event = _ics(client)
    assert _summary(event) == (uid, 1, "CONFIRMED", datetime(year, 12, 8, 11, 0))
    assert event.decoded("dtstamp").tzinfo is not None

    as_staff(client, "Anna")
    save(client, page, person.id, "follow_up", {"date": f"{year}-12-08", "time": "11:00",
                                                "place": "Rum 4"})
    save(client, page, person.id, "follow_up", {"date": f"{year}-12-09", "time": "11:00",
                                                "place": "Rum 4"})
    publish(client, page, person.id)  # version 4: place and day, in one publication
    as_person(client, person)
    event = _ics(client)
    assert _summary(event) == (uid, 2, "CONFIRMED", datetime(year, 12, 9, 11, 0))
    assert str(event["location"]) == "Rum 4"

    as_staff(client, "Anna")
    save(client, page, person.id, "follow_up_remove", {})
    publish(client, page, person.id)  # version 5: no meeting
    as_person(client, person)
    plan = page(url(client.app, "my_plan"))
    assert "Mötet för uppföljning är inställt." in plan.text()
    event = _ics(client)
    assert _summary(event) == (uid, 3, "CANCELLED", datetime(year, 12, 9, 11, 0))
    assert str(event["summary"]).startswith("Inställt:")

    as_staff(client, "Anna")
    save(client, page, person.id, "follow_up", {"date": f"{year}-06-01", "time": "13:00",
                                                "place": "Hemma"})
    publish(client, page, person.id)  # version 6: a new meeting, a new UID
    as_person(client, person)
    assert "Mötet för uppföljning är inställt." not in page(url(client.app, "my_plan")).text()
    new_uid, *rest = _summary(_ics(client))
    assert new_uid != uid and rest == [0, "CONFIRMED", datetime(year, 6, 1, 13, 0)]

    as_staff(client, "Anna")
    _close(client, page, person.id)  # closed before the meeting: it is cancelled
    as_person(client, person)
    assert "Mötet för uppföljning är inställt." in page(url(client.app, "my_plan")).text()
    assert _summary(_ics(client)) == (new_uid, 1, "CANCELLED", datetime(year, 6, 1, 13, 0))


def test_a_meeting_stored_without_an_id_keeps_the_uid_of_its_plan():
    from types import SimpleNamespace

    from portal.plans.calendar import meeting

    plan = SimpleNamespace(id="plan1")
    old = {"follow_up": {"date": "2026-12-08", "time": "10:00", "place": "Hemma"}}
    moved = {"follow_up": {"date": "2026-12-09", "time": "10:00", "place": "Hemma"}}
    found = meeting(plan, [old, old, moved])
    assert (found.uid, found.sequence, found.cancelled) == ("follow-up-plan1@sip-portalen", 1,
                                                            False)
    found = meeting(plan, [old, moved, {"follow_up": {"date": ""}}])
    assert (found.uid, found.sequence, found.cancelled) == ("follow-up-plan1@sip-portalen", 2,
                                                            True)
    assert meeting(plan, [{"follow_up": {"date": ""}}]) is None


def test_a_follow_up_time_that_does_not_exist_is_refused_one_that_happens_twice_is_explained(
        client, page):
    person = person_with_consent(client)
    as_staff(client, "Anna")
    ensure_plan(client, page, person.id)
    response = save(client, page, person.id, "follow_up",
                    {"date": "2027-03-28", "time": "02:30", "place": "Rum 3"}, status=400)
    assert "Den tiden finns inte den dagen, eftersom klockan ställs fram en timme." in \
        response.text
    save(client, page, person.id, "follow_up", {"date": "2027-10-31", "time": "02:30",
                                                "place": "Rum 3"})
    editor = page(editor_url(client, person.id))
    assert "Klockslaget finns två gånger den dagen" in editor.text("body")
    publish(client, page, person.id)
    as_person(client, person)
    start = _ics(client).decoded("dtstart")
    assert start.utcoffset() == timedelta(hours=2)  # the first 02:30, still summer time
