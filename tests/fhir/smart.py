"""A test SMART Backend Services client: what a staff system does to get a token.

    assertion = sign(system)                               # a fresh, valid assertion
    response = request_token(client, system, ["system/Consent.read"])
    token = get_token(client, system, ["system/Consent.read"])   # asserts 200

`sign` takes overrides for the unhappy paths (claims=..., header=..., key=...); the
token endpoint checks it against the JWKS the system registered (tests.fhir.helpers).
"""

from __future__ import annotations

import time
import uuid

from joserfc import jwt

from portal.fhir.assertion import ASSERTION_TYPE
from tests.conftest import BASE_URL
from tests.fhir.helpers import System

TOKEN_URL = f"{BASE_URL}/fhir/R4/token"


def claims_for(system: System, *, lifetime: int = 240, **overrides) -> dict:
    now = int(time.time())
    claims = {"iss": system.client_id, "sub": system.client_id, "aud": TOKEN_URL,
              "exp": now + lifetime, "iat": now, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(system: System, *, claims: dict | None = None, header: dict | None = None,
         key=None, algorithms: list[str] | None = None) -> str:
    """A compact JWS of `claims` (default: valid claims_for(system)) signed ES384 with
    the system's key (or `key`), kid of the system's key unless `header` says otherwise."""
    key = key or system.key
    header = header or {"alg": "ES384", "kid": system.key.kid, "typ": "JWT"}
    return jwt.encode(header, claims if claims is not None else claims_for(system), key,
                      algorithms=algorithms or [header["alg"]])


def token_form(assertion: str, scopes: list[str], **overrides) -> dict:
    form = {"grant_type": "client_credentials", "scope": " ".join(scopes),
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


def request_token(client, system: System, scopes: list[str], *, assertion: str | None = None,
                  **form_overrides):
    """POST the token request (a form) and return the response."""
    return client.post("/fhir/R4/token",
                       data=token_form(assertion or sign(system), scopes, **form_overrides))


def get_token(client, system: System, scopes: list[str]) -> str:
    response = request_token(client, system, scopes)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
