"""FHIR errors: every answer of the API that is not a success is an OperationOutcome.

    raise FhirError(403, "forbidden", "No consent from this person for the calling unit.")

`FhirError(status, code, diagnostics, expression=None)`: `status` the HTTP status (400,
401, 403, 404, 409, 413, 422, 429, 503 …), `code` an IssueType code of FHIR R4
(http://hl7.org/fhir/R4/valueset-issue-type.html: invalid, structure, required, value,
security, login, forbidden, not-found, conflict, duplicate, too-long, throttled,
processing, exception, transient …), `diagnostics` a plain English sentence for the
staff system's developers (the language of FHIR's own specification; never personal
data: no national id, no name), `expression` FHIRPath locations of the fault.

`outcome_response(...)` builds the `application/fhir+json` response; `handlers` turns
every exception raised under /fhir/ into one (portal.core.errors sends the API's paths
here too, for 404/405/413 answered before any handler).
"""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

FHIR_JSON = "application/fhir+json"
BASE_PATH = "/fhir/R4"
log = logging.getLogger("portal.fhir")


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str,
                 expression: list[str] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression or []
        self.headers = headers or {}


def operation_outcome(code: str, diagnostics: str, expression: list[str] | None = None,
                      severity: str = "error") -> dict:
    issue: dict = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(body: dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers or {})


def outcome_response(status: int, code: str, diagnostics: str, expression: list[str] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    return fhir_response(operation_outcome(code, diagnostics, expression), status, headers)


def is_api_path(path: str) -> bool:
    return path == BASE_PATH or path.startswith(BASE_PATH + "/")


# Status -> (IssueType, diagnostics) for errors raised outside the API's own code.
_BY_STATUS = {
    400: ("invalid", "The request could not be read."),
    401: ("login", "An access token is needed (Authorization: Bearer)."),
    403: ("forbidden", "Not allowed."),
    404: ("not-found", "No such resource or operation."),
    405: ("not-supported", "This operation is not supported here; see /fhir/R4/metadata."),
    413: ("too-costly", "The request is too large."),
    415: ("not-supported", "Send application/fhir+json."),
    429: ("throttled", "Too many requests; try again later."),
    503: ("transient", "The service is unavailable for a moment; nothing was saved. Try again later."),
}


def for_status(status: int, headers: dict[str, str] | None = None) -> Response:
    code, diagnostics = _BY_STATUS.get(status, ("exception", "An internal error; nothing was saved."))
    if status >= 500 and status != 503:
        status = 500
    return outcome_response(status, code, diagnostics, headers=headers)


def _fhir_error(_: Request, exc: FhirError) -> Response:
    return outcome_response(exc.status, exc.code, exc.diagnostics, exc.expression, exc.headers)


def _http_error(_: Request, exc: HTTPException) -> Response:
    return for_status(exc.status_code, dict(exc.headers or {}))


def _unavailable(_: Request, exc: Exception) -> Response:
    from portal.core.errors import is_connection_failure

    if isinstance(exc, DBAPIError | PoolTimeout) and not is_connection_failure(exc):
        log.error("FHIR API database error: %s", type(exc).__name__)
        return for_status(500)
    log.error("FHIR API unavailable: %s", type(exc).__name__)
    return for_status(503)


def _server_error(_: Request, exc: Exception) -> Response:
    log.exception("FHIR API unhandled error: %s", type(exc).__name__)
    return for_status(500)


handlers = {
    FhirError: _fhir_error,
    HTTPException: _http_error,
    DBAPIError: _unavailable,
    PoolTimeout: _unavailable,
    RedisConnectionError: _unavailable,
    RedisTimeoutError: _unavailable,
    Exception: _server_error,
}
