"""POST /fhir/R4: a staff system publishes a plan as a transaction Bundle (issue 13).

    POST /fhir/R4
    Authorization: Bearer <token with system/CarePlan.write>
    Content-Type: application/fhir+json
    {"resourceType": "Bundle", "type": "transaction", "entry": [CarePlan, Goals, CareTeam …]}

Answers a transaction-response Bundle: 201 when a new version (or draft) was made, 200
when the same was sent before (nothing new written). Each entry's `response.status`; the
CarePlan's `location` is `CarePlan/<plan id>/_history/<version>` (a draft: `CarePlan/<plan
id>`, with an OperationOutcome saying a contact person publishes it). Errors are
OperationOutcomes (portal.fhir.outcome): 400 not JSON or not valid FHIR, 401/403 token and
scope, 403 no consent (or unknown person), 409 the draft changed meanwhile, 413 over the
app's 256 KB, 415 not FHIR JSON, 422 valid FHIR the portal cannot take (unknown unit or
staff member, wrong status or category …). See portal.fhir.sent_plan (what is read) and
portal.fhir.plan_publication (what is written).
"""

from __future__ import annotations

from litestar import Request, Response, post
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.core.clock import RequestTime
from portal.fhir.mapping import fhir_id
from portal.fhir.outcome import FhirError, fhir_response, operation_outcome
from portal.fhir.plan_publication import Published, publish_sent
from portal.fhir.sent_plan import SentPlan, read_bundle
from portal.fhir.tokens import Caller

SCOPE = "system/CarePlan.write"
MEDIA_TYPES = ("application/fhir+json", "application/json")
_AS_PART = {"Goal": "Kept as part of the plan.", "CareTeam": "Kept as part of the plan."}


def _care_plan_response(result: Published, status: str) -> dict:
    plan_ref = f"CarePlan/{fhir_id(result.plan.id)}"
    if result.version is None:
        return {"status": status, "location": plan_ref,
                "outcome": operation_outcome("informational", "Kept as the plan's draft: a contact "
                                             "person publishes it.", severity="information")}
    return {"status": status, "location": f"{plan_ref}/_history/{result.version.number}",
            "etag": f'W/"{result.version.number}"',
            "lastModified": result.version.published_at.isoformat()}


def transaction_response(sent: SentPlan, result: Published) -> dict:
    """The transaction-response Bundle: one entry per entry sent, in the same order."""
    status = "201 Created" if result.created else "200 OK"
    entries = []
    for kind in sent.types:
        if kind == "CarePlan":
            entries.append({"response": _care_plan_response(result, status)})
        elif kind in _AS_PART:
            entries.append({"response": {"status": status}})
        else:  # matched to a known person, unit or staff member; never stored
            entries.append({"response": {"status": "200 OK"}})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


@post("/", name="fhir_transaction", status_code=200)
async def transaction(request: Request, caller: NamedDependency[Caller],
                      db: NamedDependency[AsyncSession], time: NamedDependency[RequestTime]) -> Response:
    """A plan transaction (see the module)."""
    caller.require(SCOPE)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise FhirError(415, "not-supported", "Send the Bundle as application/fhir+json.")
    body = await request.body()
    settings = request.app.state.settings
    sent = read_bundle(body, settings.base_url)
    result = await publish_sent(db, caller, sent, time.now)
    return fhir_response(transaction_response(sent, result), 201 if result.created else 200)


route_handlers = [transaction]
