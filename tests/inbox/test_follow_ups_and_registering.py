"""Follow-ups that slipped show in the coordinator unit's inbox and tell the coordinator once;
staff register a request for a person they met or spoke to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from portal.notices.models import OutboxMessage
from portal.people.models import Person, StaffMember
from portal.plans import follow_ups
from portal.plans.models import Plan
from tests.consent.helpers import sign_in
from tests.factories import db_run, new_person, person_with_consent
from tests.inbox.helpers import AVD12, SOC, VC, as_staff, form_data, inbox_rows, reload_request
from tests.shared_app import app, client, module_client, settings  # noqa: F401

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def clock(app):
    yield app.state.clock
    app.state.clock.travel_to(None)


def _plan_with_follow_up(client, person_id: str, day: str) -> Plan:
    from portal.plans import services as plans

    async def work(db):
        person = await db.get(Person, person_id)
        anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()
        plan = await plans.create_plan(db, person, anna)
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision,
                                      {"follow_up": {"date": day, "time": "10:00", "place": "Hemma"}})
        await plans.publish(db, plan, anna, plan.draft_revision)
        return plan

    return db_run(client, work)


def _told_anna(client) -> int:
    async def work(db):
        anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).one()
        return (await db.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.staff_id == anna.id, OutboxMessage.template == "follow_up_overdue",
            col(OutboxMessage.person_id).is_(None)))).one()

    return db_run(client, work)


def _run_worker_round(client, at: datetime) -> int:
    async def work(db):
        return await follow_ups.check_follow_ups(db, at)

    return db_run(client, work)


def test_a_slipped_follow_up_shows_for_the_coordinators_unit_and_tells_them_once(client, page, clock):
    at = datetime(2026, 12, 10, 9, tzinfo=STOCKHOLM)
    clock.travel_to(at)
    _run_worker_round(client, at)  # every other slipped follow-up in the database is told of
    before = _told_anna(client)
    person = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    plan = _plan_with_follow_up(client, person.id, "2026-12-08")
    as_staff(client, "Anna")
    for _ in range(2):
        rows = [r for r in inbox_rows(page("/personal/inkorg?visa=overdue")) if person.name in r]
        assert len(rows) == 1 and "Planens uppföljning" in rows[0]
        assert "tisdag 8 december (försenad)" in rows[0] and "Anna Berg" in rows[0]
    _run_worker_round(client, at)
    _run_worker_round(client, at)
    assert _told_anna(client) == before + 1
    assert reload_plan(client, plan.id).overdue_notice_version == 1
    # Not in the inbox of a unit without the coordinator, and not before the day has passed.
    as_staff(client, "Maria")
    assert not [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]
    clock.travel_to(datetime(2026, 12, 8, 23, 30, tzinfo=STOCKHOLM))
    as_staff(client, "Anna")
    assert not [r for r in inbox_rows(page("/personal/inkorg")) if person.name in r]


def reload_plan(client, plan_id: str) -> Plan:
    async def work(db):
        return await db.get(Plan, plan_id)

    return db_run(client, work)


def test_a_version_published_after_the_follow_up_is_its_result_not_a_slip(client):
    """The follow-up of 20 November was held: the version published after it (now, as the
    real clock runs) is its result, even if it kept the old date."""
    held = person_with_consent(client, units=(VC,), consent=(VC,))
    _plan_with_follow_up(client, held.id, "2026-11-20")
    waiting = person_with_consent(client, units=(VC,), consent=(VC,))
    _plan_with_follow_up(client, waiting.id, "2099-12-08")

    async def slipped(db):
        return {s.person.id for s in await follow_ups.slipped(db, client.app.state.clock.now())}

    found = db_run(client, slipped)
    assert held.id not in found and waiting.id not in found


def test_staff_register_a_request_for_a_person_they_spoke_to(client, page):
    # Maria's unit works with the person without consent: registering is how coordination starts.
    person = new_person(client, units=(VC, SOC, AVD12), prefix="Rg")
    as_staff(client, "Maria")
    persons = page("/personal/personer")
    link = persons.select_one(f'a[href="/personal/personer/{person.id}/arenden/ny"]')
    assert link is not None
    form_page = page(f"/personal/personer/{person.id}/arenden/ny")
    assert form_page.h1 == f"Registrera en begäran om samordning för {person.name}"
    data = form_data(form_page, "/arenden/ny")
    avd12 = form_page.select_one('input[name="units"] + label')
    unit_id = form_page.select_one('input[name="units"]')["value"]
    assert avd12 is not None
    empty = client.post(f"/personal/personer/{person.id}/arenden/ny", data=data)
    assert empty.status_code == 400 and "Det finns ett fel" in empty.text
    fields = {**data, "channel": "phone", "hard": "Hon klarar inte trapporna. Sonen bor i Oslo.",
              "units": [unit_id]}
    first = client.post(f"/personal/personer/{person.id}/arenden/ny", data=fields,
                        follow_redirects=False)
    again = client.post(f"/personal/personer/{person.id}/arenden/ny", data=fields,
                        follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    request_id = first.headers["location"].rsplit("/", 1)[-1]
    found = reload_request(client, request_id)
    assert (found.author_type, found.channel, found.status) == ("staff", "phone", "received")
    shown = page(first.headers["location"])
    assert "registrerad av personal, per telefon" in shown.text()
    assert "Hon klarar inte trapporna" in shown.text()
    # Addressed to Maria's unit and the ward: Lars (ward) sees it, Anna (not chosen) does not.
    as_staff(client, "Lars")
    assert client.get(f"/personal/arenden/{request_id}").status_code == 200
    as_staff(client, "Anna")
    assert client.get(f"/personal/arenden/{request_id}").status_code == 404
    # The person is told (a notice without content).
    async def told(db):
        return (await db.exec(select(OutboxMessage).where(OutboxMessage.person_id == person.id))).all()

    assert [m.template for m in db_run(client, told)] == ["request_changed"]
    client.cookies.clear()
    sign_in(client, person)
    assert client.get(f"/personal/personer/{person.id}/arenden/ny").status_code == 403
