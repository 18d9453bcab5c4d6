"""Protected personal data (skyddade personuppgifter): no address, unit address or meeting
place reaches a representative, a notice or an .ics file, and the person's name reaches no
other citizen — on every citizen page (the routes of tests/test_authorization_matrix.py,
with real ids).

Two scenes, made fresh through the app's services:
- Hedda (protected, Swedish adult) with a god man (every scope) and a proxy (plan and
  messages): consent, a published plan with a follow-up place, a request with a booked
  meeting and its place, and a question answered by staff.
- A child whose two guardians act for it; one guardian (Ines) has protected data. The
  other guardian reads the child's consent history, request and messages where Ines
  acted: Ines is not named.
The person herself and staff DO see the addresses and places, so the checks cannot pass
vacuously.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlmodel import col, select

from portal.audit.service import Actor
from portal.consent.models import ConsentAct
from portal.notices import outbox
from portal.notices.models import OutboxMessage
from portal.people.demo import ADDRESSES
from portal.people.models import Person, StaffMember, Unit
from portal.people.names import PROTECTED
from tests.conftest import login
from tests.factories import SOC, VC, Who, db_run, decide_directly, family, new_person, represent
from tests.test_authorization_matrix import ROUTES

HIDDEN_PLACE = "Platsen står inte här, eftersom uppgifterna är skyddade."
MARKER = "Skyddade personuppgifter"
NEUTRAL = str(PROTECTED)
# Citizen pages: everything in the route table that a signed-in citizen reads.
NOT_CITIZEN = ("/personal", "/auth", "/dev-idp", "/static", "/sprak", "/healthz", "/utloggad",
               "/session-slut")


@dataclass
class Scene:
    person: Who
    representatives: list[Who]
    ids: dict[str, str]  # path parameter -> a real id for the person
    places: tuple[str, str]  # (the follow-up place, the meeting place)


def _place(what: str) -> str:
    return f"{what} {secrets.token_hex(3)}"


async def _request_with_meeting(db, person: Person, author: Actor, place: str) -> tuple[str, str]:
    """A request sent by `author`, taken by Anna, with a booked meeting at `place`."""
    from portal.coordination import meetings
    from portal.coordination import services as requests

    units = {u.code: u for u in (await db.exec(select(Unit))).all()}
    anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).first()
    sent = datetime.now(UTC) - timedelta(days=2)
    draft = await requests.start_draft(db, person, author)
    await requests.save_answers(db, draft, {
        "hard": "Det är svårt just nu.", "units": [units[VC].id], "other": "",
        "unknown": False, "units_answered": True, "contact": "portal", "phone": "",
        "times": "", "consent": "given"}, sent)
    request = await requests.send(db, draft, person, author, [units[VC]], sent)
    as_anna = Actor("staff", anna.id, "staff", anna.unit_id)
    await requests.assign(db, request, person, anna.id, as_anna, sent + timedelta(hours=1),
                          seen=len(await requests.timeline(db, request.id)))
    starts = datetime.combine(date.today() + timedelta(days=9), time(12, 0), UTC)
    meeting, _ = await meetings.book(
        db, request, person, starts_at=starts, place=place, participants=[anna.id],
        actor=as_anna, now=sent + timedelta(hours=2),
        seen=len(await requests.timeline(db, request.id)))
    return request.id, meeting.id


async def _thread(db, person: Person, author: Actor, answered: bool = True) -> str:
    """A question about `person` to Kalmar vårdcentral by `author`, answered by Anna."""
    from portal.messages import services as messages

    vc = (await db.exec(select(Unit).where(Unit.code == VC))).one()
    anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).first()
    now = datetime.now(UTC) - timedelta(hours=3)
    thread = await messages.start_thread(
        db, person=person, unit=vc, subject="Tider", body="När kan vi ses?", actor=author,
        key=secrets.token_hex(8), now=now)
    if answered:
        await messages.post(db, thread, person=person, unit=vc, body="Vi ringer dig i morgon.",
                            actor=Actor("staff", anna.id, "staff", anna.unit_id),
                            key=secrets.token_hex(8), now=now + timedelta(hours=1))
    return thread.id


async def _plan(db, person: Person, follow_up_place: str):
    """A published plan by Anna: actions at both units, Anna coordinates, a follow-up."""
    from portal.plans import services as plans

    units = {u.code: u for u in (await db.exec(select(Unit))).all()}
    anna = (await db.exec(select(StaffMember).where(StaffMember.given_name == "Anna"))).first()
    plan = await plans.create_plan(db, person, anna)
    actions = [{"id": f"a{n}", "what": "Vi ses varje vecka.", "unit_id": units[code].id,
                "responsible": "Anna Berg", "start": "", "end": "", "status": "planned"}
               for n, code in enumerate((VC, SOC), start=1)]
    follow_up = {"date": (date.today() + timedelta(days=20)).isoformat(), "time": "10:00",
                 "place": follow_up_place}
    plan = await plans.save_draft(db, plan, anna, plan.draft_revision, {
        "important": "Att känna sig trygg.", "actions": actions, "coordinator_id": anna.id,
        "follow_up": follow_up})
    await plans.publish(db, plan, anna, plan.draft_revision)
    return plan.id



def _act_and_wording(client, person_id: str, actor_id: str | None = None) -> tuple[str, str]:
    async def work(db):
        query = select(ConsentAct).where(ConsentAct.person_id == person_id)
        if actor_id:
            query = query.where(ConsentAct.actor_id == actor_id)
        act = (await db.exec(query.order_by(col(ConsentAct.recorded_at).desc()))).first()
        return act.id, act.wording_id or ""

    return db_run(client, work)


@pytest.fixture
def hedda(client) -> Scene:
    """A protected person with a god man and a proxy, and every kind of object."""
    person = new_person(client, units=(VC, SOC), prefix="Hedda", protected=True)
    god_man = new_person(client, prefix="Godman")
    proxy = new_person(client, prefix="Ombud")
    represent(client, god_man, person, "legal_representative")
    represent(client, proxy, person, "proxy", scope="plan:read messages")
    decide_directly(client, person.id, "give", (VC, SOC))
    places = (_place("Uppföljningsrum"), _place("Mötesrum"))

    async def work(db):
        who = await db.get(Person, person.id)
        plan_id = await _plan(db, who, places[0])
        request_id, meeting_id = await _request_with_meeting(
            db, who, Actor("person", person.id, "self"), places[1])
        thread_id = await _thread(db, who, Actor("person", person.id, "self"))
        return plan_id, request_id, meeting_id, thread_id

    plan_id, request_id, meeting_id, thread_id = db_run(client, work)
    act_id, wording_id = _act_and_wording(client, person.id)
    ids = {"plan_id": plan_id, "number": "1", "request_id": request_id,
           "meeting_id": meeting_id, "thread_id": thread_id, "act_id": act_id,
           "wording_id": wording_id, "person_id": person.id}
    return Scene(person, [god_man, proxy], ids, places)


def citizen_urls(ids: dict[str, str]) -> list[str]:
    """Every citizen GET route with real ids where the scene has them (else the matrix's
    made-up id: the page is then a 404, and still must say nothing)."""
    urls = []
    for (path, method), row in ROUTES.items():
        if method != "GET" or path.startswith(NOT_CITIZEN):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        if all(name in ids for name in names):
            urls.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids[m.group(1)], path))
        else:
            urls.append(row.url)
    return urls


def act_for(client, person_id: str) -> None:
    start = BeautifulSoup(client.get("/").text, "html.parser")
    token = start.select_one('input[name="csrf_token"]')["value"]
    subject = start.select_one('input[name="subject"]')["value"]
    chosen = client.post("/vem", data={"csrf_token": token, "subject": subject,
                                       "person": person_id}, follow_redirects=False)
    assert chosen.status_code == 303, chosen.text[:300]


def sign_in(client, who: Who, acting_for: str | None = None) -> None:
    client.cookies.clear()
    assert login(client, who.given_name.lower(), "citizen").status_code == 303
    if acting_for:
        act_for(client, acting_for)


def staff_sign_in(client, given: str = "anna") -> None:
    client.cookies.clear()
    assert login(client, given, "staff").status_code == 303


def visit_all(client, urls: list[str]) -> dict[str, str]:
    bodies = {}
    for url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 500, (url, response.status_code)
        bodies[url] = response.text
    return bodies


def all_addresses() -> list[str]:
    return list(ADDRESSES.values())


def test_the_demo_units_have_visiting_addresses(client):
    async def work(db):
        return {u.code: u.address for u in (await db.exec(select(Unit))).all()}

    stored = db_run(client, work)
    for code, address in ADDRESSES.items():
        assert stored[code] == address


def test_a_representative_sees_no_address_and_no_place_on_any_page(client, hedda):
    urls = citizen_urls(hedda.ids)
    assert f"/arenden/{hedda.ids['request_id']}" in urls
    assert f"/arenden/moten/{hedda.ids['meeting_id']}/kalender.ics" in urls
    secret = all_addresses() + list(hedda.places)
    for representative in hedda.representatives:
        sign_in(client, representative, acting_for=hedda.person.id)
        bodies = visit_all(client, urls)
        for url, body in bodies.items():
            for text in secret:
                assert text not in body, f"{representative.given_name} {url}: {text!r} shown"
            assert "LOCATION" not in body, url
        # What the representative sees instead: the plain explanation.
        assert HIDDEN_PLACE in " ".join(bodies["/plan"].split())
    god_man = hedda.representatives[0]
    sign_in(client, god_man, acting_for=hedda.person.id)
    request_page = client.get(f"/arenden/{hedda.ids['request_id']}").text
    assert HIDDEN_PLACE in " ".join(request_page.split())


def test_the_person_sees_addresses_and_places_and_no_ics_says_where(client, hedda):
    sign_in(client, hedda.person)
    plan = " ".join(client.get("/plan").text.split())
    assert ADDRESSES[VC] in plan and ADDRESSES[SOC] in plan
    assert hedda.places[0] in plan
    assert HIDDEN_PLACE not in plan
    request_page = client.get(f"/arenden/{hedda.ids['request_id']}").text
    assert hedda.places[1] in request_page
    assert ADDRESSES[VC] in request_page  # the participant's unit
    assert ADDRESSES[VC] in client.get(f"/meddelanden/{hedda.ids['thread_id']}").text
    assert hedda.places[1] in client.get("/").text
    # A calendar file leaves the portal: no place in it, even for the person.
    for url in ("/plan/kalender.ics", f"/arenden/moten/{hedda.ids['meeting_id']}/kalender.ics"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "LOCATION" not in response.text and "BEGIN:VEVENT" in response.text
        for place in hedda.places:
            assert place not in response.text


def test_staff_see_the_place_and_the_marker(client, hedda):
    staff_sign_in(client)
    request_page = client.get(f"/personal/arenden/{hedda.ids['request_id']}")
    assert request_page.status_code == 200
    assert hedda.places[1] in request_page.text
    assert MARKER in request_page.text
    person_page = client.get(f"/personal/personer/{hedda.person.id}")
    assert MARKER in person_page.text
    assert MARKER in client.get(f"/personal/meddelanden/{hedda.ids['thread_id']}").text
    inbox = BeautifulSoup(client.get("/personal/inkorg").text, "html.parser")
    rows = [row for row in inbox.select(".inbox-list li.card")
            if hedda.person.name in row.get_text()]
    assert rows and all(row.select_one(".protected-tag") for row in rows)
    preview = client.get(f"/personal/personer/{hedda.person.id}/plan/forhandsvisning").text
    assert ADDRESSES[VC] in preview and hedda.places[0] in preview
    ics = client.get(f"/personal/moten/{hedda.ids['meeting_id']}/kalender.ics")
    assert ics.status_code == 200 and "LOCATION" not in ics.text


def test_an_unprotected_persons_calendar_file_says_where(client):
    """The rule is about protection, not a lost LOCATION for everyone."""
    person = new_person(client, units=(VC, SOC), prefix="Open")
    decide_directly(client, person.id, "give", (VC,))
    place = _place("Rum")

    async def work(db):
        who = await db.get(Person, person.id)
        return await _request_with_meeting(db, who, Actor("person", person.id, "self"), place)

    _, meeting_id = db_run(client, work)
    sign_in(client, person)
    ics = client.get(f"/arenden/moten/{meeting_id}/kalender.ics").text
    assert "LOCATION" in ics and place in ics


def _notices_for(client, person_ids: list[str]) -> list[OutboxMessage]:
    async def work(db):
        return list((await db.exec(select(OutboxMessage).where(
            col(OutboxMessage.person_id).in_(person_ids)))).all())

    return db_run(client, work)


def test_no_notice_says_where_or_names_the_protected_person(client, hedda):
    everyone = [hedda.person.id] + [r.id for r in hedda.representatives]
    notices = _notices_for(client, everyone)
    assert notices, "the scene sends notices (meeting booked, answer, plan published)"
    settings = client.app.state.settings
    for notice in notices:
        email = outbox.render(notice, "someone@example.invalid", settings).get_content()
        texts = [email, outbox.render_sms(notice)]
        for text in texts:
            for secret in all_addresses() + list(hedda.places) + [hedda.person.given_name]:
                assert secret not in text, (notice.template, secret)


@pytest.fixture
def guardians(client):
    """A child whose guardian Ines has protected personal data; the other guardian does not.
    Ines answers about consent, asks for coordination and writes a question for the child;
    the other guardian gave consent for one unit first, so that unit waits for Ines."""
    child, (ines, other) = family(client)

    async def protect(db):
        person = await db.get(Person, ines.id)
        person.protected_identity = True
        db.add(person)

    db_run(client, protect)
    decide_directly(client, child.id, "give", (VC,), actor_id=other.id, role="guardian",
                    given_by=other.id)
    decide_directly(client, child.id, "give", (SOC,), actor_id=ines.id, role="guardian",
                    given_by=ines.id)
    as_ines = Actor("person", ines.id, "guardian")

    async def work(db):
        who = await db.get(Person, child.id)
        request_id, meeting_id = await _request_with_meeting(db, who, as_ines, _place("Rum"))
        thread_id = await _thread(db, who, as_ines, answered=False)
        return request_id, meeting_id, thread_id

    request_id, meeting_id, thread_id = db_run(client, work)
    act_id, wording_id = _act_and_wording(client, child.id, actor_id=ines.id)
    ids = {"request_id": request_id, "meeting_id": meeting_id, "thread_id": thread_id,
           "act_id": act_id, "wording_id": wording_id}
    return child, ines, other, ids


def test_the_other_guardian_never_reads_the_protected_guardians_name(client, guardians):
    child, ines, other, ids = guardians
    sign_in(client, other, acting_for=child.id)
    bodies = visit_all(client, citizen_urls(ids))
    for url, body in bodies.items():
        assert ines.given_name not in body, f"{url} names the protected guardian"
    said = {url: " ".join(body.split()) for url, body in bodies.items()}
    # Where Ines acted, the other guardian reads the neutral phrase instead.
    assert f"Väntar på svar från {NEUTRAL}" in said["/samtycke"]
    assert f"Svarat av {NEUTRAL}" in said["/samtycke/historik"]
    assert NEUTRAL in said[f"/samtycke/kvitto/{ids['act_id']}"]
    assert f"Skickat av {NEUTRAL}" in said[f"/arenden/{ids['request_id']}"]
    assert NEUTRAL in said[f"/meddelanden/{ids['thread_id']}"]


def test_the_protected_guardian_and_staff_still_read_her_name(client, guardians):
    child, ines, _other, ids = guardians
    sign_in(client, ines, acting_for=child.id)
    assert ines.name in client.get("/samtycke/historik").text
    assert ines.name in client.get(f"/arenden/{ids['request_id']}").text
    staff_sign_in(client)
    assert ines.name in client.get(f"/personal/arenden/{ids['request_id']}").text


def test_the_demo_has_a_protected_person_with_a_god_man(client, demo_ids):
    async def work(db):
        sara = await db.get(Person, demo_ids["sara"])
        return sara.protected_identity

    assert db_run(client, work)
    start = client.get("/auth/login/citizen", follow_redirects=False)
    provider = client.get(start.headers["location"]).text
    assert "Sara Lund" in provider and "Erik Dahl" in provider
