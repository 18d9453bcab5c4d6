"""Mina uppgifter (GDPR article 15): the page, the readable document and the FHIR file.

Each test makes its own person with a plan of two versions (Unicode, line breaks), consent
given and withdrawn, a request with a timeline, a thread, a proxy (ended) and notices.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.audit.service import Actor
from portal.fhir import identifiers
from portal.fhir.mapping import plan_versions_in
from portal.people.models import Person, Representation, Unit
from portal.people.national_id import display
from portal.plans import content as plan_content
from portal.plans import services as plans
from portal.plans.models import PlanVersion
from tests.conftest import Page
from tests.consent.helpers import act_for, sign_in
from tests.coordination.test_request_timeline import registered_by_anna, step
from tests.factories import db_run, decide_directly, new_person, represent, staff_named

VC, SOC = "se-kalmar-vc", "se-kalmar-soc"
VASA_HS = "fi-vasa-hs"
IMPORTANT = "Att få bo kvar hemma.\nAtt katten Måns får vara med 🐈 – «viktigt».\n\nÅÄÖ åäö ß ŋ 漢字"
SELF_CAN = "Laga frukost.\r\nGå till affären med rollator."
HELP = "Hjälp med medicinerna\nsärskilt på kvällen"
MESSAGE = "Hej!\nKan ni ringa mig före kl. 10? Tack 🙏"
PAGE = "/mina-uppgifter"
DOCUMENT = "/mina-uppgifter/dokument"
FHIR = "/mina-uppgifter/fhir.json"



def make_story(client, *, country: str = "SE", born: date | None = None,
               coordination: bool = False) -> dict:
    """A person with everything the export shows; returns ids and the texts used."""
    units = (VC, SOC) if country == "SE" else (VASA_HS,)
    who = new_person(client, country=country, born=born, units=units, prefix="Md")
    if coordination:
        who = _as_coordination_number(client, who)
    main_unit = units[0]
    decide_directly(client, who.id, "give", (main_unit,))
    if country == "SE":
        decide_directly(client, who.id, "give", (SOC,))
        decide_directly(client, who.id, "withdraw", (SOC,))
    staff_name = "Anna" if country == "SE" else "Johanna"
    staff_id, unit_id = staff_named(client, staff_name)

    async def write_plan(db):
        from portal.people.models import StaffMember

        person = await db.get(Person, who.id)
        staff = await db.get(StaffMember, staff_id)
        plan = await plans.create_plan(db, person, staff)
        plan = await plans.save_draft(db, plan, staff, plan.draft_revision, {
            "important": "Första versionen.", "self_can": "", "need_help": ""})
        await plans.publish(db, plan, staff, plan.draft_revision)
        changes = {
            "important": IMPORTANT, "self_can": SELF_CAN, "need_help": HELP,
            "actions": [{"id": "a_b-1", "what": "Hemtjänst morgon och kväll\nvarje dag",
                         "unit_id": unit_id, "responsible": "Åsa Öst", "start": "2026-12-01",
                         "end": "2027-02-28", "status": "ongoing"},
                        {"id": "x-2", "what": "Läkemedelsgenomgång", "unit_id": unit_id,
                         "responsible": "", "start": "", "end": "", "status": "planned"}],
            "contacts": [{"id": "c_1", "name": "Eva Ek", "role": "Arbetsterapeut",
                          "phone": "0480-123 45", "hours": "Mån–fre 8–10"},
                         {"id": "c2", "name": "Nils", "role": "", "phone": "", "hours": ""}],
            "relatives": [{"id": "r_1", "name": "Sven Svensson", "relation": "granne"}],
            "follow_up": {"date": "2027-01-12", "time": "13:30", "place": "Vårdcentralen, rum 4",
                          "id": "meet_1"},
            "start": "2026-12-01", "end": "2027-06-30", "evaluation": "2027-03-01",
        }
        plan = await plans.save_draft(db, plan, staff, plan.draft_revision, changes)
        await plans.publish(db, plan, staff, plan.draft_revision)
        return plan.id

    plan_id = db_run(client, write_plan)
    request_id = registered_by_anna(client, who.id) if country == "SE" else None
    if request_id:
        step(client, request_id, who.id, "assigned", {"staff_id": staff_id})
    proxy = new_person(client, country=country, prefix="Mp")
    represent(client, proxy, who, "proxy")
    ended = new_person(client, country=country, prefix="Me")
    represent(client, ended, who, "proxy", scope="plan:read")

    async def end_it(db):
        rep = (await db.exec(select(Representation).where(
            Representation.representative_id == ended.id))).one()
        rep.ended_at = datetime.now(UTC) - timedelta(hours=1)
        rep.ended_by = who.id
        db.add(rep)

    db_run(client, end_it)

    async def write_thread(db):
        from portal.messages import services as messages

        person = await db.get(Person, who.id)
        unit = await db.get(Unit, unit_id)
        await messages.start_thread(db, person=person, unit=unit, subject="Fråga om tider",
                                    body=MESSAGE, actor=Actor("person", who.id, "self"),
                                    key="k-" + who.id, now=datetime.now(UTC))

    db_run(client, write_thread)
    return {"who": who, "plan_id": plan_id, "request_id": request_id, "proxy": proxy,
            "ended": ended, "staff_id": staff_id, "unit_id": unit_id}


def _as_coordination_number(client, who):
    """Give the person a samordningsnummer (birth day plus 60) instead."""
    from portal.people.national_id import swedish_with_check_digit

    async def work(db):
        import random

        person = await db.get(Person, who.id)
        born = person.birth_date
        while True:
            first = f"{born:%y%m}{born.day + 60:02d}{random.randint(100, 979):03d}"
            number = swedish_with_check_digit(first, str(born.year)[:2])
            taken = (await db.exec(select(Person).where(Person.national_id == number))).first()
            if taken is None:
                break
        person.national_id = number
        db.add(person)
        return number

    who.national_id = db_run(client, work)
    return who


def exports_recorded(client, person_id: str) -> list[AuditEvent]:
    async def work(db):
        return list((await db.exec(select(AuditEvent).where(
            AuditEvent.subject_person_id == person_id,
            col(AuditEvent.action).startswith("my_data.")).order_by(col(AuditEvent.id)))).all())

    return db_run(client, work)


def versions_of(client, plan_id: str) -> dict[int, dict]:
    async def work(db):
        rows = (await db.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id))).all()
        return {v.number: plan_content.load(v.content) for v in rows}

    return db_run(client, work)


@pytest.fixture
def story(client):
    return make_story(client)


# --- the page ------------------------------------------------------------------------------


def test_the_page_says_what_is_stored_and_offers_both_downloads(client, page, story):
    sign_in(client, story["who"])
    shown = page(PAGE)
    assert shown.h1 == "Dina uppgifter"
    text = shown.text()
    for kind in ("Vem du är", "Planer", "Samtycke", "Ärenden", "Meddelanden", "Aviseringar",
                 "Loggen", "Så länge sparar vi det", "Vart du vänder dig"):
        assert kind in text
    links = {a["href"] for a in shown.select("main a")}
    assert {DOCUMENT, FHIR} <= links
    assert exports_recorded(client, story["who"].id) == []  # the page itself makes nothing


def test_the_page_reads_finland_swedish_in_the_finnish_variant(client, page):
    who = new_person(client, country="FI", units=(VASA_HS,), prefix="Mf")
    sign_in(client, who)
    client.get("/sprak/sv-FI?next=/")
    text = page(PAGE).text()
    assert "personbeteckning" in text and "personnummer" not in text
    assert "intressebevakare" in text


# --- the readable document ----------------------------------------------------------------


def test_the_document_holds_everything(client, page, story):
    who = story["who"]
    sign_in(client, who)
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "mina-uppgifter.html" in response.headers["content-disposition"]
    shown = Page(response)
    text = shown.text()
    # Identity, without the number in the URL, but in the document the person asked for.
    assert display(who.national_id, who.country) in text
    # Every plan version, newest first, with the exact texts (line breaks kept).
    headings = [h.get_text(" ", strip=True) for h in shown.select("h3")]
    assert "Planen, version 2" in headings and "Planen, version 1" in headings
    assert headings.index("Planen, version 2") < headings.index("Planen, version 1")
    texts = [p.get_text() for p in shown.select("p.plan-text")]
    assert IMPORTANT in texts and "Första versionen." in texts
    assert SELF_CAN.replace("\r\n", "\n") in [t.replace("\r\n", "\n") for t in texts]
    assert "Vårdcentralen, rum 4" in text
    # Each consent event with the wording shown.
    from portal.consent.wording import SENTENCES

    wordings = shown.select("ul.export-wording")
    assert len(wordings) == 2  # give, give; a withdrawal shows no text
    for sentence in SENTENCES:
        assert sentence in wordings[0].get_text()
    assert "Tog tillbaka samtycket" in text
    # The request and its timeline; the message; the representatives, the ended one too.
    assert "Ringde om sin pappa." in text
    assert "En kontaktperson har tagit ärendet" in text
    assert MESSAGE in [p.get_text() for p in shown.select("p.plan-text")]
    assert story["proxy"].name in text and story["ended"].name in text
    assert "Avslutades" in text
    # Notices: when, how and what about, never their content.
    notices = shown.select("section.export-section table")[0].get_text(" ")
    assert "Något har ändrats i SIP-portalen" in notices
    assert "Logga in för att se vad" not in text
    assert exports_recorded(client, who.id)[-1].action == "my_data.document"


def test_the_document_lists_reads_by_staff_and_representatives(client, page, story):
    who, proxy = story["who"], story["proxy"]
    sign_in(client, proxy)
    act_for(client, page, who.id)
    assert client.get("/plan").status_code == 200  # Johan-like: a proxy reads the plan
    client.cookies.clear()
    sign_in(client, who)
    assert client.get("/plan").status_code == 200  # the person's own read: not listed
    log = Page(client.get(DOCUMENT)).select("section.export-section")[-1]
    rows = [" ".join(li.get_text(" ").split()) for li in log.select("li.log-entry")]
    assert any(proxy.name in row and "Läste planen." in row for row in rows)
    assert not any(who.name in row for row in rows)


# --- the FHIR file -------------------------------------------------------------------------


def _bundle(client, who) -> dict:
    sign_in(client, who)
    response = client.get(FHIR)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="mina-uppgifter-fhir.json"'
    return response.json()


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_validates_and_has_every_kind_of_resource(client, story):
    bundle = _bundle(client, story["who"])
    parsed = Bundle.model_validate(bundle)  # fhir.resources: raises on anything invalid
    assert parsed.type == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "CarePlan", "Goal", "CareTeam", "Consent", "Task", "Communication",
            "Organization", "Practitioner", "PractitionerRole", "RelatedPerson"} <= kinds
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    # Every reference points into the bundle (or is a display only).
    text = json.dumps(bundle)
    for reference in {part.split('"')[0] for part in text.split('"reference": "')[1:]}:
        assert reference.startswith("#") or reference in urls, reference
    communication = _resources(bundle, "Communication")[0]
    assert communication["payload"][0]["contentString"] == MESSAGE
    consent = next(c for c in _resources(bundle, "Consent") if c["status"] == "active")
    shown = base64.b64decode(consent["sourceAttachment"]["data"]).decode()
    from portal.consent.wording import SENTENCES

    assert shown.split("\n") == SENTENCES
    assert [c["provision"]["type"] for c in _resources(bundle, "Consent")].count("deny") == 1
    task = _resources(bundle, "Task")[0]
    assert task["status"] == "accepted" and task["description"] == "Ringde om sin pappa."
    hsa = [p for p in _resources(bundle, "Practitioner")
           if p["identifier"][0]["system"] == identifiers.SE_HSA_ID]
    assert hsa, "Swedish staff carry their HSA-id"
    relations = _resources(bundle, "RelatedPerson")
    assert len(relations) == 2 and sum("end" in r["period"] for r in relations) == 1
    assert exports_recorded(client, story["who"].id)[-1].action == "my_data.fhir"


def test_the_bundle_round_trips_every_plan_version(client, story):
    bundle = _bundle(client, story["who"])
    back = plan_versions_in(bundle)
    stored = versions_of(client, story["plan_id"])
    assert set(back) == {(story["plan_id"], n) for n in stored}
    for number, content in stored.items():
        assert back[(story["plan_id"], number)] == content, number
    assert back[(story["plan_id"], 2)]["important"] == IMPORTANT
    care_plans = {c["meta"]["versionId"]: c for c in _resources(bundle, "CarePlan")}
    assert care_plans["2"]["status"] == "active" and care_plans["1"]["status"] == "revoked"
    assert care_plans["2"]["replaces"][0]["reference"] == \
        next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is care_plans["1"])


def test_a_removed_follow_up_round_trips_too(client):
    story = make_story(client)
    staff_id = story["staff_id"]

    async def remove(db):
        from portal.people.models import StaffMember

        plan = await plans.open_plan(db, story["who"].id)
        staff = await db.get(StaffMember, staff_id)
        draft = plan_content.load(plan.draft)
        before = {k: v for k, v in draft["follow_up"].items() if k != "removed"}
        plan = await plans.save_draft(db, plan, staff, plan.draft_revision, {
            "follow_up": {"date": "", "time": "", "place": "", "removed": before}})
        await plans.publish(db, plan, staff, plan.draft_revision)

    db_run(client, remove)
    back = plan_versions_in(_bundle(client, story["who"]))
    stored = versions_of(client, story["plan_id"])
    assert stored[3]["follow_up"]["removed"]["place"] == "Vårdcentralen, rum 4"
    for number, content in stored.items():
        assert back[(story["plan_id"], number)] == content, number


@pytest.mark.parametrize(("country", "coordination", "system"), [
    ("SE", False, identifiers.SE_PERSONNUMMER),
    ("SE", True, identifiers.SE_SAMORDNINGSNUMMER),
    ("FI", False, identifiers.FI_HETU),
])
def test_the_national_id_has_the_official_system(client, country, coordination, system):
    who = new_person(client, country=country, prefix="Mi",
                     units=(VC,) if country == "SE" else (VASA_HS,))
    if coordination:
        who = _as_coordination_number(client, who)
    bundle = _bundle(client, who)
    patient = _resources(bundle, "Patient")[0]
    assert patient["identifier"] == [{"use": "official", "system": system,
                                      "value": who.national_id}]


def test_a_finnish_persons_story_exports_too(client):
    story = make_story(client, country="FI")
    bundle = _bundle(client, story["who"])
    Bundle.model_validate(bundle)
    back = plan_versions_in(bundle)
    for number, content in versions_of(client, story["plan_id"]).items():
        assert back[(story["plan_id"], number)] == content


# --- who may, and what is recorded -----------------------------------------------------------


def test_each_download_is_recorded_once_with_who_and_for_whom(client, page, story):
    who, proxy = story["who"], story["proxy"]
    sign_in(client, proxy)
    act_for(client, page, who.id)
    assert client.get(DOCUMENT).status_code == 200
    assert client.get(FHIR).status_code == 200
    events = exports_recorded(client, who.id)
    assert [e.action for e in events] == ["my_data.document", "my_data.fhir"]
    for event in events:
        assert event.actor_id == proxy.id and event.role == "proxy"
        assert event.on_behalf_of == who.id and event.object_id == who.id


def test_a_representative_without_every_scope_gets_the_scope_page(client, page):
    who = new_person(client, units=(VC,), prefix="Ms")
    proxy = new_person(client, prefix="Mq")
    represent(client, proxy, who, "proxy", scope="plan:read consent requests messages")
    sign_in(client, proxy)
    act_for(client, page, who.id)
    for url in (PAGE, DOCUMENT, FHIR):
        response = client.get(url)
        assert response.status_code == 403, url
        assert Page(response).h1 == f"Det här kan du inte göra för {who.given_name}"
    assert exports_recorded(client, who.id) == []


def test_staff_and_visitors_are_refused(client, story):
    client.cookies.clear()
    for url in (PAGE, DOCUMENT, FHIR):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/"
    sign_in(client, "anna", "staff")
    for url in (PAGE, DOCUMENT, FHIR):
        assert client.get(url, follow_redirects=False).status_code == 403


def test_no_national_id_in_any_url_or_file_name(client, page, story):
    who = story["who"]
    sign_in(client, who)
    number = who.national_id
    shown = page(PAGE)
    for link in shown.select("a"):
        assert number not in link["href"] and number[2:] not in link["href"]
    response = client.get(FHIR)
    assert number not in response.headers["content-disposition"]
    assert who.given_name not in response.headers["content-disposition"]
    assert number not in client.get(DOCUMENT).headers["content-disposition"]


def test_a_representative_of_a_protected_person_gets_no_places(client, page):
    story = make_story(client)
    who, proxy = story["who"], story["proxy"]

    async def protect(db):
        person = await db.get(Person, who.id)
        person.protected_identity = True
        db.add(person)
        unit = await db.get(Unit, story["unit_id"])
        unit.address = unit.address or "Storgatan 1, Kalmar"
        db.add(unit)

    db_run(client, protect)
    sign_in(client, proxy)
    act_for(client, page, who.id)
    text = Page(client.get(DOCUMENT)).text()
    assert "Vårdcentralen, rum 4" not in text
    bundle = client.get(FHIR).json()
    dumped = json.dumps(bundle, ensure_ascii=False)
    assert "Vårdcentralen, rum 4" not in dumped and "Storgatan" not in dumped
    # The person themself sees everything.
    client.cookies.clear()
    sign_in(client, who)
    assert "Vårdcentralen, rum 4" in Page(client.get(DOCUMENT)).text()


def test_the_file_names_only_the_units_it_refers_to(client, page, story):
    bundle = _bundle(client, story["who"])
    urls = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps([e["resource"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "Organization"])
    organizations = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization"]
    assert organizations, "the story's units are referred to"
    for entry in organizations:
        assert f'"{entry["fullUrl"]}"' in text  # referred to by something else in the file
        assert all("text" not in kind for kind in entry["resource"].get("type", []))
    assert len(organizations) < 7 and urls  # not every unit the portal knows
