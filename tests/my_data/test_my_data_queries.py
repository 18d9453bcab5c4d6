"""The document and the FHIR file run a fixed number of statements in one session,
whatever the number of plan versions, consent events, requests or messages."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.audit.service import Actor
from portal.people.models import Person, Unit
from portal.plans import services as plans
from tests.consent.helpers import sign_in
from tests.coordination.test_request_timeline import registered_by_anna
from tests.core.test_query_counts import counting
from tests.factories import db_run, decide_directly
from tests.my_data.test_my_data import DOCUMENT, FHIR, SOC, make_story

CEILING = 40  # measured about 30: the data (about 20), viewer, audit record (3)


def _measure(client, app, url: str):
    with counting(app) as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counted


def _more(client, story) -> None:
    """Another plan version, more consent, a request and a message thread."""
    who = story["who"]
    async def publish(db):
        from portal.people.models import StaffMember

        plan = await plans.open_plan(db, who.id)
        staff = await db.get(StaffMember, story["staff_id"])
        plan = await plans.save_draft(db, plan, staff, plan.draft_revision, {"need_help": "Mer."})
        await plans.publish(db, plan, staff, plan.draft_revision)

    async def write(db):
        from portal.messages import services as messages

        person = await db.get(Person, who.id)
        unit = await db.get(Unit, story["unit_id"])
        await messages.start_thread(db, person=person, unit=unit, subject="Till",
                                    body="En till fråga.", actor=Actor("person", who.id, "self"),
                                    key="k2-" + who.id, now=datetime.now(UTC))

    db_run(client, publish)
    for _ in range(3):
        decide_directly(client, who.id, "give", (SOC,))
        decide_directly(client, who.id, "withdraw", (SOC,))
    registered_by_anna(client, who.id)
    db_run(client, write)


def test_downloads_use_one_session_and_do_not_grow_with_the_data(client, app):
    story = make_story(client)
    sign_in(client, story["who"])
    before = {url: _measure(client, app, url) for url in (DOCUMENT, FHIR)}
    _more(client, story)
    after = {url: _measure(client, app, url) for url in (DOCUMENT, FHIR)}
    for url in (DOCUMENT, FHIR):
        assert before[url].checkouts == after[url].checkouts == 1, url
        assert after[url].statements <= CEILING, (url, after[url].statements)
        assert after[url].statements == before[url].statements, (
            url, before[url].statements, after[url].statements)
