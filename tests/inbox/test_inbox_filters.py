"""The inbox's filters with the clock pinned, due dates in working days over the holidays of
Sweden and Finland, htmx polling, and the access log of the list."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from tests.factories import db_run, new_person, staff_named
from tests.inbox.helpers import VASA_HS, VC, as_staff, form_data, inbox_rows, send_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401

STOCKHOLM, HELSINKI = ZoneInfo("Europe/Stockholm"), ZoneInfo("Europe/Helsinki")


@pytest.fixture
def clock(app):
    yield app.state.clock
    app.state.clock.travel_to(None)


# sent (local date, a working day at 10.00), country -> due (3 working days, the demo units' promise)
DUE_DATES = [
    (date(2026, 12, 21), "SE", date(2026, 12, 28)),  # julafton, juldagen, annandag jul
    (date(2026, 12, 21), "FI", date(2026, 12, 28)),  # julafton, juldagen, annandag jul (lör)
    (date(2026, 12, 30), "SE", date(2027, 1, 7)),  # nyårsafton (de facto), nyårsdagen, trettondagen
    (date(2026, 12, 30), "FI", date(2027, 1, 5)),  # nyårsafton is a working day in Finland
    (date(2027, 3, 25), "SE", date(2027, 4, 1)),  # långfredagen, annandag påsk
    (date(2027, 3, 25), "FI", date(2027, 4, 1)),
    (date(2027, 6, 23), "SE", date(2027, 6, 29)),  # midsommarafton
    (date(2027, 6, 23), "FI", date(2027, 6, 29)),  # midsommarafton (juhannusaatto)
    (date(2027, 4, 30), "SE", date(2027, 5, 5)),  # första maj is a Saturday
    (date(2027, 5, 4), "SE", date(2027, 5, 10)),  # Kristi himmelfärdsdag torsdag 6 maj
]


@pytest.mark.parametrize(("sent", "country", "due"), DUE_DATES,
                         ids=[f"{c}-{s}" for s, c, _ in DUE_DATES])
def test_due_dates_count_working_days_across_holidays(client, clock, sent, country, due):
    zone = STOCKHOLM if country == "SE" else HELSINKI
    clock.travel_to(datetime.combine(sent, datetime.min.time().replace(hour=10), zone))
    person = new_person(client, country=country, units=(VC if country == "SE" else VASA_HS,),
                        prefix="Fd")
    found = send_request(client, person.id, VC if country == "SE" else VASA_HS)
    assert found.due_on == due


def _row_of(page, person) -> str:
    rows = [r for r in inbox_rows(page) if person.name in r]
    assert len(rows) <= 1
    return rows[0] if rows else ""


def _shown_in(client, page, person) -> set[str]:
    """The filters under which the person's one row shows."""
    shown = set()
    for key in ("new", "mine", "waiting", "due_soon", "overdue"):
        if _row_of(page(f"/personal/inkorg?visa={key}"), person):
            shown.add(key)
    return shown


def test_filters_as_a_table_over_christmas(client, page, clock):
    anna_id, _ = staff_named(client, "Anna")
    clock.travel_to(datetime(2026, 12, 21, 10, tzinfo=STOCKHOLM))
    fresh = new_person(client, units=(VC,), prefix="Fa")
    mine = new_person(client, units=(VC,), prefix="Fb")
    send_request(client, fresh.id, VC)
    assigned = send_request(client, mine.id, VC)
    as_staff(client, "Anna")
    shown = page(f"/personal/arenden/{assigned.id}")
    assert client.post(f"/personal/arenden/{assigned.id}/tilldela",
                       data={**form_data(shown, "/tilldela"), "staff_id": anna_id},
                       follow_redirects=False).status_code == 303
    # (day, person) -> filters; due on Monday 28 December (three working days after the 21st)
    table = [
        (datetime(2026, 12, 21, 12, tzinfo=STOCKHOLM), fresh, {"new"}),
        (datetime(2026, 12, 21, 12, tzinfo=STOCKHOLM), mine, {"mine"}),
        (datetime(2026, 12, 23, 9, tzinfo=STOCKHOLM), fresh, {"new", "due_soon"}),
        (datetime(2026, 12, 28, 9, tzinfo=STOCKHOLM), mine, {"mine", "due_soon"}),
        (datetime(2026, 12, 29, 0, 30, tzinfo=STOCKHOLM), fresh, {"new", "overdue"}),
        (datetime(2026, 12, 29, 0, 30, tzinfo=STOCKHOLM), mine, {"mine", "overdue"}),
    ]
    for at, who, expected in table:
        clock.travel_to(at)
        assert _shown_in(client, page, who) == expected, (at, who.given_name)
    everything = page("/personal/inkorg")
    overdue_row = _row_of(everything, fresh)
    assert "måndag 28 december (försenad)" in overdue_row
    assert "Ingen än" in overdue_row
    assert "Anna Berg" in _row_of(everything, mine)
    # Counts per filter are on the filter links.
    links = [a.get_text(" ", strip=True) for a in everything.select("nav .inbox-filters a")]
    assert any(text.startswith("Försenade (") for text in links)


def test_a_thread_answered_by_staff_waits_for_the_person(client, page):
    from portal.audit.service import Actor
    from portal.consent.forms import new_key
    from portal.messages import services as messages
    from portal.people.models import Person, StaffMember, Unit

    person = new_person(client, units=(VC,), prefix="Fw")

    async def work(db):
        who = await db.get(Person, person.id)
        unit = (await db.exec(select(Unit).where(Unit.code == VC))).one()
        anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()
        now = client.app.state.clock.now()
        thread = await messages.start_thread(db, person=who, unit=unit, subject="Hemtjänsten",
                                             body="När kommer de?", actor=Actor("person", who.id, "self"),
                                             key=new_key(), now=now)
        await messages.post(db, thread, person=who, unit=unit, body="I morgon kl. 9.",
                            actor=Actor("staff", anna.id, "staff", unit.id), key=new_key(), now=now)
        return thread

    thread = db_run(client, work)
    as_staff(client, "Anna")
    assert _shown_in(client, page, person) == {"mine", "waiting"}
    row = page("/personal/inkorg?visa=waiting").select_one(f'a[href="/personal/meddelanden/{thread.id}"]')
    assert row is not None and row.get_text(strip=True) == person.name


def test_htmx_gets_the_list_only_and_the_list_read_is_logged_once_per_row(client, page):
    person = new_person(client, units=(VC,), prefix="Fh")
    found = send_request(client, person.id, VC)
    as_staff(client, "Anna")
    full = page("/personal/inkorg?visa=new")
    poll = full.select_one("#inbox-list")
    assert poll["hx-get"] == "/personal/inkorg?visa=new" and poll["hx-trigger"] == "every 30s"
    assert full.select_one('a[href="/personal/inkorg?visa=new"]')  # reload without JavaScript
    partial = client.get("/personal/inkorg?visa=new", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and 'id="inbox-list"' in partial.text
    assert found.reference in partial.text
    assert "no-store" in partial.headers.get("cache-control", "")
    # An unknown filter shows everything.
    assert found.reference in client.get("/personal/inkorg?visa=%3Cscript%3E").text

    async def logged(db):
        return (await db.exec(select(AuditEvent).where(AuditEvent.object_id == found.id,
                                                       AuditEvent.action == "inbox.listed_for_staff"))).all()

    events = db_run(client, logged)
    # The page and its poll show the same list: one access (portal.core.page_cache, within
    # PORTAL_ACCESS_LOG_REPEAT); the page without a filter is another list: another access.
    assert len(events) == 2
    assert {e.subject_person_id for e in events} == {person.id}
