"""A person's data as an HL7 FHIR R4 `Bundle`, and a plan back from its CarePlan.

Built as plain JSON and validated with the `fhir.resources` models of the R4B package
(`fhir.resources.R4B`): R4B changed medication and product resources, but keeps the R4
(4.0.1) structure of every resource used here, so the file is R4 too. The bundle is of
type "collection"; every resource has a `urn:uuid:` fullUrl (stable: derived from its
type and id) and references point to those. Resource ids are the portal's opaque ids with
"_" written "." (FHIR ids allow letters, digits, "-" and "."; ours never hold a "."), so
they map back exactly. National ids use the official systems of `portal.fhir.identifiers`.

Where each field goes (LOCAL is `<base url>/fhir`, the portal's own systems):

| Portal                                  | FHIR R4                                              |
|-----------------------------------------|------------------------------------------------------|
| Person.national_id                      | Patient.identifier (personnummer, samordningsnummer or HETU system) |
| Person.given_name / family_name         | Patient.name.given / Patient.name.family (+ .text)   |
| Person.birth_date                       | Patient.birthDate                                    |
| Person.email / phone                    | Patient.telecom (email / phone)                      |
| Person.protected_identity               | Patient.meta.security v3-Confidentiality "R"         |
| Unit (only those referenced)            | Organization (identifier LOCAL/sid/unit = code and the official external_id: HSA-id or SOTE OID, name, type = LOCAL/CodeSystem/unit-kind kind, partOf.display = organisation, telecom, address.text) |
| StaffMember                             | Practitioner (identifier: HSA-id, or LOCAL/sid/staff) and PractitionerRole (code.text = title, organization) |
| Representation (someone acts for them)  | RelatedPerson (relationship v3-RoleCode GUARD or POWATT, .text = appointment, period, extension LOCAL/StructureDefinition/representation-scope) |
| Plan + PlanVersion (one per version)    | CarePlan (identifier LOCAL/sid/plan = plan id, meta.versionId = number, category LOCAL/CodeSystem/plan-category#sip, replaces = the version before, created = published, author = publisher) |
| Plan content "important"                | Goal (category LOCAL/CodeSystem/plan-section#important) .description.text |
| Plan content "self_can"                 | Goal (… #self_can) .description.text                 |
| Plan content "need_help"                | Goal (… #need_help) .description.text                |
| Plan content action                     | CarePlan.activity (id = action id, detail.code #action): detail.description = what, detail.performer = Organization (unit) and {display: responsible}, detail.scheduledPeriod = start/end, detail.status planned/ongoing/done = not-started/in-progress/completed |
| Plan content follow_up                  | CarePlan.activity (id = meeting id, detail.code #follow-up, status scheduled): scheduledPeriod.start = date (and time, with the person's offset), location.display = place; `removed`: the same, status cancelled |
| Plan content start / end                | CarePlan.period.start / .end                          |
| Plan content evaluation                 | CarePlan.activity (detail.code #evaluation) .scheduledPeriod.start |
| Plan content coordinator_id             | CareTeam.participant (role #coordinator) .member = Practitioner; CarePlan.careTeam |
| Plan content contacts                   | CareTeam.participant (id = contact id, role #contact, role.text = role, member.display = name, extensions LOCAL/StructureDefinition/contact-phone, contact-hours) |
| Plan content relatives                  | CareTeam.participant (id, role #relative, role.text = relation, member.display = name) |
| ConsentAct (+ events, wording)          | Consent: status active (give) / inactive (withdraw) / proposed (think), scope patient-privacy, category LOINC 59284-0, dateTime = occurred, provision.type permit/deny with provision.actor = the units (IRCP), sourceAttachment = the exact wording shown (text, language, version), policyRule OPTIN/OPTOUT, performer = who decided, organization = recording staff's unit, extensions consent-method and consent-note |
| CoordinationRequest (+ RequestEvent)    | Task: identifier LOCAL/sid/request = reference, status received/accepted/in-progress/completed/cancelled, description = what is hard, for = Patient, requester, owner, restriction.recipient = the units, note = the timeline, input = the other answers |
| Message (in a Thread)                   | Communication: topic.text = the thread's subject, payload.contentString = text, sent, received = read by staff, sender, recipient, inResponseTo = the message before |

Not in the file: where the person acts for someone else (the readable document lists it),
notices sent and the access log (the readable document has both); meeting places, unit
addresses and the follow-up place when a representative downloads the file of a person
with protected personal data (`PersonData.show_places`).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from portal.core.clock import zone_of
from portal.core.inputs import BadInput, local_datetime
from portal.fhir import identifiers

# Plan content action status <-> CarePlan.activity.detail.status
ACTION_STATUS = {"planned": "not-started", "ongoing": "in-progress", "done": "completed"}
ACTION_STATUS_BACK = {v: k for k, v in ACTION_STATUS.items()}
TEXT_GOALS = ("important", "self_can", "need_help")
REQUEST_STATUS = {"received": "received", "assigned": "accepted", "meeting_booked": "in-progress",
                  "plan_made": "completed", "closed": "cancelled"}
CONSENT_STATUS = {"give": "active", "withdraw": "inactive", "think": "proposed"}
ROLE_CODES = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
RELATIONSHIP = {"guardian": "GUARD", "legal_representative": "GUARD", "proxy": "POWATT"}
# CarePlan.category: a coordinated individual plan (samordnad individuell plan, SIP), in
# the portal's own code system LOCAL/CodeSystem/plan-category (no national code exists).
PLAN_CATEGORY = ("plan-category", "sip")


def local_code_system(base_url: str, name: str) -> str:
    """The URL of one of the portal's own code systems: `<base url>/fhir/CodeSystem/<name>`."""
    return f"{base_url.rstrip('/')}/fhir/CodeSystem/{name}"


@dataclass
class PlanRecord:
    plan: Any  # portal.plans.models.Plan
    versions: list  # PlanVersion, oldest first


@dataclass
class ConsentRecord:
    act: Any  # portal.consent.models.ConsentAct
    units: list  # Unit
    wording: Any | None = None  # ConsentWording
    given_by_name: str | None = None


@dataclass
class RequestRecord:
    request: Any  # portal.coordination.models.CoordinationRequest
    units: list  # Unit
    events: list  # RequestEvent, oldest first


@dataclass
class ThreadRecord:
    thread: Any  # portal.messages.models.Thread
    messages: list  # Message, oldest first


@dataclass
class PersonData:
    """Everything the bundle says about `person`, loaded beforehand (portal.my_data)."""

    person: Any
    plans: list[PlanRecord] = field(default_factory=list)
    consent: list[ConsentRecord] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    threads: list[ThreadRecord] = field(default_factory=list)
    representations: list = field(default_factory=list)  # (Representation, Person) acting for them
    staff: dict = field(default_factory=dict)  # id -> StaffMember
    units: dict = field(default_factory=dict)  # id -> Unit
    people: dict = field(default_factory=dict)  # id -> Person (authors, deciders)
    show_places: bool = True
    name_of: Callable[[Any], str] = lambda person: person.name


def fhir_id(portal_id: str) -> str:
    """A portal id as a FHIR id ("_" is not allowed there; "." never occurs in ours)."""
    return portal_id.replace("_", ".")


def portal_id(fhir_id_: str) -> str:
    return fhir_id_.replace(".", "_")


def unit_identifier(unit) -> dict | None:
    """A unit's official Identifier (HSA-id or SOTE organisation OID, `Unit.external_id`),
    or None when it has none."""
    if not unit.external_id:
        return None
    return {"use": "official", "system": identifiers.unit_system(unit.country),
            "value": unit.external_id}


def full_url(resource_type: str, id_: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sip-portal/{resource_type}/{id_}')}"


def ref(resource_type: str, portal_id_: str) -> dict:
    return {"reference": full_url(resource_type, fhir_id(portal_id_))}


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _compact(value: Any) -> Any:
    """Drop None, "" and empty lists/dicts: FHIR allows no empty values."""
    if isinstance(value, dict):
        out = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        out = [_compact(v) for v in value]
        return [v for v in out if v not in (None, "", [], {})]
    return value


class _Builder:
    def __init__(self, data: PersonData, base_url: str) -> None:
        self.data = data
        self.local = f"{base_url.rstrip('/')}/fhir"
        self.entries: dict[str, dict] = {}

    def system(self, name: str) -> str:
        return f"{self.local}/sid/{name}"

    def code(self, name: str, code: str) -> dict:
        return {"system": f"{self.local}/CodeSystem/{name}", "code": code}

    def ext(self, name: str) -> str:
        return f"{self.local}/StructureDefinition/{name}"

    def add(self, resource: dict) -> None:
        resource = _compact(resource)
        self.entries[full_url(resource["resourceType"], resource["id"])] = resource

    # --- people and organisations -----------------------------------------------------

    def patient(self) -> None:
        p = self.data.person
        self.add({
            "resourceType": "Patient", "id": fhir_id(p.id),
            "meta": {"security": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                "code": "R"}]} if p.protected_identity else None,
            "identifier": [{"use": "official",
                            "system": identifiers.national_id_system(p.national_id, p.country),
                            "value": p.national_id}],
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name],
                      "text": p.name}],
            "birthDate": p.birth_date.isoformat(),
            "telecom": [{"system": "email", "value": p.email} if p.email else None,
                        {"system": "phone", "value": p.phone} if p.phone else None],
        })

    def organizations(self) -> None:
        for unit in self.data.units.values():
            self.add({
                "resourceType": "Organization", "id": fhir_id(unit.id),
                "identifier": [{"system": self.system("unit"), "value": unit.code},
                               unit_identifier(unit)],
                "name": unit.name, "type": [{"coding": [self.code("unit-kind", unit.kind)]}],
                "partOf": {"display": unit.organisation},
                "telecom": [{"system": "phone", "value": unit.phone}] if unit.phone else None,
                "address": [{"text": unit.address}]
                if unit.address and self.data.show_places else None,
            })

    def drop_unreferenced_organizations(self) -> None:
        """Keep only the units something in the bundle refers to (not every unit known)."""
        others = json.dumps([r for r in self.entries.values()
                             if r["resourceType"] != "Organization"])
        for url, resource in list(self.entries.items()):
            if (resource["resourceType"] == "Organization"
                    and f'"{url}"' not in others):
                del self.entries[url]

    def practitioners(self) -> None:
        for staff in self.data.staff.values():
            system = (identifiers.SE_HSA_ID if identifiers.is_hsa_id(staff.employee_id)
                      else self.system("staff"))
            self.add({
                "resourceType": "Practitioner", "id": fhir_id(staff.id),
                "identifier": [{"system": system, "value": staff.employee_id}],
                "name": [{"family": staff.family_name, "given": [staff.given_name],
                          "text": staff.name}],
                "telecom": [{"system": "email", "value": staff.email, "use": "work"}
                            if staff.email else None,
                            {"system": "phone", "value": staff.phone, "use": "work"}
                            if staff.phone else None],
            })
            self.add({
                "resourceType": "PractitionerRole", "id": fhir_id(staff.id) + "-role",
                "practitioner": ref("Practitioner", staff.id),
                "organization": ref("Organization", staff.unit_id)
                if staff.unit_id in self.data.units else None,
                "code": [{"text": staff.title}],
            })

    def related_persons(self) -> None:
        for rep, representative in self.data.representations:
            ended = rep.ended_at.date() if rep.ended_at else None
            end = min(d for d in (rep.valid_to, ended) if d) if (rep.valid_to or ended) else None
            self.add({
                "resourceType": "RelatedPerson", "id": fhir_id(rep.id),
                "extension": [{"url": self.ext("representation-scope"), "valueCode": scope}
                              for scope in sorted(rep.scopes)],
                "patient": ref("Patient", self.data.person.id),
                "relationship": [{"coding": [{"system": ROLE_CODES,
                                              "code": RELATIONSHIP.get(rep.kind, "GUARD")}],
                                  "text": rep.appointment or rep.kind}],
                "name": [{"text": self.data.name_of(representative)}],
                "period": {"start": rep.valid_from.isoformat(),
                           "end": end.isoformat() if end else None},
            })

    def who(self, actor_type: str, actor_id: str | None) -> dict | None:
        """A reference to whoever acted: the person, a staff member, or another citizen
        by (shown) name."""
        if not actor_id:
            return None
        if actor_type == "staff":
            return ref("Practitioner", actor_id) if actor_id in self.data.staff else None
        if actor_id == self.data.person.id:
            return ref("Patient", actor_id)
        other = self.data.people.get(actor_id)
        return {"display": self.data.name_of(other)} if other else None

    # --- plans --------------------------------------------------------------------------

    def plans(self) -> None:
        for record in self.data.plans:
            plan, versions = record.plan, record.versions
            for index, version in enumerate(versions):
                # A version replaced by the next one is "revoked" (FHIR: "terminated prior
                # to reaching completion, though it may have been replaced by a new plan").
                status = ("revoked" if index < len(versions) - 1
                          else "active" if plan.status == "active" else "completed")
                self.plan_version(plan, version, status,
                                  versions[index - 1] if index else None)

    def plan_version(self, plan, version, status: str, before) -> None:
        from portal.plans import content as plan_content

        content = plan_content.load(version.content)
        base = f"{fhir_id(plan.id)}-v{version.number}"
        goals = []
        for section in TEXT_GOALS:
            if not content.get(section):
                continue
            goal_id = f"{base}-{section.replace('_', '-')}"
            self.add({
                "resourceType": "Goal", "id": goal_id,
                "lifecycleStatus": "active" if status == "active" else "completed",
                "category": [{"coding": [self.code("plan-section", section)]}],
                "description": {"text": content[section]},
                "subject": ref("Patient", self.data.person.id),
            })
            goals.append({"reference": full_url("Goal", goal_id)})
        team_id = f"{base}-team"
        self.care_team(team_id, content)
        self.add({
            "resourceType": "CarePlan", "id": base,
            "meta": {"versionId": str(version.number)},
            "identifier": [{"system": self.system("plan"), "value": plan.id}],
            "status": status, "intent": "plan",
            "category": [{"coding": [self.code(*PLAN_CATEGORY)]}],
            "title": f"SIP {version.number}",
            "subject": ref("Patient", self.data.person.id),
            "period": {"start": content.get("start"), "end": content.get("end")},
            "created": _instant(version.published_at),
            "author": ref("Practitioner", version.published_by)
            if version.published_by in self.data.staff else None,
            "replaces": [{"reference": full_url("CarePlan", f"{fhir_id(plan.id)}-v{before.number}")}]
            if before else None,
            "careTeam": [{"reference": full_url("CareTeam", team_id)}],
            "goal": goals,
            "activity": self.activities(content),
        })

    def activities(self, content: dict) -> list[dict]:
        out = []
        for action in content.get("actions") or []:
            out.append({"id": fhir_id(action.get("id") or "") or None, "detail": {
                "code": {"coding": [self.code("plan-section", "action")]},
                "status": ACTION_STATUS.get(action.get("status"), "unknown"),
                "description": action.get("what"),
                "scheduledPeriod": {"start": action.get("start"), "end": action.get("end")},
                "performer": [ref("Organization", action["unit_id"])
                              if action.get("unit_id") else None,
                              {"display": action.get("responsible")}
                              if action.get("responsible") else None],
            }})
        follow = content.get("follow_up") or {}
        if any(follow.get(k) for k in ("date", "time", "place", "id")):
            out.append(self.meeting(follow, "scheduled"))
        if "removed" in follow:
            out.append(self.meeting(follow["removed"] or {}, "cancelled"))
        if content.get("evaluation"):
            out.append({"detail": {"code": {"coding": [self.code("plan-section", "evaluation")]},
                                   "status": "scheduled",
                                   "scheduledPeriod": {"start": content["evaluation"]}}})
        return out

    def meeting(self, follow: dict, status: str) -> dict:
        start = follow.get("date") or None
        if start and follow.get("time"):
            day, clock = date.fromisoformat(start), time.fromisoformat(follow["time"])
            try:
                start = local_datetime(day, clock, zone_of(self.data.person)).isoformat()
            except BadInput:  # a wall time the clocks skipped: as written, with the zone's offset
                start = datetime.combine(day, clock, tzinfo=zone_of(self.data.person)).isoformat()
        detail = {"code": {"coding": [self.code("plan-section", "follow-up")]}, "status": status,
                  "scheduledPeriod": {"start": start}}
        if follow.get("place") and self.data.show_places:
            detail["location"] = {"display": follow["place"]}
        if not detail["scheduledPeriod"]["start"]:
            del detail["scheduledPeriod"]
        return {"id": fhir_id(follow["id"]) if follow.get("id") else None, "detail": detail}

    def care_team(self, team_id: str, content: dict) -> None:
        participants = []
        if content.get("coordinator_id"):
            participants.append({"role": [{"coding": [self.code("plan-role", "coordinator")]}],
                                 "member": ref("Practitioner", content["coordinator_id"])})
        for contact in content.get("contacts") or []:
            participants.append({
                "id": fhir_id(contact.get("id") or "") or None,
                "extension": [{"url": self.ext("contact-phone"), "valueString": contact.get("phone")}
                              if contact.get("phone") else None,
                              {"url": self.ext("contact-hours"), "valueString": contact.get("hours")}
                              if contact.get("hours") else None],
                "role": [{"coding": [self.code("plan-role", "contact")], "text": contact.get("role")}],
                "member": {"display": contact.get("name")},
            })
        for relative in content.get("relatives") or []:
            participants.append({
                "id": fhir_id(relative.get("id") or "") or None,
                "role": [{"coding": [self.code("plan-role", "relative")],
                          "text": relative.get("relation")}],
                "member": {"display": relative.get("name")},
            })
        self.add({"resourceType": "CareTeam", "id": team_id, "status": "active",
                  "subject": ref("Patient", self.data.person.id), "participant": participants})

    # --- consent, requests, messages ---------------------------------------------------

    def consents(self) -> None:
        person = self.data.person
        for record in self.data.consent:
            act = record.act
            wording = record.wording
            attachment = None
            if wording is not None:
                attachment = {"contentType": "text/plain; charset=utf-8",
                              "language": "sv-FI" if wording.locale == "sv_FI" else "sv-SE",
                              "data": base64.b64encode(wording.text.encode()).decode(),
                              "title": f"version {wording.version}"}
            performer = (ref("Patient", person.id) if (act.given_by_id or person.id) == person.id
                         else {"display": record.given_by_name} if record.given_by_name else None)
            provision = None
            if act.decision in ("give", "withdraw"):
                provision = {"type": "permit" if act.decision == "give" else "deny",
                             "actor": [{"role": {"coding": [{
                                 "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                 "code": "IRCP"}]}, "reference": ref("Organization", unit.id)}
                                 for unit in record.units]}
            self.add({
                "resourceType": "Consent", "id": fhir_id(act.id),
                "extension": [{"url": self.ext("consent-method"), "valueCode": act.method},
                              {"url": self.ext("consent-note"), "valueString": act.note}
                              if act.note else None],
                "status": CONSENT_STATUS.get(act.decision, "proposed"),
                "scope": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy"}]},
                "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                          "display": "Patient Consent"}]}],
                "patient": ref("Patient", person.id),
                "dateTime": _instant(act.occurred_at),
                "performer": [performer],
                "organization": [ref("Organization", act.unit_id)]
                if act.unit_id and act.unit_id in self.data.units else None,
                "sourceAttachment": attachment,
                "policyRule": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "OPTOUT" if act.decision == "withdraw" else "OPTIN"}]},
                "provision": provision,
            })

    def tasks(self) -> None:
        import json

        for record in self.data.requests:
            request = record.request
            try:
                answers = json.loads(request.answers or "{}")
            except ValueError:
                answers = {}
            notes = []
            for event in record.events:
                detail = json.loads(event.detail or "{}")
                notes.append({"time": _instant(event.at),
                              "text": event.kind + (f": {detail['reason']}"
                                                    if detail.get("reason") else "")})
            owner = (ref("Practitioner", request.assigned_to)
                     if request.assigned_to in self.data.staff
                     else ref("Organization", record.units[0].id) if record.units else None)
            self.add({
                "resourceType": "Task", "id": fhir_id(request.id),
                "identifier": [{"system": self.system("request"), "value": request.reference}],
                "status": REQUEST_STATUS.get(request.status, "received"),
                "statusReason": {"text": request.close_reason} if request.close_reason else None,
                "businessStatus": {"text": request.status},
                "intent": "order",
                "code": {"coding": [self.code("task", "coordination")],
                         "text": "SIP"},
                "description": str(answers.get("hard") or "") or None,
                "for": ref("Patient", self.data.person.id),
                "authoredOn": _instant(request.sent_at),
                "lastModified": _instant(request.updated_at),
                "requester": self.who(request.author_type, request.author_id),
                "owner": owner,
                "restriction": {"recipient": [ref("Organization", u.id) for u in record.units]},
                "note": notes,
                "input": [{"type": {"text": key}, "valueString": str(answers[key])}
                          for key in ("other", "contact", "phone", "times")
                          if answers.get(key)],
            })

    def communications(self) -> None:
        person = self.data.person
        for record in self.data.threads:
            thread = record.thread
            before = None
            for message in record.messages:
                from_staff = message.author_type == "staff"
                self.add({
                    "resourceType": "Communication", "id": fhir_id(message.id),
                    "status": "completed",
                    "subject": ref("Patient", person.id),
                    "topic": {"text": thread.subject},
                    "sent": _instant(message.created_at),
                    "received": _instant(message.read_by_staff_at),
                    "sender": self.who(message.author_type, message.author_id),
                    "recipient": [ref("Patient", person.id) if from_staff
                                  else ref("Organization", thread.unit_id)],
                    "inResponseTo": [ref("Communication", before.id)] if before else None,
                    "payload": [{"contentString": message.body}],
                })
                before = message


def plan_resources(data: PersonData, *, base_url: str) -> dict[str, dict]:
    """fullUrl -> resource: each plan version of `data.plans` as a CarePlan with its Goals
    and CareTeam (as in the export), and the Organizations and Practitioners (with
    PractitionerRole) they refer to; no Patient (the caller names the person by
    identifier: see `with_patient_identifier`)."""
    builder = _Builder(data, base_url)
    builder.organizations()
    builder.practitioners()
    builder.plans()
    builder.drop_unreferenced_organizations()
    return builder.entries


def consent_resource(record: ConsentRecord, data: PersonData, *, base_url: str) -> dict:
    """One act of consent as the export's Consent (IHE PCF-like), with
    provision.actor for `record.units`; references to units and the person are the
    export's urn:uuid ones (see `with_patient_identifier`, `with_unit_identifiers`)."""
    builder = _Builder(PersonData(person=data.person, consent=[record], units=data.units,
                                  people=data.people, name_of=data.name_of), base_url)
    builder.consents()
    return next(iter(builder.entries.values()))


def with_patient_identifier(resource: Any, person) -> Any:
    """`resource` (JSON) with every reference to `person`'s Patient replaced by a logical
    reference: {"type": "Patient", "identifier": {system, value}}, the national id in its
    official system."""
    target = full_url("Patient", fhir_id(person.id))
    logical = {"type": "Patient", "identifier": {
        "system": identifiers.national_id_system(person.national_id, person.country),
        "value": person.national_id}}
    return _replace_references(resource, {target: lambda _: dict(logical)})


def with_unit_identifiers(resource: Any, units: dict, *, logical: bool = False) -> Any:
    """`resource` (JSON) whose references to the Organizations of `units` (id -> Unit)
    also carry the unit's official identifier and name (`Reference.identifier`,
    `.display`), so a staff system can match them without the included Organization;
    `logical`: only those (the Organization is not sent along)."""
    def reference(unit):
        def add(found: dict) -> dict:
            kept = {} if logical else found
            return _compact({**kept, "identifier": unit_identifier(unit), "display": unit.name})
        return add

    return _replace_references(resource, {full_url("Organization", fhir_id(unit.id)): reference(unit)
                                          for unit in units.values()})


def _replace_references(value: Any, by_url: dict[str, Callable[[dict], dict]]) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str) and value["reference"] in by_url:
            return by_url[value["reference"]](value)
        return {key: _replace_references(item, by_url) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_references(item, by_url) for item in value]
    return value


def person_bundle(data: PersonData, *, base_url: str, now: datetime) -> dict:
    """The person's data as a FHIR R4 Bundle (type "collection"), validated by
    fhir.resources: returns the JSON object (a ValidationError means a bug here)."""
    builder = _Builder(data, base_url)
    builder.patient()
    builder.organizations()
    builder.practitioners()
    builder.related_persons()
    builder.plans()
    builder.consents()
    builder.tasks()
    builder.communications()
    builder.drop_unreferenced_organizations()
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": builder.system("export"), "value": str(uuid.uuid4())},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [{"fullUrl": url, "resource": resource}
                  for url, resource in builder.entries.items()],
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


# --- back: a CarePlan (with its Goals and CareTeam) to the plan's content ---------------


def resources_by_url(bundle: dict) -> dict[str, dict]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle.get("entry", [])}


def code_of(concept: dict | None) -> str | None:
    """The plan-section or plan-role code of a CodeableConcept (None when it has neither)."""
    for coding in (concept or {}).get("coding", []):
        if coding.get("system", "").endswith(("/CodeSystem/plan-section", "/CodeSystem/plan-role")):
            return coding.get("code")
    return None


def _id_behind(reference: dict | None, resources: dict[str, dict]) -> str:
    """The portal id of the resource a reference points to ("" when none)."""
    target = resources.get((reference or {}).get("reference", ""))
    return portal_id(target["id"]) if target else ""


# resolve(reference, kind, resources) -> portal id ("" when none); kind "unit" or "staff".
Resolver = Callable[[dict | None, str, dict[str, dict]], str]


def _by_resource_id(reference: dict | None, _kind: str, resources: dict[str, dict]) -> str:
    return _id_behind(reference, resources)


def _points(reference: dict) -> bool:
    """A reference to something (a literal `reference` or a logical `identifier`), not
    only a `display`."""
    return bool(reference.get("reference") or reference.get("identifier"))


def _ext(element: dict, suffix: str) -> str:
    for extension in element.get("extension", []):
        if extension.get("url", "").endswith(f"/StructureDefinition/{suffix}"):
            return extension.get("valueString", "")
    return ""


def _meeting_back(activity: dict, zone=None) -> dict:
    detail = activity.get("detail", {})
    start = detail.get("scheduledPeriod", {}).get("start", "")
    meeting = {"date": "", "time": "", "place": detail.get("location", {}).get("display", "")}
    if "T" in start:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
        if zone is not None and moment.tzinfo is not None:
            moment = moment.astimezone(zone)  # the person's wall time, as the editor keeps it
        meeting["date"], meeting["time"] = moment.date().isoformat(), moment.strftime("%H:%M")
    else:
        meeting["date"] = start
    if activity.get("id"):
        meeting["id"] = portal_id(activity["id"])
    return meeting


def plan_content(care_plan: dict, resources: dict[str, dict], *,
                 resolve: Resolver = _by_resource_id, zone=None) -> dict:
    """The plan content (portal.plans.content) a CarePlan carries: its Goals, activities
    and CareTeam are looked up in `resources` (fullUrl -> resource, `resources_by_url`).

    `resolve(reference, kind, resources)` gives the portal id of a unit ("unit": an
    activity's performer) or staff member ("staff": the coordinator); by default the
    portal's own resource ids (a file the portal wrote). A follow-up start with an offset
    is read as the wall time in `zone` (ZoneInfo, the person's) when given."""
    from portal.plans import content as plan_content_

    content = plan_content_.load(None)
    for goal_ref in care_plan.get("goal", []):
        goal = resources.get(goal_ref.get("reference", ""), {})
        section = next((code_of(c) for c in goal.get("category", []) if code_of(c)), None)
        if section in TEXT_GOALS:
            content[section] = goal.get("description", {}).get("text", "")
    period = care_plan.get("period", {})
    content["start"], content["end"] = period.get("start", ""), period.get("end", "")
    for activity in care_plan.get("activity", []):
        detail = activity.get("detail", {})
        kind = code_of(detail.get("code"))
        if kind == "action":
            performers = detail.get("performer", [])
            unit = next((resolve(p, "unit", resources) for p in performers if _points(p)), "")
            responsible = next((p["display"] for p in performers
                                if not _points(p) and p.get("display")), "")
            scheduled = detail.get("scheduledPeriod", {})
            content["actions"].append({
                "id": portal_id(activity.get("id", "")), "what": detail.get("description", ""),
                "unit_id": unit, "responsible": responsible,
                "start": scheduled.get("start", ""), "end": scheduled.get("end", ""),
                "status": ACTION_STATUS_BACK.get(detail.get("status"), ""),
            })
        elif kind == "follow-up" and detail.get("status") == "cancelled":
            removed = _meeting_back(activity, zone)
            content["follow_up"]["removed"] = removed if any(removed.values()) else {}
        elif kind == "follow-up":
            kept = content["follow_up"].get("removed")
            content["follow_up"] = _meeting_back(activity, zone)
            if kept is not None:
                content["follow_up"]["removed"] = kept
        elif kind == "evaluation":
            content["evaluation"] = detail.get("scheduledPeriod", {}).get("start", "")
    for team_ref in care_plan.get("careTeam", []):
        team = resources.get(team_ref.get("reference", ""), {})
        for participant in team.get("participant", []):
            role = participant.get("role", [{}])[0]
            code = code_of(role)
            if code == "coordinator":
                content["coordinator_id"] = resolve(participant.get("member"), "staff",
                                                    resources) or None
            elif code == "contact":
                content["contacts"].append({
                    "id": portal_id(participant.get("id", "")),
                    "name": participant.get("member", {}).get("display", ""),
                    "role": role.get("text", ""), "phone": _ext(participant, "contact-phone"),
                    "hours": _ext(participant, "contact-hours")})
            elif code == "relative":
                content["relatives"].append({
                    "id": portal_id(participant.get("id", "")),
                    "name": participant.get("member", {}).get("display", ""),
                    "relation": role.get("text", "")})
    return content


def plan_versions_in(bundle: dict) -> dict[tuple[str, int], dict]:
    """(plan id, version number) -> the plan content, for every CarePlan in the bundle."""
    resources = resources_by_url(bundle)
    found = {}
    for resource in resources.values():
        if resource.get("resourceType") != "CarePlan":
            continue
        plan_id = next(i["value"] for i in resource.get("identifier", [])
                       if i.get("system", "").endswith("/sid/plan"))
        found[(plan_id, int(resource["meta"]["versionId"]))] = plan_content(resource, resources)
    return found
