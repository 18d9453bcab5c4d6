"""The follow-up meeting as .ics, and dates in the person's own variant (Sweden/Finland)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar

from tests.conftest import url
from tests.factories import decide_directly, person_with_consent
from tests.plans.helpers import VASA_HS, as_person, as_staff, editor_url, ensure_plan, publish, save


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
