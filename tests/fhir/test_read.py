"""Reading Consent and CarePlan through the FHIR API (portal.fhir.read), over real HTTP.

Fresh people per test (tests.factories), consent through the real consent service, a
plan through the real plan service, tokens as the token endpoint issues them.
"""

from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.fhir import identifiers
from tests.factories import (
    AVD12,
    SOC,
    VC,
    Who,
    db_run,
    decide_directly,
    new_person,
    person_with_consent,
    staff_named,
)
from tests.fhir.helpers import ALL, bearer, mint, register
from tests.shared_app import app, client, module_client, settings  # noqa: F401

HSA_VC = "SE2321000016-1A2B"


def patient(who: Who) -> str:
    return f"{identifiers.national_id_system(who.national_id, who.country)}|{who.national_id}"


def search(client, resource: str, token: str | None, **params):
    headers = bearer(token) if token else {}
    return client.get(f"/fhir/R4/{resource}", params=params, headers=headers)


def outcome_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    if code:
        assert body["issue"][0]["code"] == code, body
    return body


def bundle_of(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    Bundle.model_validate(body)  # a valid R4 searchset
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    return body


def matches(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", [])
            if e["search"]["mode"] == "match" and e["resource"]["resourceType"] == kind]


def log_rows(client, person_id: str, action: str) -> list[AuditEvent]:
    async def work(db):
        return list((await db.exec(select(AuditEvent).where(
            AuditEvent.subject_person_id == person_id, AuditEvent.action == action)
            .order_by(col(AuditEvent.id)))).all())

    return db_run(client, work)


def with_plan(client, who: Who) -> None:
    """A published plan for `who`, written by Anna (Kalmar vårdcentral), with goals, an
    action at the unit, a contact and a follow-up."""
    from portal.people.models import Person, StaffMember
    from portal.plans import services as plans

    anna_id, vc_id = staff_named(client, "Anna")

    async def work(db):
        person = await db.get(Person, who.id)
        anna = await db.get(StaffMember, anna_id)
        plan = await plans.create_plan(db, person, anna)
        plan = await plans.save_draft(db, plan, anna, plan.draft_revision, {
            "important": "Att kunna bo kvar hemma.", "self_can": "Laga frukost.",
            "need_help": "Handla mat.", "coordinator_id": anna_id,
            "actions": [{"id": "act1", "what": "Hemtjänst tre dagar i veckan", "unit_id": vc_id,
                         "responsible": "Anna Berg", "start": "2026-12-01", "end": "",
                         "status": "planned"}],
            "contacts": [{"id": "c1", "name": "Eva Ek", "role": "Dotter", "phone": "070-1",
                          "hours": ""}],
            "follow_up": {"date": "2026-12-08", "time": "10:00", "place": "Hemma"},
            "start": "2026-12-01"})
        await plans.publish(db, plan, anna, plan.draft_revision)

    db_run(client, work)


# --- Consent -----------------------------------------------------------------------------


def test_consent_given_is_active_for_the_calling_unit_only(client, database_url):
    who = person_with_consent(client, units=(VC, SOC, AVD12), consent=(VC, SOC))
    system = register(database_url, [VC])
    token = mint(client, system, ["system/Consent.read"])
    bundle = bundle_of(search(client, "Consent", token, patient=patient(who)))
    assert bundle["total"] == 1
    [consent] = matches(bundle, "Consent")
    assert consent["status"] == "active"
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert consent["provision"]["type"] == "permit"
    [actor] = [a["reference"] for a in consent["provision"]["actor"]]
    assert actor["identifier"] == {"use": "official", "system": identifiers.SE_HSA_ID,
                                   "value": HSA_VC}
    assert actor["display"] == "Kalmar vårdcentral"
    assert "reference" not in actor  # a logical reference: no Organization is sent along
    assert consent["patient"] == {"type": "Patient", "identifier": {
        "system": identifiers.SE_PERSONNUMMER, "value": who.national_id}}
    assert consent["dateTime"].startswith(str(date.today().year))
    # Nothing about the other unit the person consented to, and no Patient resource.
    assert "SE2120000829" not in str(bundle)
    assert all(e["resource"]["resourceType"] == "Consent" for e in bundle["entry"])
    assert "performer" not in consent  # who decided is the person's record
    [row] = log_rows(client, who.id, "fhir.consent.read")
    assert (row.actor_type, row.actor_id, row.role) == ("client", system.id, "fhir")
    assert row.unit_id == system.unit_ids[0]


def test_withdrawn_consent_is_inactive_and_the_next_plan_read_is_refused(client, database_url):
    who = person_with_consent(client, units=(VC,), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [VC])
    token = mint(client, system, ["system/Consent.read", "system/CarePlan.read"])
    assert bundle_of(search(client, "CarePlan", token, patient=patient(who)))["total"] == 1

    decide_directly(client, who.id, "withdraw", (VC,))
    outcome = outcome_of(search(client, "CarePlan", token, patient=patient(who)), 403, "forbidden")
    assert who.national_id not in str(outcome)
    bundle = bundle_of(search(client, "Consent", token, patient=patient(who)))
    [consent] = matches(bundle, "Consent")
    assert consent["status"] == "inactive"
    assert consent["provision"]["type"] == "deny"
    assert consent["policyRule"]["coding"][0]["code"] == "OPTOUT"


@pytest.mark.parametrize("resource", ["Consent", "CarePlan"])
def test_post_search_keeps_the_identifier_out_of_the_url_and_answers_the_same(client, database_url,
                                                                            resource):
    """POST [type]/_search with the parameters in a form body answers exactly what the GET
    search does; a JSON body is refused (415), an unknown parameter in the body too (400)."""
    who = person_with_consent(client, units=(VC,), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [VC])
    token = mint(client, system, ["system/Consent.read", "system/CarePlan.read"])
    by_get = bundle_of(search(client, resource, token, patient=patient(who)))
    response = client.post(f"/fhir/R4/{resource}/_search", data={"patient": patient(who)},
                           headers=bearer(token))
    by_post = bundle_of(response)
    assert who.national_id not in str(response.request.url)
    assert by_post["total"] == by_get["total"] == 1
    assert [e["resource"]["id"] for e in by_post["entry"]] == [e["resource"]["id"] for e in by_get["entry"]]
    outcome_of(client.post(f"/fhir/R4/{resource}/_search", json={"patient": patient(who)},
                           headers=bearer(token)), 415, "not-supported")
    outcome_of(client.post(f"/fhir/R4/{resource}/_search",
                           data={"patient": patient(who), "_count": "5"}, headers=bearer(token)),
               400, "not-supported")
    outcome_of(client.post(f"/fhir/R4/{resource}/_search", data={"patient": patient(who)}), 401)
    # Nested JSON means nothing in a form body (a malformed token), nor as a JSON body (415).
    deep = "[" * 5000 + "]" * 5000
    outcome_of(client.post(f"/fhir/R4/{resource}/_search", data={"patient": deep},
                           headers=bearer(token)), 400)
    outcome_of(client.post(f"/fhir/R4/{resource}/_search", content=deep.encode(),
                           headers={**bearer(token), "Content-Type": "application/json"}),
               415, "not-supported")


def test_a_unit_that_works_with_the_person_without_an_answer_gets_an_empty_searchset(
        client, database_url):
    who = new_person(client, units=(SOC,))
    system = register(database_url, [SOC])
    token = mint(client, system, ["system/Consent.read"])
    bundle = bundle_of(search(client, "Consent", token, patient=patient(who)))
    assert bundle["total"] == 0 and "entry" not in bundle
    # The person asked for time to think: proposed, for this unit.
    decide_directly(client, who.id, "think")
    [consent] = matches(bundle_of(search(client, "Consent", token, patient=patient(who))),
                        "Consent")
    assert consent["status"] == "proposed"
    assert "type" not in consent["provision"]
    assert consent["provision"]["actor"][0]["reference"]["identifier"]["value"] == "SE2120000829-3C4D"


def test_a_client_of_two_units_gets_one_consent_each(client, database_url):
    who = person_with_consent(client, units=(VC, SOC, AVD12), consent=(VC, SOC))
    decide_directly(client, who.id, "withdraw", (SOC,))
    system = register(database_url, [VC, SOC])
    token = mint(client, system, ["system/Consent.read"])
    bundle = bundle_of(search(client, "Consent", token, patient=patient(who)))
    states = {c["provision"]["actor"][0]["reference"]["display"]: c["status"]
              for c in matches(bundle, "Consent")}
    assert states == {"Kalmar vårdcentral": "active",
                      "Socialtjänsten i Kalmar kommun": "inactive"}
    assert len({c["id"] for c in matches(bundle, "Consent")}) == 2
    [row] = log_rows(client, who.id, "fhir.consent.read")
    assert row.unit_id is None and sorted(system.unit_ids)[0] in row.detail


def test_an_unknown_person_and_one_without_relation_get_the_same_403(client, database_url):
    stranger = new_person(client, units=(AVD12,))
    system = register(database_url, [VC])
    token = mint(client, system, ["system/Consent.read", "system/CarePlan.read"])
    unrelated = outcome_of(search(client, "Consent", token, patient=patient(stranger)), 403)
    unknown = outcome_of(search(client, "Consent", token,
                                patient=f"{identifiers.SE_PERSONNUMMER}|199001019802"), 403)
    assert unrelated == unknown
    assert outcome_of(search(client, "CarePlan", token, patient=patient(stranger)), 403) == unknown
    assert log_rows(client, stranger.id, "fhir.consent.read") == []
    assert log_rows(client, stranger.id, "fhir.careplan.read") == []


def test_a_finnish_person_by_hetu(client, database_url):
    who = person_with_consent(client, country="FI", units=("fi-vasa-hs",), consent=("fi-vasa-hs",))
    system = register(database_url, ["fi-vasa-hs"], name="Apotti", owner="Österbottens välfärdsområde")
    token = mint(client, system, ["system/Consent.read"])
    [consent] = matches(bundle_of(search(client, "Consent", token,
                                         patient=f"{identifiers.FI_HETU}|{who.national_id}")),
                        "Consent")
    assert consent["status"] == "active"
    assert consent["provision"]["actor"][0]["reference"]["identifier"] == {
        "use": "official", "system": identifiers.FI_SOTE_ORGANISATION_REGISTER,
        "value": "1.2.246.10.32162830.10.1"}


# --- CarePlan ----------------------------------------------------------------------------


def test_careplan_is_the_current_version_with_goals_and_care_team(client, database_url):
    who = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [VC])
    token = mint(client, system, ["system/CarePlan.read"])
    bundle = bundle_of(search(client, "CarePlan", token, patient=patient(who)))
    assert bundle["total"] == 1
    [plan] = matches(bundle, "CarePlan")
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert plan["meta"]["versionId"] == "1"
    assert plan["subject"]["identifier"]["value"] == who.national_id
    included = {e["fullUrl"]: e["resource"] for e in bundle["entry"]
                if e["search"]["mode"] == "include"}
    goals = [included[g["reference"]]["description"]["text"] for g in plan["goal"]]
    assert goals == ["Att kunna bo kvar hemma.", "Laga frukost.", "Handla mat."]
    team = included[plan["careTeam"][0]["reference"]]
    assert team["resourceType"] == "CareTeam"
    assert {p["member"].get("display") for p in team["participant"]} >= {"Eva Ek"}
    [action] = [a for a in plan["activity"] if a["detail"]["code"]["coding"][0]["code"] == "action"]
    performer = action["detail"]["performer"][0]
    assert performer["identifier"]["value"] == HSA_VC
    assert included[performer["reference"]]["resourceType"] == "Organization"
    kinds = {r["resourceType"] for r in included.values()}
    assert kinds == {"Goal", "CareTeam", "Organization", "Practitioner", "PractitionerRole"}
    assert "Patient" not in str([r["resourceType"] for r in included.values()])
    [row] = log_rows(client, who.id, "fhir.careplan.read")
    assert row.actor_type == "client" and '"version": 1' in row.detail


def test_no_plan_is_an_empty_searchset(client, database_url):
    who = person_with_consent(client, units=(VC,), consent=(VC,))
    system = register(database_url, [VC])
    token = mint(client, system, ["system/CarePlan.read"])
    bundle = bundle_of(search(client, "CarePlan", token, patient=patient(who)))
    assert bundle["total"] == 0 and "entry" not in bundle


def test_careplan_needs_consent_for_the_calling_unit(client, database_url):
    who = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [SOC])
    token = mint(client, system, ["system/CarePlan.read"])
    outcome_of(search(client, "CarePlan", token, patient=patient(who)), 403, "forbidden")


# --- Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["Consent", "CarePlan"])
def test_errors_are_operation_outcomes(client, database_url, resource):
    who = person_with_consent(client, units=(VC,), consent=(VC,))
    system = register(database_url, [VC])
    scope = f"system/{resource}.read"
    token = mint(client, system, [scope])
    outcome_of(search(client, resource, None, patient=patient(who)), 401, "login")
    outcome_of(search(client, resource, "expired-or-unknown", patient=patient(who)), 401)
    other = [s for s in ALL if s != scope]
    refused = search(client, resource, mint(client, system, other), patient=patient(who))
    outcome_of(refused, 403, "forbidden")
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    outcome_of(search(client, resource, token), 400, "required")
    outcome_of(search(client, resource, token, patient=who.national_id), 400, "required")
    outcome_of(search(client, resource, token, patient=f"urn:oid:1.2.3|{who.national_id}"), 400)
    outcome_of(search(client, resource, token,
                      patient=f"{identifiers.SE_PERSONNUMMER}|19121212121X"), 400, "value")
    body = outcome_of(search(client, resource, token, patient=patient(who), status="active"),
                      400, "not-supported")
    assert body["issue"][0]["expression"] == ["status"]
    outcome_of(client.get(f"/fhir/R4/{resource}", headers=bearer(token),
                          params=[("patient", patient(who)), ("patient", patient(who))]), 400)
    # None of these read the person.
    assert log_rows(client, who.id, f"fhir.{resource.lower()}.read") == []


def test_the_searches_run_the_same_statements_however_long_the_history(client, app, database_url):
    from tests.core.test_query_counts import counting

    who = person_with_consent(client, units=(VC, SOC), consent=(VC,))
    with_plan(client, who)
    system = register(database_url, [VC])
    token = mint(client, system, ["system/Consent.read", "system/CarePlan.read"])

    def statements(resource: str) -> int:
        with counting(app) as counted:
            assert search(client, resource, token, patient=patient(who)).status_code == 200
        return counted.statements

    before = {r: statements(r) for r in ("Consent", "CarePlan")}
    for _ in range(3):
        decide_directly(client, who.id, "withdraw", (VC,))
        decide_directly(client, who.id, "give", (VC, SOC))
        with_plan(client, who)  # the open plan again: one more version each time
    assert {r: statements(r) for r in ("Consent", "CarePlan")} == before
    assert before["Consent"] <= 8 and before["CarePlan"] <= 12, before
