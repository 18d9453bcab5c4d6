"""SMART Backend Services discovery and token endpoint, and the CapabilityStatement
(issue 13; HL7 SMART App Launch 2.x "Backend Services", RFC 6749 §4.4 and §5, RFC 7523).

    GET  /fhir/R4/.well-known/smart-configuration   discovery (JSON), no token
    GET  /fhir/R4/metadata                          CapabilityStatement, no token
    POST /fhir/R4/token                             an access token for a client assertion

The token request is a form (application/x-www-form-urlencoded):
grant_type=client_credentials, scope (space separated), client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion (a JWT signed
with a key of the client's JWKS: portal.fhir.assertion). Granted: the requested scopes
the client is registered for. Answers (never cached, `Cache-Control: no-store`):

    200 {"access_token", "token_type": "bearer", "expires_in": 300, "scope"}
    400 {"error": "invalid_request" | "unsupported_grant_type" | "invalid_scope" |
         "invalid_client" (a replayed jti), "error_description"}
    401 {"error": "invalid_client", ...}   unknown or inactive client, bad signature/claims
    429 OperationOutcome (throttled) with Retry-After: the client's token budget is spent
"""

from __future__ import annotations

import logging

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.core.clock import RequestTime
from portal.fhir.assertion import (
    ASSERTION_TYPE,
    AssertionRefused,
    claimed_client_id,
    first_use,
    verify_assertion,
)
from portal.fhir.capability import capability_statement, smart_configuration, token_url
from portal.fhir.clients import FhirClient
from portal.fhir.limits import throttle
from portal.fhir.outcome import fhir_response
from portal.fhir.tokens import issue_token

log = logging.getLogger("portal.fhir")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(refused: AssertionRefused) -> Response:
    return Response({"error": refused.error, "error_description": refused.description},
                    status_code=refused.status, media_type="application/json", headers=NO_STORE)


@get("/.well-known/smart-configuration", sync_to_thread=False)
def discovery(request: Request) -> Response:
    """SMART discovery: where the token endpoint is and what it takes."""
    return Response(smart_configuration(request.app.state.settings.base_url),
                    media_type="application/json")


@get("/metadata", sync_to_thread=False)
def metadata(request: Request, time: NamedDependency[RequestTime]) -> Response:
    """The CapabilityStatement (FHIR `capabilities` interaction)."""
    return fhir_response(capability_statement(request.app.state.settings.base_url, time.now))


async def _grant(request: Request, db: AsyncSession, now: int) -> Response:
    form = await request.form()
    fields = {name: form.get(name) for name in
              ("grant_type", "scope", "client_assertion_type", "client_assertion")}
    missing = [name for name, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise AssertionRefused(400, "invalid_request",
                               f"Missing form field(s): {', '.join(missing)}.")
    if fields["grant_type"] != "client_credentials":
        raise AssertionRefused(400, "unsupported_grant_type",
                               "Only grant_type=client_credentials is supported.")
    if fields["client_assertion_type"] != ASSERTION_TYPE:
        raise AssertionRefused(400, "invalid_request",
                               f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = fields["client_assertion"]
    client_id = claimed_client_id(assertion)
    given = form.get("client_id")
    if given and given != client_id:
        raise AssertionRefused(400, "invalid_request",
                               "client_id differs from the assertion's iss.")
    client = (await db.exec(select(FhirClient).where(FhirClient.client_id == client_id))).first()
    if client is None or not client.active:
        raise AssertionRefused(401, "invalid_client", "No active client is registered with "
                                                      "the assertion's iss as client_id.")
    await throttle(request, "token", client.id)  # before the costly signature check
    claims = verify_assertion(assertion, client, now=now,
                              audience=token_url(request.app.state.settings.base_url))
    if not await first_use(request.app.state.store, client, claims, now):
        log.warning("FHIR token refused: replayed assertion (client %s)", client.client_id)
        raise AssertionRefused(400, "invalid_client",
                               "This assertion was used before: each needs a new jti.")
    requested = fields["scope"].split()
    granted = sorted(scope for scope in dict.fromkeys(requested)
                     if scope in client.allowed_scopes())
    if not granted:
        raise AssertionRefused(400, "invalid_scope",
                               "None of the requested scopes is allowed for this client.")
    token, seconds = await issue_token(request.app.state.store, client, granted)
    log.info("FHIR token issued: client %s, scopes %s", client.client_id, " ".join(granted))
    return Response({"access_token": token, "token_type": "bearer", "expires_in": seconds,
                     "scope": " ".join(granted)},
                    media_type="application/json", headers=NO_STORE)


@post("/token", status_code=200)
async def token(request: Request, db: NamedDependency[AsyncSession],
                time: NamedDependency[RequestTime]) -> Response:
    """The token endpoint (client_credentials with a private_key_jwt assertion)."""
    try:
        return await _grant(request, db, int(time.now.timestamp()))
    except AssertionRefused as refused:
        return _oauth_error(refused)


route_handlers = [discovery, metadata, token]
