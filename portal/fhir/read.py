"""Reading Consent and CarePlan through the FHIR API: two searches by the person's identifier.

    GET /fhir/R4/Consent?patient=urn:oid:1.2.752.129.2.1.3.1|191212121212   system/Consent.read
    GET /fhir/R4/CarePlan?patient=urn:oid:1.2.752.129.2.1.3.1|191212121212  system/CarePlan.read

Both answer a `searchset` Bundle (application/fhir+json), validated with fhir.resources
(R4B models, R4 structure). The person is named only by identifier: in the results
every reference to them is a logical reference (`{"type": "Patient", "identifier":
{system, value}}`); no Patient resource is sent. Units are referenced with their
official identifier (HSA-id, or the SOTE organisation register's OID:
`Unit.external_id`, `portal.fhir.identifiers.unit_system`) and name.

Search parameters are handled strictly (FHIR "handling=strict"): `patient` exactly
once, nothing else; otherwise 400 with an OperationOutcome. Order of the checks: the
token (401, the `caller` dependency), the scope (403), the parameters (400), then the
person (403).

Consent: who may learn what (the rule)
--------------------------------------
A unit must be able to learn that consent was WITHDRAWN (that is how its system learns
it may no longer share), so this search does not ask for consent first. Instead:

- The caller's units that concern the person are those that work with them (a care
  relation, `portal.consent.models.CareRelation`, as `consent.services.unit_works_with`)
  and those the person has decided about (given, waiting, withdrawn).
- None of them (and an unknown person) -> 403 with `subjects.NO_CONSENT`, the very
  answer the other routes give, so no one learns whether a person uses the portal.
- Otherwise one Consent per such unit, and only for the caller's units (never the
  person's other units), from the person's CURRENT state for that unit
  (`consent.services.current`: latest decision, every guardian):
  given -> status "active", provision.type "permit", policyRule OPTIN;
  withdrawn -> "inactive", provision.type "deny", policyRule OPTOUT;
  waiting (one of two guardians has said yes) -> "proposed" (not in force);
  no decision while the person has asked for time to think -> "proposed" (dateTime of
  that answer); no decision at all -> no entry (an empty searchset: the unit may not
  share). `Consent.dateTime` is when the decision was made; provision.actor (role
  IRCP) is the unit, by identifier and name (IHE Privacy Consent on FHIR style, as in
  the export: portal.fhir.mapping). Not sent: who decided (possibly a guardian, by
  name), staff's note, the wording shown (the person's own record). Consent.id is
  "<act id>-<unit id>" (one act may decide for several units).

CarePlan
--------
Only for the caller's units with consent (`subjects.person_with_consent`, 403
otherwise; a withdrawal is refused on the very next call). The current published
version of the person's active plan, built as in the export: a CarePlan (search.mode
"match", status active, meta.versionId the version) and, as search.mode "include"
entries (`_include`-style, referenced by their `urn:uuid:` fullUrl), its Goals, its
CareTeam, and the Organizations, Practitioners and PractitionerRoles it refers to. No
active plan, or none published yet -> an empty searchset (total 0). The resources are
not readable one by one (no `read` interaction): their ids are stable, their fullUrls
are `urn:uuid:`s.

Every successful search is in the person's access log (portal.audit.access_log):
"fhir.consent.read" / "fhir.careplan.read", actor ("client", client id, "fhir", the
unit when the client has exactly one), detail {"units": [...]} (and {"version": n}).
A refused search is not written to the person's log: the caller must not be able to
tell, and the person was not read.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.consent import services as consent
from portal.consent.models import CareRelation
from portal.consent.state import GIVEN, WAITING, WITHDRAWN
from portal.core.clock import RequestTime
from portal.fhir import mapping
from portal.fhir.mapping import ConsentRecord, PersonData, PlanRecord
from portal.fhir.outcome import FhirError, fhir_response
from portal.fhir.subjects import NO_CONSENT, find_person, normalised, parse_token, person_with_consent
from portal.fhir.tokens import Caller
from portal.people.models import Person, StaffMember, Unit
from portal.plans import content as plan_content
from portal.plans import services as plans

CONSENT_SCOPE = "system/Consent.read"
CAREPLAN_SCOPE = "system/CarePlan.read"
SEARCH_PARAMETERS = frozenset({"patient"})
# The person's state for a unit -> Consent.status (IHE PCF: active = in force).
STATUS = {GIVEN: "active", WITHDRAWN: "inactive", WAITING: "proposed"}


async def patient_parameter(request: Request) -> tuple[str, str]:
    """(system, value) of the one `patient` search parameter, from the query string (GET)
    or, for `POST [type]/_search`, from the query string and the form body together (FHIR
    R4 3.1.0.1.1: the body is application/x-www-form-urlencoded). FhirError 400 for any
    other parameter (strict handling), a repeated one, or a malformed token; 415 for a
    POST body of another type."""
    params = [(key, value) for key, value in request.query_params.multi_items()]
    if request.method == "POST":
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise FhirError(415, "not-supported",
                            "Send the search parameters as application/x-www-form-urlencoded.")
        params += [(key, value) for key, value in (await request.form()).multi_items()]
    names = {key for key, _ in params}
    unknown = sorted(names - SEARCH_PARAMETERS)
    if unknown:
        raise FhirError(400, "not-supported",
                        f"Unsupported search parameter(s): {', '.join(unknown)}. "
                        "Only patient (system|value) is supported.", unknown)
    values = [value for key, value in params if key == "patient"]
    if len(values) > 1:
        raise FhirError(400, "invalid", "Give patient once.", ["patient"])
    return parse_token(values[0] if values else None)


def searchset(matches: list[tuple[str, dict]], included: list[tuple[str, dict]],
              now) -> dict:
    """A searchset Bundle (fullUrl, resource pairs; "match" then "include"), validated."""
    from fhir.resources.R4B.bundle import Bundle

    bundle = {
        "resourceType": "Bundle", "type": "searchset", "timestamp": now.isoformat(),
        "total": len(matches),
        "entry": [{"fullUrl": url, "resource": resource, "search": {"mode": "match"}}
                  for url, resource in matches]
        + [{"fullUrl": url, "resource": resource, "search": {"mode": "include"}}
           for url, resource in included],
    }
    if not bundle["entry"]:
        del bundle["entry"]
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _client_actor(caller: Caller, unit_ids: list[str]) -> Actor:
    return Actor("client", caller.client.id, "fhir", unit_ids[0] if len(unit_ids) == 1 else None)


async def _units_concerned(db: AsyncSession, person: Person, caller: Caller,
                           current: consent.Current) -> list[Unit]:
    """The caller's units that work with the person or that the person decided about."""
    related = set((await db.exec(select(CareRelation.unit_id).where(
        CareRelation.person_id == person.id,
        col(CareRelation.unit_id).in_(sorted(caller.unit_ids))))).all())
    related |= caller.unit_ids & set(current.states)
    return sorted((unit for unit in caller.units if unit.id in related),
                  key=lambda unit: (unit.name, unit.id))


def _unit_consent(act, unit: Unit, status: str, data: PersonData, base_url: str) -> dict:
    """The export's Consent for `act`, narrowed to one unit and the state it has now."""
    resource = mapping.consent_resource(ConsentRecord(act, [unit]), data, base_url=base_url)
    resource["id"] = f"{mapping.fhir_id(act.id)}-{mapping.fhir_id(unit.id)}"
    resource["status"] = status
    if status == "proposed":
        # Not (yet) in force: name the unit, permit nothing.
        resource["provision"] = {"actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                 "code": "IRCP"}]},
            "reference": mapping.ref("Organization", unit.id)}]}
    # Who decided (possibly a guardian, by name), staff's own note and their unit are
    # the person's record, not something a staff system needs to know.
    for element in ("performer", "organization"):
        resource.pop(element, None)
    resource["extension"] = [e for e in resource.get("extension", [])
                             if not e["url"].endswith("/consent-note")]
    if not resource["extension"]:
        del resource["extension"]
    resource = mapping.with_unit_identifiers(resource, {unit.id: unit}, logical=True)
    return mapping.with_patient_identifier(resource, data.person)


async def consent_search(request: Request, caller: Caller, db: AsyncSession,
                         time: RequestTime) -> Response:
    """The person's current consent for each of the caller's units that concern them
    (see the module's rule); 403 when none does or the person is unknown."""
    caller.require(CONSENT_SCOPE)
    system, value = await patient_parameter(request)
    person = await find_person(db, system, value)
    if person is None:
        raise FhirError(403, "forbidden", NO_CONSENT)
    current = await consent.current(db, person, time.today_for(person))
    units = await _units_concerned(db, person, caller, current)
    if not units:
        raise FhirError(403, "forbidden", NO_CONSENT)
    base_url = request.app.state.settings.base_url
    data = PersonData(person=person, units={unit.id: unit for unit in units})
    matches = []
    for unit in units:
        state = current.states.get(unit.id)
        if state is not None and state.status in STATUS and unit.id in current.acts:
            act, status = current.acts[unit.id], STATUS[state.status]
        elif current.thinking is not None:
            act, status = current.thinking, "proposed"
        else:
            continue  # no answer yet: nothing is in force
        resource = _unit_consent(act, unit, status, data, base_url)
        matches.append((mapping.full_url("Consent", resource["id"]), resource))
    unit_ids = [unit.id for unit in units]
    await record(db, "fhir.consent.read", _client_actor(caller, unit_ids),
                 subject_person_id=person.id, detail={"units": unit_ids})
    return fhir_response(searchset(matches, [], time.now))


async def careplan_search(request: Request, caller: Caller, db: AsyncSession,
                          time: RequestTime) -> Response:
    """The current published version of the person's active plan, with its Goals,
    CareTeam and whom it names; 403 unless one of the caller's units has consent."""
    caller.require(CAREPLAN_SCOPE)
    system, value = await patient_parameter(request)
    found = normalised(system, value)  # None: person_with_consent answers 400
    today = time.today_in(found[1] if found else "SE")  # the person's own date
    person, consented = await person_with_consent(db, system, value, caller, today)
    unit_ids = sorted(consented)
    plan = await plans.active_plan(db, person.id)
    version = await plans.version(db, plan.id, plan.current_version) \
        if plan is not None and plan.current_version else None
    matches, included = [], []
    if version is not None:
        content = plan_content.load(version.content)
        staff_ids = {version.published_by} | ({content["coordinator_id"]}
                                              if content.get("coordinator_id") else set())
        staff = {s.id: s for s in (await db.exec(select(StaffMember).where(
            col(StaffMember.id).in_(sorted(staff_ids))))).all()}
        named = ({a["unit_id"] for a in content.get("actions") or [] if a.get("unit_id")}
                 | {s.unit_id for s in staff.values() if s.unit_id})
        units = {u.id: u for u in (await db.exec(select(Unit).where(
            col(Unit.id).in_(sorted(named))))).all()}
        data = PersonData(person=person, plans=[PlanRecord(plan, [version])], staff=staff,
                          units=units)
        resources = mapping.plan_resources(data, base_url=request.app.state.settings.base_url)
        for url, resource in resources.items():
            resource = mapping.with_patient_identifier(
                mapping.with_unit_identifiers(resource, units), person)
            (matches if resource["resourceType"] == "CarePlan" else included).append((url, resource))
    await record(db, "fhir.careplan.read", _client_actor(caller, unit_ids),
                 subject_person_id=person.id,
                 object_type="plan" if version is not None else None,
                 object_id=plan.id if version is not None else None,
                 detail={"units": unit_ids, **({"version": version.number} if version else {})})
    return fhir_response(searchset(matches, included, time.now))


# Each search by GET (the parameters in the query string) and by POST [type]/_search (in
# the form body: the person's national id stays out of URLs, and so out of the logs of
# proxies and load balancers on the way; docs/fhir.md recommends it).
def _get_and_post(path: str, name: str, search) -> list:
    """The search `search(request, caller, db, time)` as GET `path` and POST `path`/_search."""

    async def handler(request: Request, caller: NamedDependency[Caller],
                      db: NamedDependency[AsyncSession], time: NamedDependency[RequestTime]) -> Response:
        return await search(request, caller, db, time)

    return [get(path, name=name)(handler),
            post(f"{path}/_search", name=f"{name}_post", status_code=200)(handler)]


route_handlers = [*_get_and_post("/Consent", "fhir_consent_search", consent_search),
                  *_get_and_post("/CarePlan", "fhir_careplan_search", careplan_search)]
