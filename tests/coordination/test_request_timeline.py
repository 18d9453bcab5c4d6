"""The request's page: its timeline as the person sees it, and requests staff registered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.audit.service import Actor
from portal.coordination import services
from portal.coordination.models import Meeting
from portal.people.models import Person, StaffMember, Unit
from tests.consent.helpers import act_for, sign_in
from tests.factories import SOC, VC, db_run, new_person, represent, staff_named
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def registered_by_anna(client, person_id: str, channel: str = "phone") -> str:
    """A request Anna registered after a phone call, sent to her unit; returns its id."""
    anna_id, unit_id = staff_named(client, "Anna")

    async def work(db):
        person = await db.get(Person, person_id)
        unit = await db.get(Unit, unit_id)
        actor = Actor("staff", anna_id, "staff", unit_id)
        draft = await services.start_draft(db, person, actor, channel=channel)
        await services.save_answers(db, draft, {"hard": "Ringde om sin pappa.", "units": [],
                                                "units_answered": True, "contact": "phone",
                                                "phone": "0480-1", "consent": "later"},
                                    datetime.now(UTC))
        await services.send(db, draft, person, actor, [unit], datetime.now(UTC))
        return draft.id

    return db_run(client, work)


def step(client, request_id: str, person_id: str, kind: str, detail: dict | None = None) -> None:
    anna_id, unit_id = staff_named(client, "Anna")

    async def work(db):
        request = await services.request_of_person(db, request_id, person_id)
        person = await db.get(Person, person_id)
        await services.add_event(db, request, person, kind, Actor("staff", anna_id, "staff", unit_id),
                                 datetime.now(UTC), detail)

    db_run(client, work)


def book(client, request_id: str, person_id: str) -> str:
    anna_id, _ = staff_named(client, "Anna")
    maria_id, _ = staff_named(client, "Maria")

    async def work(db):
        starts = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # 10.00 in Stockholm
        meeting = Meeting(request_id=request_id, person_id=person_id, starts_at=starts,
                          ends_at=starts + timedelta(hours=1), place="Kalmar vårdcentral, rum 4",
                          participants=json.dumps([anna_id, maria_id]), created_by=anna_id)
        db.add(meeting)
        await db.flush()
        return meeting.id

    return db_run(client, work)


def test_the_timeline_names_the_contact_person_the_meeting_and_the_plan(client, page):
    who = new_person(client, units=(VC, SOC))
    request_id = registered_by_anna(client, who.id)
    sign_in(client, who)
    listing = page("/arenden")
    assert ("Registrerat av Anna Berg, Kalmar vårdcentral, efter ett telefonsamtal."
            in listing.text())
    anna_id, _ = staff_named(client, "Anna")
    step(client, request_id, who.id, "assigned", {"staff_id": anna_id})
    assigned = page(f"/arenden/{request_id}")
    assert "En kontaktperson har tagit ärendet" in assigned.text()
    assert "Anna Berg, sjuksköterska, Kalmar vårdcentral" in assigned.text()
    meeting_id = book(client, request_id, who.id)
    step(client, request_id, who.id, "meeting_booked", {"meeting_id": meeting_id})
    booked = page(f"/arenden/{request_id}")
    text = booked.text()
    assert "Samordningsmöte bokat" in text
    assert "tisdag 8 december 2026, kl. 10.00" in text and "11.00" not in text
    assert "Kalmar vårdcentral, rum 4" in text
    assert "Maria Ek, Socialtjänsten i Kalmar kommun" in text
    # The person can put the meeting in their calendar from the timeline.
    link = booked.select_one("ol.timeline a[download]")
    assert link is not None and link["href"] == f"/arenden/moten/{meeting_id}/kalender.ics"
    calendar = client.get(link["href"])
    assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
    start = page("/").text()
    assert "Ett samordningsmöte är bokat." in start
    assert "Samordningsmöte tisdag 8 december kl. 10.00, Kalmar vårdcentral, rum 4." in start
    step(client, request_id, who.id, "plan_made", {})
    made = page(f"/arenden/{request_id}")
    assert made.select_one("ol.timeline a[href='/plan']") is not None
    step(client, request_id, who.id, "closed", {"reason": "Planen är klar och <i>gäller</i>."})
    closed = page(f"/arenden/{request_id}")
    assert "Skäl: Planen är klar och <i>gäller</i>." in closed.text()
    assert closed.select_one("main i") is None
    assert "Dina ärenden" not in page("/").text(".card__title")  # nothing open on the start page


def test_a_representative_reading_is_in_the_access_log(client, page):
    who = new_person(client, units=(VC,))
    proxy = new_person(client, prefix="Rp")
    represent(client, proxy, who, "proxy")
    request_id = registered_by_anna(client, who.id, channel="visit")
    sign_in(client, proxy)
    act_for(client, page, who.id)
    detail = page(f"/arenden/{request_id}")
    assert "Registrerat av Anna Berg, Kalmar vårdcentral, efter ett besök." in detail.text()

    async def work(db):
        return list((await db.exec(select(AuditEvent).where(
            AuditEvent.subject_person_id == who.id, AuditEvent.action == "request.viewed"))).all())

    [logged] = db_run(client, work)
    assert logged.actor_id == proxy.id and logged.on_behalf_of == who.id


def test_staff_names_come_from_the_staff_table(client):
    async def work(db):
        return (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()

    assert db_run(client, work).title == "Sjuksköterska"
