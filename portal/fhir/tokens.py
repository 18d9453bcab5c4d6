"""Access tokens of the FHIR API, and who is calling (`Caller`).

A token is opaque (32 random bytes, URL-safe) and lives in the app's store (Redis in
production, so every instance knows it) under the SHA-256 of its value, for
`TOKEN_SECONDS`. It is issued by the token endpoint (portal.fhir.token_endpoint) after a
valid SMART Backend Services client assertion, with the scopes granted.

    token, seconds = await issue_token(store, client, ["system/Consent.read"])
    caller = await caller_of(request)      # the route dependency `caller`; FhirError 401
    caller.require("system/Consent.read")  # FhirError 403 (insufficient scope)

A token stops working when it expires, and at once when its client is deactivated
(`FhirClient.active`) or loses a unit: the client and its units are read on every call.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from litestar import Request
from litestar.stores.base import Store
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.fhir.clients import FhirClient, FhirClientUnit
from portal.fhir.limits import throttle
from portal.fhir.outcome import FhirError
from portal.people.models import Unit

TOKEN_SECONDS = 300  # SMART Backend Services recommends at most five minutes
_BEARER = "bearer "


def _key(token: str) -> str:
    return "fhir-token:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Caller:
    """The registered client behind a valid access token, for one request."""

    client: FhirClient
    units: list[Unit]
    scopes: set[str] = field(default_factory=set)

    @property
    def unit_ids(self) -> set[str]:
        return {unit.id for unit in self.units}

    def require(self, scope: str) -> None:
        """FhirError 403 (forbidden) unless the token was granted `scope`."""
        if scope not in self.scopes:
            raise FhirError(403, "forbidden", f"The access token lacks the scope {scope}.",
                            headers={"WWW-Authenticate":
                                     f'Bearer error="insufficient_scope", scope="{scope}"'})


async def issue_token(store: Store, client: FhirClient, scopes: list[str]) -> tuple[str, int]:
    """A new access token for `client` with `scopes` (already checked against what the
    client may have); returns (token, lifetime in seconds)."""
    token = secrets.token_urlsafe(32)
    await store.set(_key(token), json.dumps({"client": client.id, "scopes": sorted(scopes)}),
                    expires_in=TOKEN_SECONDS)
    return token, TOKEN_SECONDS


def _unauthorised(diagnostics: str) -> FhirError:
    return FhirError(401, "login", diagnostics,
                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


async def caller_of(request: Request) -> Caller:
    """The route dependency `caller`: the Authorization header's bearer token, its
    client (active) and the client's units (one statement). FhirError 401 when the
    token is missing, unknown, expired or its client is gone; FhirError 429 when the
    client has spent its minute's budget of calls (portal.fhir.limits)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(_BEARER) or not header[len(_BEARER):].strip():
        raise FhirError(401, "login", "An access token is needed (Authorization: Bearer).",
                        headers={"WWW-Authenticate": "Bearer"})
    raw = await request.app.state.store.get(_key(header[len(_BEARER):].strip()))
    if raw is None:
        raise _unauthorised("The access token is unknown or has expired.")
    grant = json.loads(raw)
    db: AsyncSession = request.scope["state"]["db"]
    rows = (await db.exec(
        select(FhirClient, Unit)
        .outerjoin(FhirClientUnit, FhirClientUnit.client_id == FhirClient.id)
        .outerjoin(Unit, Unit.id == FhirClientUnit.unit_id)
        .where(FhirClient.id == grant["client"], FhirClient.active))).all()
    if not rows:
        raise _unauthorised("The client of this access token is no longer registered.")
    await throttle(request, "api", grant["client"])
    units = sorted((unit for _, unit in rows if unit is not None), key=lambda unit: unit.id)
    return Caller(rows[0][0], units, set(grant["scopes"]))
