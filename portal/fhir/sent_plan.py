"""A plan sent by a staff system as a FHIR R4 transaction Bundle, read and checked.

    sent = read_bundle(body, base_url)                  # FhirError 400 / 422
    parties = await resolve_parties(db, sent, caller)   # FhirError 422 (unknown unit/staff)
    content = sent_content(sent, parties, person)        # the plan content (portal.plans.content)

What is read (the shapes of portal.fhir.mapping, which the export writes; LOCAL is
`<base url>/fhir`):

- one CarePlan: status "active" (publish) or "draft" (the plan's draft), intent "plan",
  category LOCAL/CodeSystem/plan-category#sip, identifier = the plan's business
  identifier in the staff system (any system but ours), subject = the Patient (a national
  id identifier, portal.fhir.identifiers), author = a Practitioner (or PractitionerRole)
  by identifier: HSA-id, or LOCAL/sid/staff (StaffMember.employee_id), period;
- Goals with category LOCAL/CodeSystem/plan-section#important, #self_can, #need_help;
- activities #action (performer: an Organization by HSA-id or SOTE register OID, i.e.
  Unit.external_id, or a PractitionerRole with one; `display` = the person responsible),
  #follow-up (status scheduled; cancelled = the removed meeting) and #evaluation;
- a CareTeam: participant #coordinator (a Practitioner), #contact and #relative.

Entries are POST or PUT (a conditional `CarePlan?identifier=system|value` too). A
reference is either a bundle entry's fullUrl or a logical reference (`identifier`,
with `type`). Patients, Organizations and Practitioners are matched, never stored.
Errors name the element (FHIRPath) and never echo personal data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qs

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.core.clock import zone_of
from portal.fhir import identifiers, mapping
from portal.fhir.outcome import FhirError
from portal.fhir.tokens import Caller
from portal.people.models import Person, StaffMember, Unit
from portal.plans import content as plan_content

RESOURCE_TYPES = frozenset({"CarePlan", "Goal", "CareTeam", "Patient", "Organization",
                            "Practitioner", "PractitionerRole"})
CARE_PLAN_STATUSES = ("active", "draft")
METHODS = ("POST", "PUT")


def _invalid(code: str, diagnostics: str, expression: str, status: int = 422) -> FhirError:
    return FhirError(status, code, diagnostics, [expression])


@dataclass
class SentPlan:
    """A transaction Bundle that passed the structural checks."""

    bundle: dict  # as validated by fhir.resources (JSON shape)
    resources: dict[str, dict]  # fullUrl -> resource
    care_plan: dict
    care_plan_at: int  # its entry's index
    identifier: str  # CarePlan.identifier as "system|value"
    status: str  # "active" or "draft"
    base_url: str

    @property
    def types(self) -> list[str]:
        return [entry["resource"]["resourceType"] for entry in self.bundle["entry"]]

    def at(self, path: str) -> str:
        return f"Bundle.entry[{self.care_plan_at}].resource.{path}"


# Arrays and objects within each other. A plan Bundle needs about 12 (entry, resource,
# activity, detail, code, coding …); validation and mapping recurse, so a deep body would
# otherwise end in a RecursionError (a 500) further on.
MAX_DEPTH = 64


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON `value` nests arrays and objects more than `limit` levels (iterative:
    the check itself cannot run out of stack)."""
    level = [value]
    for _ in range(limit):
        level = [child for item in level if isinstance(item, dict | list)
                 for child in (item.values() if isinstance(item, dict) else item)]
    return any(isinstance(item, dict | list) for item in level)


def read_bundle(body: bytes, base_url: str) -> SentPlan:
    """The request body -> SentPlan. FhirError 400 (not JSON, not a valid FHIR Bundle:
    fhir.resources R4B) or 422 (valid FHIR, but not a plan transaction the portal takes)."""
    try:
        data = json.loads(body)
        deep = too_deep(data)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "structure", "The body is not valid JSON.") from None
    except RecursionError:  # deeper than the parser's own stack (about 1000 levels)
        deep = True
    if deep:
        raise FhirError(400, "structure", f"The body is nested more than {MAX_DEPTH} levels "
                        "deep; a plan needs far fewer.")
    if (not isinstance(data, dict) or data.get("resourceType") != "Bundle"
            or not isinstance(data.get("entry", []), list)):
        raise _invalid("structure", "Send a Bundle of type transaction.", "Bundle", 400)
    for index, entry in enumerate(data.get("entry") or []):
        kind = (entry.get("resource") or {}).get("resourceType") if isinstance(entry, dict) else None
        if kind not in RESOURCE_TYPES:
            raise _invalid("not-supported", "Only CarePlan, Goal, CareTeam, Patient, Organization, "
                           "Practitioner and PractitionerRole entries are taken.",
                           f"Bundle.entry[{index}].resource")
    try:
        bundle = Bundle.model_validate(data).model_dump(mode="json", exclude_none=True)
    except ValidationError as error:
        first = error.errors()[0]
        where = "Bundle" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                                   for part in first["loc"] if part != "__root__")
        raise _invalid("structure", f"Not valid FHIR R4: {first['msg']}", where, 400) from None
    except (KeyError, TypeError, ValueError):  # e.g. an unknown resourceType in `contained`
        raise _invalid("structure", "Not valid FHIR R4.", "Bundle", 400) from None
    if bundle.get("type") != "transaction":
        raise _invalid("value", "The Bundle's type must be transaction.", "Bundle.type")
    entries = bundle.get("entry") or []
    plans = [i for i, entry in enumerate(entries) if entry["resource"]["resourceType"] == "CarePlan"]
    if len(plans) != 1:
        raise _invalid("required", "The Bundle must hold exactly one CarePlan.", "Bundle.entry")
    for index, entry in enumerate(entries):
        request = entry.get("request") or {}
        kind = entry["resource"]["resourceType"]
        if request.get("method") not in METHODS:
            raise _invalid("not-supported", "Each entry must be a POST or a PUT.",
                           f"Bundle.entry[{index}].request.method")
        if request.get("url", "").split("?")[0].split("/")[0] != kind:
            raise _invalid("value", "The request url must name the entry's resource type.",
                           f"Bundle.entry[{index}].request.url")
    at = plans[0]
    care_plan = entries[at]["resource"]
    sent = SentPlan(bundle, mapping.resources_by_url(bundle), care_plan, at, "",
                    care_plan.get("status", ""), base_url)
    _check_care_plan(sent, entries[at].get("request") or {})
    return sent


def _check_care_plan(sent: SentPlan, request: dict) -> None:
    care_plan = sent.care_plan
    if sent.status not in CARE_PLAN_STATUSES:
        raise _invalid("value", "CarePlan.status must be active (publish) or draft.", sent.at("status"))
    if care_plan.get("intent") != "plan":
        raise _invalid("value", "CarePlan.intent must be plan.", sent.at("intent"))
    system, code = mapping.local_code_system(sent.base_url, mapping.PLAN_CATEGORY[0]), \
        mapping.PLAN_CATEGORY[1]
    if not any(coding.get("system") == system and coding.get("code") == code
               for concept in care_plan.get("category", []) for coding in concept.get("coding", [])):
        raise _invalid("value", f"CarePlan.category must hold {system}#{code}.", sent.at("category"))
    ours = f"{sent.base_url.rstrip('/')}/fhir/sid/"
    business = [i for i in care_plan.get("identifier", [])
                if i.get("system") and i.get("value") and not i["system"].startswith(ours)]
    if not business:
        raise _invalid("required", "CarePlan.identifier must give the plan's identifier in the "
                       "sending system (system and value).", sent.at("identifier"))
    sent.identifier = f"{business[0]['system']}|{business[0]['value']}"
    conditional = request.get("url", "").partition("?")[2]
    if conditional:
        wanted = parse_qs(conditional).get("identifier", [""])[0]
        if wanted not in {f"{i['system']}|{i['value']}" for i in business}:
            raise _invalid("value", "The conditional url's identifier must be the CarePlan's.",
                           f"Bundle.entry[{sent.care_plan_at}].request.url")
    for name in ("subject", "author"):
        if not care_plan.get(name):
            raise _invalid("required", f"CarePlan.{name} is required.", sent.at(name))


# --- references ------------------------------------------------------------------------


def _target(sent: SentPlan, reference: dict, where: str) -> tuple[str, dict | None, dict | None]:
    """(resource type, the bundle's resource or None, logical identifier or None)."""
    if reference.get("reference"):
        resource = sent.resources.get(reference["reference"])
        if resource is None:
            raise _invalid("invalid", "A reference must be the fullUrl of an entry in the Bundle, "
                           "or give an identifier.", where)
        return resource["resourceType"], resource, None
    if isinstance(reference.get("identifier"), dict):
        return reference.get("type", ""), None, reference["identifier"]
    raise _invalid("required", "The reference names nothing (give reference or identifier).", where)


def _identifiers(resource: dict | None, logical: dict | None) -> list[tuple[str, str]]:
    found = [logical] if logical else (resource or {}).get("identifier", [])
    return [(i.get("system", ""), i.get("value", "")) for i in found if i.get("value")]


def _unit_key(pairs: list[tuple[str, str]]) -> str | None:
    """Unit.external_id from an Organization's identifiers: an HSA-id, or an OID of the
    SOTE organisation register (also as a urn:oid: URI)."""
    for system, value in pairs:
        if system in (identifiers.SE_HSA_ID, identifiers.FI_SOTE_ORGANISATION_REGISTER):
            return value.removeprefix("urn:oid:")
        if system == "urn:ietf:rfc:3986" and value.startswith(identifiers.FI_SOTE_ORGANISATION_ROOT + "."):
            return value.removeprefix("urn:oid:")
    return None


def _staff_key(pairs: list[tuple[str, str]], base_url: str) -> str | None:
    """StaffMember.employee_id from a Practitioner's identifiers: HSA-id or LOCAL/sid/staff."""
    local = f"{base_url.rstrip('/')}/fhir/sid/staff"
    return next((value for system, value in pairs if system in (identifiers.SE_HSA_ID, local)), None)


@dataclass
class Parties:
    """Who the plan names, resolved to the portal's rows."""

    patient: tuple[str, str]  # national id (system, value)
    author: StaffMember
    ids: dict[str, str] = field(default_factory=dict)  # reference (canonical JSON) -> portal id


def _key(reference: dict | None) -> str:
    return json.dumps(reference or {}, sort_keys=True)


async def resolve_parties(db: AsyncSession, sent: SentPlan, caller: Caller) -> Parties:
    """Match the CarePlan's subject, author, performers and coordinator (two statements:
    units by Unit.external_id, staff by StaffMember.employee_id). FhirError 422 naming the
    element for an unknown unit or staff member, or an author outside the caller's units."""
    care_plan = sent.care_plan
    patient = _patient(sent)
    staff_wanted: list[tuple[dict, str, str]] = []  # (reference, employee id, where)
    units_wanted: list[tuple[dict, str, str]] = []
    staff_wanted.append(_staff_ref(sent, care_plan["author"], sent.at("author")))
    for a, activity in enumerate(care_plan.get("activity", [])):
        for p, performer in enumerate(activity.get("detail", {}).get("performer", [])):
            if performer.get("reference") or performer.get("identifier"):
                units_wanted.append(_unit_ref(sent, performer,
                                              sent.at(f"activity[{a}].detail.performer[{p}]")))
    for t, team_ref in enumerate(care_plan.get("careTeam", [])):
        team = sent.resources.get(team_ref.get("reference", ""))
        if team is None:
            raise _invalid("invalid", "CarePlan.careTeam must be the fullUrl of a CareTeam entry.",
                           sent.at(f"careTeam[{t}]"))
        for n, participant in enumerate(team.get("participant", [])):
            role = (participant.get("role") or [{}])[0]
            if mapping.code_of(role) == "coordinator":
                staff_wanted.append(_staff_ref(sent, participant.get("member") or {},
                                               f"CareTeam.participant[{n}].member"))
    staff = {s.employee_id: s for s in (await db.exec(select(StaffMember).where(
        col(StaffMember.employee_id).in_({key for _, key, _ in staff_wanted})))).all()}
    units = {u.external_id: u for u in (await db.exec(select(Unit).where(
        col(Unit.external_id).in_({key for _, key, _ in units_wanted})))).all()} if units_wanted else {}
    ids: dict[str, str] = {}
    for reference, key, where in staff_wanted:
        if key not in staff:
            raise _invalid("not-found", "This staff member is not known here.", where)
        ids[_key(reference)] = staff[key].id
    for reference, key, where in units_wanted:
        if key not in units:
            raise _invalid("not-found", "This unit (Organization) is not known here.", where)
        ids[_key(reference)] = units[key].id
    author = staff[staff_wanted[0][1]]
    if author.unit_id not in caller.unit_ids:
        raise _invalid("business-rule", "CarePlan.author must work at one of the units this "
                       "client acts for.", sent.at("author"))
    return Parties(patient, author, ids)


def _patient(sent: SentPlan) -> tuple[str, str]:
    where = sent.at("subject")
    kind, resource, logical = _target(sent, sent.care_plan["subject"], where)
    if kind not in ("Patient", ""):
        raise _invalid("value", "CarePlan.subject must be a Patient.", where)
    for system, value in _identifiers(resource, logical):
        if system in identifiers.NATIONAL_ID_SYSTEMS:
            return system, value
    raise _invalid("required", "The Patient needs an identifier in a national id system ("
                   + ", ".join(sorted(identifiers.NATIONAL_ID_SYSTEMS)) + ").", where)


def _staff_ref(sent: SentPlan, reference: dict, where: str) -> tuple[dict, str, str]:
    kind, resource, logical = _target(sent, reference, where)
    if kind == "PractitionerRole" and resource is not None:
        kind, resource, logical = _target(sent, resource.get("practitioner") or {}, where)
    if kind not in ("Practitioner", ""):
        raise _invalid("value", "A Practitioner (or a PractitionerRole with one) is needed here.",
                       where)
    key = _staff_key(_identifiers(resource, logical), sent.base_url)
    if key is None:
        raise _invalid("required", "The Practitioner needs an HSA-id (or the portal's staff "
                       "identifier).", where)
    return reference, key, where


def _unit_ref(sent: SentPlan, reference: dict, where: str) -> tuple[dict, str, str]:
    kind, resource, logical = _target(sent, reference, where)
    if kind == "PractitionerRole" and resource is not None:
        kind, resource, logical = _target(sent, resource.get("organization") or {}, where)
    if kind not in ("Organization", ""):
        raise _invalid("value", "A performer must be an Organization (or a PractitionerRole "
                       "with one).", where)
    key = _unit_key(_identifiers(resource, logical))
    if key is None:
        raise _invalid("required", "The Organization needs an HSA-id or a SOTE register OID.", where)
    return reference, key, where


# --- the content -----------------------------------------------------------------------


def _stable_id(sent: SentPlan, client_id: str, *parts: object) -> str:
    """An id for an action, contact, relative or meeting that stays the same across the
    versions a staff system sends of one plan (its element id, else its place)."""
    seed = "|".join([client_id, sent.identifier, *map(str, parts)])
    return "f" + hashlib.sha256(seed.encode()).hexdigest()[:21]


def _day(value: str, person: Person, where: str) -> str:
    """A FHIR date or dateTime -> YYYY-MM-DD (a moment: its date in the person's zone)."""
    if not value:
        return ""
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (moment.astimezone(zone_of(person)) if moment.tzinfo else moment).date().isoformat()
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _invalid("value", "Give a whole date (YYYY-MM-DD) here.", where) from None


def sent_content(sent: SentPlan, parties: Parties, person: Person, client_id: str) -> dict:
    """The plan content (portal.plans.content) the CarePlan carries, with portal ids and
    dates as the editor keeps them. FhirError 422 for text too long or partial dates."""
    care_plan = sent.care_plan

    def resolve(reference: dict | None, _kind: str, _resources: dict) -> str:
        return parties.ids.get(_key(reference), "")

    content = mapping.plan_content(care_plan, sent.resources, resolve=resolve, zone=zone_of(person))
    for section in plan_content.TEXT_SECTIONS:
        if len(content[section]) > plan_content.TEXT_MAX:
            raise _invalid("too-long", f"A Goal's description is longer than "
                           f"{plan_content.TEXT_MAX} characters.", "Goal.description.text")
    content["start"] = _day(content["start"], person, sent.at("period.start"))
    content["end"] = _day(content["end"], person, sent.at("period.end"))
    content["evaluation"] = _day(content["evaluation"], person, sent.at("activity"))
    actions = [a for a in care_plan.get("activity", [])
               if mapping.code_of(a.get("detail", {}).get("code")) == "action"]
    for index, (action, activity) in enumerate(zip(content["actions"], actions, strict=True)):
        where = sent.at(f"activity[{care_plan['activity'].index(activity)}]")
        if not action["status"]:
            raise _invalid("value", "An action's detail.status must be not-started, in-progress "
                           "or completed.", where + ".detail.status")
        action["id"] = _stable_id(sent, client_id, "action", activity.get("id") or index)
        action["start"] = _day(action["start"], person, where + ".detail.scheduledPeriod.start")
        action["end"] = _day(action["end"], person, where + ".detail.scheduledPeriod.end")
    for group in ("contacts", "relatives"):
        for index, item in enumerate(content[group]):
            item["id"] = _stable_id(sent, client_id, group, item.get("id") or index)
    follow = content["follow_up"]
    if any(follow.get(k) for k in ("date", "time", "place")):
        follow["id"] = _stable_id(sent, client_id, "follow-up")
    if follow.get("removed"):
        follow["removed"]["id"] = follow.get("id") or _stable_id(sent, client_id, "follow-up")
    return content


def digest(content: dict, status: str, author_id: str, person_id: str) -> str:
    """SHA-256 (hex) of what a send means (not of its bytes: fullUrls and timestamps may
    differ between two sends of the same plan)."""
    return hashlib.sha256(json.dumps({"content": content, "status": status, "author": author_id,
                                      "person": person_id}, sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()
