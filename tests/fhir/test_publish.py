"""POST /fhir/R4: a staff system publishes a plan as a transaction Bundle (issue 13)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.core.i18n import format_date
from portal.fhir.mapping import fhir_id
from portal.plans import content as plan_content
from portal.plans.models import Plan, PlanVersion
from tests.conftest import login, strip_ws
from tests.factories import SOC, VC, db_run, decide_directly, person_with_consent, viola_with_plan
from tests.fhir.helpers import bearer, mint, register
from tests.fhir.plan_bundles import ANNA, FHIR, MARIA, body, plan_bundle
from tests.shared_app import app, client, module_client, settings  # noqa: F401

WRITE = ["system/CarePlan.write"]
MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"]


def send(client, token: str, bundle: dict | bytes, headers: dict | None = None):
    data = bundle if isinstance(bundle, bytes) else body(bundle)
    return client.post("/fhir/R4", content=data, headers={**FHIR, **bearer(token), **(headers or {})})


def outcome_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/fhir+json"), response.text
    data = response.json()
    assert data["resourceType"] == "OperationOutcome", data
    return data["issue"][0]


def versions(client, person_id: str) -> list[PlanVersion]:
    async def work(db):
        return list((await db.exec(select(PlanVersion).join(Plan, col(Plan.id) == PlanVersion.plan_id)
                                   .where(Plan.person_id == person_id)
                                   .order_by(col(PlanVersion.number)))).all())

    return db_run(client, work)


def plan_of(client, person_id: str) -> Plan:
    async def work(db):
        return (await db.exec(select(Plan).where(Plan.person_id == person_id,
                                                 Plan.status != "closed"))).one()

    return db_run(client, work)


@pytest.fixture
def lifecare(database_url):
    return register(database_url, [VC])


def test_a_bundle_publishes_violas_plan_and_she_sees_where_it_came_from(client, lifecare):
    viola = db_run(client, lambda db: viola_with_plan(db, withdraw_codes=(SOC,)))[0]
    before = versions(client, viola.id)
    last_event = newest_event_id(client)
    token = mint(client, lifecare, WRITE)
    response = send(client, token, plan_bundle(viola.national_id, important="Att få bo kvar i Kalmar."))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    answer = response.json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    assert len(answer["entry"]) == 9
    first = answer["entry"][0]["response"]
    after = versions(client, viola.id)
    assert len(after) == len(before) + 1
    new = after[-1]
    assert first["status"] == "201 Created"
    assert first["location"] == f"CarePlan/{fhir_id(new.plan_id)}/_history/{new.number}"
    assert new.source_client_id == lifecare.id and new.source_identifier.startswith("urn:oid:")
    content = plan_content.load(new.content)
    assert content["important"] == "Att få bo kvar i Kalmar."
    assert content["self_can"] == "Jag kan laga frukost själv."
    assert content["actions"][0]["unit_id"] == lifecare_unit(client, SOC)
    assert content["actions"][0]["responsible"] == "Maria Ek"
    assert content["actions"][0]["status"] == "planned"
    # 09:00 UTC is 10:00 in Kalmar: the wall time the editor keeps.
    assert (content["follow_up"]["date"], content["follow_up"]["time"]) == ("2026-12-08", "10:00")
    assert content["contacts"][0]["phone"] == "0480-450 12"
    anna = staff_id(client, ANNA)
    assert new.published_by == anna and content["coordinator_id"] == anna
    # One event, by the system on Viola's behalf, naming Anna as the author: Anna did
    # nothing in the portal, and Viola's log must not say she did.
    sent = events_since(client, viola.id, last_event)
    assert [(e.action, e.actor_type, e.actor_id, e.unit_id) for e in sent] == [
        ("plan.published", "client", lifecare.id, lifecare_unit(client, VC))]
    assert sent[0].on_behalf_of == viola.id
    assert json.loads(sent[0].detail) == {"author": anna, "version": new.number}
    assert log_rows(client, viola.id, last_event) == [
        ("client", "Lifecare SP", "Publicerade en ny version av planen.", new.number)]

    client.cookies.clear()
    login(client, "viola")
    page = client.get("/plan")
    assert page.status_code == 200
    text = strip_ws(page.text)
    assert "Att få bo kvar i Kalmar." in text
    day = new.published_at.astimezone(ZoneInfo("Europe/Stockholm")).date()
    assert f"Från Lifecare SP, Region Kalmar län, {format_date(day, locale='sv')}" in text
    assert format_date(day, locale="sv").split()[1] in MONTHS  # "30 november 2026"
    # The earlier version (written in the editor) has no source line.
    older = client.get(f"/plan/{new.plan_id}/version/{new.number - 1}")
    assert older.status_code == 200 and "Från Lifecare SP" not in older.text
    same = client.get(f"/plan/{new.plan_id}/version/{new.number}")
    assert "Från Lifecare SP, Region Kalmar län," in strip_ws(same.text)


def newest_event_id(client) -> int:
    from sqlalchemy import func

    async def work(db):
        return (await db.exec(select(func.max(AuditEvent.id)))).one() or 0

    return db_run(client, work)


def events_since(client, person_id: str, after_id: int) -> list[AuditEvent]:
    async def work(db):
        return list((await db.exec(select(AuditEvent).where(
            AuditEvent.subject_person_id == person_id, col(AuditEvent.id) > after_id)
            .order_by(col(AuditEvent.id)))).all())

    return db_run(client, work)


def log_rows(client, person_id: str, after_id: int) -> list[tuple]:
    """The person's access log rows written after `after_id`, oldest first: (kind of
    actor, its name, the words, the plan version)."""
    from portal.audit.access_log import entries
    from portal.people.models import Person

    async def work(db):
        page = await entries(db, await db.get(Person, person_id), limit=None)
        return [(e.actor.kind, (e.actor.client or e.actor.staff).name, e.words, e.version)
                for e in reversed(page.entries) if e.id > after_id]

    return db_run(client, work)


def lifecare_unit(client, code: str) -> str:
    from tests.factories import unit_ids

    return unit_ids(client, code)[0]


def staff_id(client, employee_id: str) -> str:
    from portal.people.models import StaffMember

    async def work(db):
        return (await db.exec(select(StaffMember).where(StaffMember.employee_id == employee_id))).one().id

    return db_run(client, work)


def test_a_finnish_plan_by_hetu_and_sote_oid_shows_its_source_in_finland_swedish(client,
                                                                                 database_url):
    from portal.fhir import identifiers
    from tests.fhir.plan_bundles import LOCAL
    from tests.plans.helpers import as_person

    vasa = register(database_url, ["fi-vasa-hs"], name="Lifecare SP",
                    owner="Österbottens välfärdsområde")
    person = person_with_consent(client, country="FI", units=("fi-vasa-hs", "fi-vasa-soc"),
                                 consent=("fi-vasa-hs",))
    token = mint(client, vasa, WRITE)
    response = send(client, token, plan_bundle(
        person.national_id, system=identifiers.FI_HETU, author="FI-OVA-1001",
        coordinator="FI-OVA-1001", staff_system=f"{LOCAL}/sid/staff",
        performer="1.2.246.10.32162830.10.2", unit_system=identifiers.FI_SOTE_ORGANISATION_REGISTER,
        follow_up="2026-12-08T08:00:00Z"))
    assert response.status_code == 201, response.text
    new = versions(client, person.id)[-1]
    content = plan_content.load(new.content)
    assert content["actions"][0]["unit_id"] == lifecare_unit(client, "fi-vasa-soc")
    assert content["follow_up"]["time"] == "10:00"  # 08:00 UTC in Vasa
    as_person(client, person)
    text = strip_ws(client.get("/plan").text)
    day = new.published_at.astimezone(ZoneInfo("Europe/Helsinki")).date()
    assert f"Från Lifecare SP, Österbottens välfärdsområde, {day.day}.{day.month}.{day.year}" in text


def test_the_same_bundle_twice_makes_one_version(client, lifecare):
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    bundle = plan_bundle(person.national_id, conditional=True)
    first = send(client, token, bundle)
    assert first.status_code == 201, first.text
    # The same again, with other fullUrls (a new send of the same plan): 200, the same version.
    again = send(client, token, plan_bundle(person.national_id, conditional=True,
                                            identifier=bundle["entry"][0]["resource"]["identifier"][0]["value"]))
    assert again.status_code == 200, again.text
    assert again.json()["entry"][0]["response"]["status"] == "200 OK"
    assert again.json()["entry"][0]["response"]["location"] == first.json()["entry"][0]["response"]["location"]
    assert len(versions(client, person.id)) == 1
    changed = send(client, token, plan_bundle(person.national_id, important="Något nytt.",
                                              identifier=bundle["entry"][0]["resource"]["identifier"][0]["value"]))
    assert changed.status_code == 201
    assert [v.number for v in versions(client, person.id)] == [1, 2]


def test_two_concurrent_sends_make_one_version(client, lifecare, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises writers anyway)")
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    data = body(plan_bundle(person.national_id))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: send(client, token, data), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
    assert len(versions(client, person.id)) == 1


def test_a_client_set_to_drafts_leaves_the_draft_and_the_contact_person_publishes(client, database_url):
    drafts = register(database_url, [VC], publish_as="draft")
    person = person_with_consent(client)
    last_event = newest_event_id(client)
    token = mint(client, drafts, WRITE)
    bundle = plan_bundle(person.national_id, important="Ett utkast från systemet.")
    response = send(client, token, bundle)
    assert response.status_code == 201, response.text
    anna = staff_id(client, ANNA)
    # One event for the send (the plan was new: no separate "plan.created"), by the system.
    sent = events_since(client, person.id, last_event)
    assert [(e.action, e.actor_type, e.actor_id) for e in sent] == [
        ("plan.draft_saved", "client", drafts.id)]
    assert json.loads(sent[0].detail)["author"] == anna and json.loads(sent[0].detail)["created"]
    assert log_rows(client, person.id, last_event) == [
        ("client", "Lifecare SP", "Skickade ett utkast till planen från sitt eget system.", None)]
    last_event = sent[-1].id
    plan = plan_of(client, person.id)
    assert response.json()["entry"][0]["response"]["location"] == f"CarePlan/{fhir_id(plan.id)}"
    assert versions(client, person.id) == []
    assert plan.status == "draft" and plan.draft_source_client_id == drafts.id
    assert plan_content.load(plan.draft)["important"] == "Ett utkast från systemet."
    assert send(client, token, bundle).status_code == 200  # the same draft again

    async def publish(db):
        from portal.people.models import StaffMember
        from portal.plans import services

        found = await db.get(Plan, plan.id)
        anna = (await db.exec(select(StaffMember).where(StaffMember.employee_id == ANNA))).one()
        return (await services.publish(db, found, anna, found.draft_revision)).source_client_id

    assert db_run(client, publish) == drafts.id
    assert plan_of(client, person.id).draft_source_client_id is None
    # Anna published it in the portal: that is hers (the repeated draft wrote nothing).
    assert log_rows(client, person.id, last_event) == [
        ("staff", "Anna Berg", "Publicerade en ny version av planen.", 1)]


def test_no_consent_for_the_authors_unit_is_403(client, lifecare, database_url):
    person = person_with_consent(client, consent=(SOC,))  # not Kalmar vårdcentral
    token = mint(client, lifecare, WRITE)
    response = send(client, token, plan_bundle(person.national_id))
    assert response.status_code == 403
    assert outcome_of(response)["code"] == "forbidden"
    assert person.national_id not in response.text
    assert versions(client, person.id) == []


def test_consent_withdrawn_then_a_send_is_403(client, lifecare):
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    assert send(client, token, plan_bundle(person.national_id)).status_code == 201
    decide_directly(client, person.id, "withdraw", (VC,))
    response = send(client, token, plan_bundle(person.national_id, important="Efter återkallat."))
    assert response.status_code == 403
    assert len(versions(client, person.id)) == 1


def test_an_unknown_person_is_the_same_403(client, lifecare):
    token = mint(client, lifecare, WRITE)
    response = send(client, token, plan_bundle("191212121212"))
    assert response.status_code == 403
    assert outcome_of(response)["diagnostics"].startswith("The person has not consented")
    assert "191212121212" not in response.text


@pytest.mark.parametrize(("change", "where"), [
    ({"performer": "SE9999999999-XXXX"}, "Bundle.entry[0].resource.activity[0].detail.performer[0]"),
    ({"author": "SE9999999999-YYYY"}, "Bundle.entry[0].resource.author"),
    ({"coordinator": "SE9999999999-ZZZZ"}, "CareTeam.participant[0].member"),
    ({"author": MARIA}, "Bundle.entry[0].resource.author"),  # known, but not of the client's units
])
def test_unknown_units_and_staff_are_422_naming_the_element(client, lifecare, change, where):
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    response = send(client, token, plan_bundle(person.national_id, **change))
    assert response.status_code == 422, response.text
    issue = outcome_of(response)
    assert issue["expression"] == [where]
    assert "SE9999999999" not in issue["diagnostics"] and person.national_id not in response.text
    assert versions(client, person.id) == []


def test_malformed_wrong_and_oversized_bundles(client, lifecare):
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    not_json = send(client, token, b"{not json")
    assert not_json.status_code == 400 and outcome_of(not_json)["code"] == "structure"
    not_a_list = send(client, token, {"resourceType": "Bundle", "type": "transaction", "entry": {}})
    assert not_a_list.status_code == 400 and outcome_of(not_a_list)["expression"] == ["Bundle"]
    strange = plan_bundle(person.national_id)
    strange["entry"][0]["resource"]["contained"] = [{"resourceType": "Nothing"}]
    assert send(client, token, strange).status_code == 400
    collection = dict(plan_bundle(person.national_id), type="collection")
    assert outcome_of(send(client, token, collection))["expression"] == ["Bundle.type"]
    invalid = plan_bundle(person.national_id)
    del invalid["entry"][0]["resource"]["intent"]
    response = send(client, token, invalid)
    assert response.status_code == 400
    assert outcome_of(response)["expression"] == ["Bundle.entry[0].resource.intent"]
    bad_status = plan_bundle(person.national_id, status="completed")
    response = send(client, token, bad_status)
    assert response.status_code == 422
    assert outcome_of(response)["expression"] == ["Bundle.entry[0].resource.status"]
    no_category = plan_bundle(person.national_id)
    no_category["entry"][0]["resource"]["category"] = []
    assert send(client, token, no_category).status_code == 422
    other = plan_bundle(person.national_id)
    other["entry"].append({"resource": {"resourceType": "Observation"},
                           "request": {"method": "POST", "url": "Observation"}})
    response = send(client, token, other)
    assert response.status_code == 422 and outcome_of(response)["expression"] == ["Bundle.entry[9].resource"]
    wrong_type = send(client, token, plan_bundle(person.national_id), {"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and outcome_of(wrong_type)["code"] == "not-supported"
    huge = plan_bundle(person.national_id, important="x" * (300 * 1024))
    response = send(client, token, huge)
    assert response.status_code == 413
    assert outcome_of(response)["code"] == "too-costly"
    too_long = send(client, token, plan_bundle(person.national_id, important="x" * 4001))
    assert too_long.status_code == 422 and outcome_of(too_long)["code"] == "too-long"
    assert versions(client, person.id) == []


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_a_deeply_nested_body_is_400_not_500(client, lifecare, depth):
    """Nested past the parser's stack (about 1000 levels) json.loads raises RecursionError;
    past MAX_DEPTH (64) validation would recurse as deep: both are a 400 OperationOutcome."""
    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    nested = b'{"resourceType":"Bundle","type":"transaction","entry":' + \
        b"[" * depth + b"]" * depth + b"}"
    response = send(client, token, nested)
    assert response.status_code == 400, response.text
    assert outcome_of(response)["code"] == "structure"
    # Deep inside a resource, too.
    bundle = plan_bundle(person.national_id)
    bundle["entry"][0]["resource"]["extension"] = "DEEP"
    response = send(client, token, body(bundle).replace(b'"DEEP"', b"[" * depth + b"]" * depth))
    assert response.status_code == 400, response.text
    assert outcome_of(response)["code"] == "structure"
    assert versions(client, person.id) == []


def test_the_write_scope_is_needed(client, lifecare):
    person = person_with_consent(client)
    token = mint(client, lifecare, ["system/CarePlan.read", "system/Consent.read"])
    response = send(client, token, plan_bundle(person.national_id))
    assert response.status_code == 403
    assert "system/CarePlan.write" in outcome_of(response)["diagnostics"]
    assert "insufficient_scope" in response.headers["www-authenticate"]
    assert send(client, "not-a-token", plan_bundle(person.national_id)).status_code == 401
    assert versions(client, person.id) == []


def test_a_response_bundle_is_valid_fhir(client, lifecare):
    from fhir.resources.R4B.bundle import Bundle

    person = person_with_consent(client)
    token = mint(client, lifecare, WRITE)
    response = send(client, token, plan_bundle(person.national_id))
    Bundle.model_validate(json.loads(response.text))
