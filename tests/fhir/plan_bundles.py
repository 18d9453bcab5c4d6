"""Transaction Bundles of a plan, as a staff system (Lifecare SP) would send them."""

from __future__ import annotations

import json
import uuid

from portal.fhir import identifiers
from tests.conftest import BASE_URL

LOCAL = f"{BASE_URL}/fhir"
STAFF_SYSTEM = "urn:oid:1.2.752.29.4.19.99.1"  # the sending system's own plan ids (made up)
ANNA = "SE2321000016-A1B2"  # demo staff at Kalmar vårdcentral (HSA-id)
MARIA = "SE2120000829-C3D4"  # demo staff at Socialtjänsten i Kalmar kommun
VC_HSA = "SE2321000016-1A2B"  # Kalmar vårdcentral
SOC_HSA = "SE2120000829-3C4D"  # Socialtjänsten i Kalmar kommun


def code(name: str, value: str) -> dict:
    return {"coding": [{"system": f"{LOCAL}/CodeSystem/{name}", "code": value}]}


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def entry(resource: dict, url: str | None = None, method: str = "POST", full_url: str | None = None) -> dict:
    return {"fullUrl": full_url or urn(), "resource": resource,
            "request": {"method": method, "url": url or resource["resourceType"]}}


def plan_bundle(national_id: str, *, identifier: str | None = None, author: str = ANNA,
                performer: str = SOC_HSA, coordinator: str = ANNA, status: str = "active",
                important: str = "Att få bo kvar hemma.", system: str = identifiers.SE_PERSONNUMMER,
                follow_up: str = "2026-12-08T09:00:00Z", conditional: bool = False,
                staff_system: str = identifiers.SE_HSA_ID,
                unit_system: str = identifiers.SE_HSA_ID) -> dict:
    """A plan for the person with `national_id`: three goals, an action at `performer`'s
    unit, a follow-up meeting, a care team with a coordinator and a contact."""
    identifier = identifier or f"LC-{uuid.uuid4().hex[:10]}"
    patient, author_url, org_url, coord_url = urn(), urn(), urn(), urn()
    goals = [(urn(), section, text) for section, text in (
        ("important", important), ("self_can", "Jag kan laga frukost själv."),
        ("need_help", "Hjälp med att duscha."))]
    team_url = urn()
    care_plan = {
        "resourceType": "CarePlan", "status": status, "intent": "plan",
        "identifier": [{"system": STAFF_SYSTEM, "value": identifier}],
        "category": [code("plan-category", "sip")],
        "subject": {"reference": patient},
        "author": {"reference": author_url},
        "period": {"start": "2026-12-01", "end": "2027-06-30"},
        "goal": [{"reference": url} for url, _, _ in goals],
        "careTeam": [{"reference": team_url}],
        "activity": [
            {"id": "a1", "detail": {"code": code("plan-section", "action"), "status": "not-started",
                                    "description": "Hemtjänst morgon och kväll.",
                                    "performer": [{"reference": org_url}, {"display": "Maria Ek"}],
                                    "scheduledPeriod": {"start": "2026-12-03", "end": "2027-03-31"}}},
            {"detail": {"code": code("plan-section", "follow-up"), "status": "scheduled",
                        "scheduledPeriod": {"start": follow_up},
                        "location": {"display": "Hemma"}}},
        ],
    }
    entries = [
        entry(care_plan, f"CarePlan?identifier={STAFF_SYSTEM}|{identifier}" if conditional else None,
              "PUT" if conditional else "POST"),
        entry({"resourceType": "Patient", "identifier": [{"system": system, "value": national_id}]},
              f"Patient?identifier={system}|{national_id}", "PUT", patient),
        entry({"resourceType": "Practitioner",
               "identifier": [{"system": staff_system, "value": author}]},
              full_url=author_url),
        entry({"resourceType": "Organization",
               "identifier": [{"system": unit_system, "value": performer}]},
              full_url=org_url),
        entry({"resourceType": "Practitioner",
               "identifier": [{"system": staff_system, "value": coordinator}]},
              full_url=coord_url),
        entry({"resourceType": "CareTeam", "status": "active", "subject": {"reference": patient},
               "participant": [
                   {"role": [code("plan-role", "coordinator")], "member": {"reference": coord_url}},
                   {"role": [{**code("plan-role", "contact"), "text": "Biståndshandläggare"}],
                    "member": {"display": "Maria Ek"},
                    "extension": [{"url": f"{LOCAL}/StructureDefinition/contact-phone",
                                   "valueString": "0480-450 12"}]}]},
              full_url=team_url),
    ]
    for url, section, text in goals:
        entries.append(entry({"resourceType": "Goal", "lifecycleStatus": "active",
                              "category": [code("plan-section", section)],
                              "description": {"text": text}, "subject": {"reference": patient}},
                             full_url=url))
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def body(bundle: dict) -> bytes:
    return json.dumps(bundle).encode()


FHIR = {"Content-Type": "application/fhir+json"}
