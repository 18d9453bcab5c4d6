"""Rate limits of the FHIR API, per registered client (issue 13: "Rate limits per client").

Two budgets, each per client and minute, counted in the app's store with
portal.auth.accounts.RateLimiter (Redis in production: all instances share them):

    Settings.fhir_rate_limit        calls of the API's routes with a token (`caller`)
    Settings.fhir_token_rate_limit  requests at the token endpoint naming the client

    await throttle(request, "api", client.id)   # FhirError 429 (throttled), Retry-After
"""

from __future__ import annotations

from litestar import Request

from portal.auth.accounts import RateLimiter
from portal.fhir.outcome import FhirError

WINDOW = 60  # seconds


async def throttle(request: Request, budget: str, client_key: str) -> None:
    """Count one hit of `budget` ("api" or "token") for the client `client_key`
    (FhirClient.id); FhirError 429 with Retry-After (seconds) when the minute's budget
    is spent."""
    settings = request.app.state.settings
    limit = settings.fhir_rate_limit if budget == "api" else settings.fhir_token_rate_limit
    limiter = RateLimiter(request.app.state.store, limit, WINDOW)
    if not await limiter.allow(f"fhir-{budget}:{client_key}"):
        raise FhirError(429, "throttled",
                        f"Too many requests from this client; at most {limit} a minute.",
                        headers={"Retry-After": str(WINDOW)})
