"""The FHIR R4 API for staff systems, under /fhir/R4 (issue 13).

One Router: bearer tokens instead of the portal's cookie session (so no CSRF token:
`csrf_exempt`), every error an OperationOutcome (portal.fhir.outcome), the dependency
`caller` (portal.fhir.tokens) for the routes that need a token. The routes live in
the modules named after what they do:

- portal.fhir.token_endpoint: SMART Backend Services discovery and token endpoint,
  and the CapabilityStatement (`metadata`);
- portal.fhir.publish: a plan sent as a transaction Bundle;
- portal.fhir.read: Consent and CarePlan searches.
"""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from portal.fhir import outcome, publish, read, token_endpoint
from portal.fhir.tokens import caller_of

router = Router(
    path=outcome.BASE_PATH,
    route_handlers=[*token_endpoint.route_handlers, *publish.route_handlers, *read.route_handlers],
    dependencies={"caller": Provide(caller_of)},
    exception_handlers=outcome.handlers,
    opt={"csrf_exempt": True},
)
route_handlers = [router]
