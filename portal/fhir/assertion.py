"""SMART Backend Services client assertions (HL7 SMART App Launch 2.x, "Backend Services";
RFC 7523 §3 and §2.2, RFC 7521), and the public keys they are checked against.

A staff system authenticates at the token endpoint with a JWT it signed with one of the
private keys whose public halves are its registered JWKS (`FhirClient.jwks`):

    header   {"alg": "ES384" | "RS384", "kid": <a kid of its JWKS>, "typ": "JWT"}
    claims   iss == sub == its client_id, aud == the token endpoint's absolute URL,
             exp (at most 5 minutes ahead), jti (never used before by that client)

    client_id = claimed_client_id(assertion)                  # unverified: to find the row
    claims = verify_assertion(assertion, client, audience=url, now=epoch_seconds)
    fresh = await first_use(store, client, claims, now)       # False: a replayed jti

Failures raise `AssertionRefused(status, error, description)` with the OAuth 2.0 error
code (RFC 6749 §5.2) the token endpoint answers with; descriptions are plain English for
the system's developers and never repeat the assertion.
"""

from __future__ import annotations

import hashlib
import json

from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jws import extract_compact
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore

from portal.fhir.clients import FhirClient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# SMART Backend Services: servers SHALL support RS384 and ES384; nothing else is taken
# (so never "none" nor an HMAC with a guessable secret).
ALGORITHMS = ("RS384", "ES384")
MAX_LIFETIME = 5 * 60  # seconds: "exp" no further ahead (SMART Backend Services)
LEEWAY = 30  # seconds of clock skew allowed on "exp", "nbf" and "iat"
MIN_RSA_BITS = 2048


class AssertionRefused(Exception):
    """An OAuth 2.0 error of the token endpoint: `status` 400 or 401, `error` a code of
    RFC 6749 §5.2 (invalid_request, invalid_client, invalid_grant, invalid_scope …)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _invalid_client(description: str) -> AssertionRefused:
    return AssertionRefused(401, "invalid_client", description)


def claimed_client_id(assertion: str) -> str:
    """The `iss` of an assertion, read WITHOUT checking its signature (only to find the
    client whose keys check it). AssertionRefused 400 when it is not a signed JWT."""
    try:
        claims = json.loads(extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeError, RecursionError):  # Recursion: nested ~1000 deep
        raise AssertionRefused(400, "invalid_request",
                               "client_assertion is not a compact JWS (a signed JWT).") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise AssertionRefused(400, "invalid_request", "client_assertion has no iss claim.")
    return issuer


def verify_assertion(assertion: str, client: FhirClient, *, audience: str, now: int) -> dict:
    """The claims of `assertion` after checking its signature with `client`'s JWKS (the
    key named by the header's kid; RS384 or ES384) and its claims: iss == sub ==
    client_id, aud holds `audience`, exp present, not past (LEEWAY) and at most
    MAX_LIFETIME ahead of `now` (Unix seconds, UTC), jti present.
    AssertionRefused 401 invalid_client otherwise."""
    try:
        keys = KeySet.import_key_set(json.loads(client.jwks))
        header = extract_compact(assertion.encode()).protected
    except (JoseError, ValueError, UnicodeError, RecursionError):
        raise _invalid_client("The assertion could not be read with the client's keys.") from None
    if header.get("alg") not in ALGORITHMS:
        raise _invalid_client(f"The assertion must be signed with {' or '.join(ALGORITHMS)}.")
    if not header.get("kid"):
        raise _invalid_client("The assertion's header needs the kid of the signing key.")
    try:
        token = jwt.decode(assertion, keys, algorithms=list(ALGORITHMS))
    except JoseError:
        raise _invalid_client("The assertion's signature does not verify with the client's "
                              "registered keys (JWKS, by kid).") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=LEEWAY,
        iss={"essential": True, "value": client.client_id},
        sub={"essential": True, "value": client.client_id},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _invalid_client("The assertion has expired.") from None
    except ClaimError as exc:
        claim = getattr(exc, "claim", "")
        raise _invalid_client(f"The assertion's claim {claim or '(a claim)'} is missing or "
                              f"wrong (iss and sub: the client_id; aud: {audience}).") from None
    if not isinstance(claims["exp"], int | float) or claims["exp"] > now + MAX_LIFETIME + LEEWAY:
        raise _invalid_client("The assertion's exp must be at most five minutes ahead.")
    if not claims["jti"]:
        raise _invalid_client("The assertion's jti claim is empty.")
    return claims


async def first_use(store: Store, client: FhirClient, claims: dict, now: int) -> bool:
    """Remember the assertion's jti for `client` until it expires (exp + LEEWAY), in the
    app's store (Redis in production: every instance sees it). True the first time,
    False when it was seen before (a replay). On Redis the check and the write are one
    SET NX, so two concurrent sends of one assertion cannot both pass."""
    key = f"fhir-jti:{client.id}:{hashlib.sha256(str(claims['jti']).encode()).hexdigest()}"
    seconds = max(1, int(claims["exp"]) - now + LEEWAY)
    if isinstance(store, RedisStore):
        # Store has no "set if absent"; the Redis client under it has.
        return bool(await store._redis.set(store._make_key(key), b"1", ex=seconds, nx=True))
    if await store.exists(key):
        return False
    await store.set(key, b"1", expires_in=seconds)
    return True


class JwksRefused(ValueError):
    """A JWKS that cannot be registered; the message says why (plain English)."""


def public_jwks(text: str) -> str:
    """`text` (a JWKS document, JSON) checked and normalised for `FhirClient.jwks`: at
    least one key, each an EC P-384 key (ES384) or an RSA key of at least 2048 bits
    (RS384), each with a unique kid, no private parts. Returns the JWKS as JSON with
    only the public members. JwksRefused otherwise."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise JwksRefused("The JWKS is not JSON.") from None
    raw_keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(raw_keys, list) or not raw_keys:
        raise JwksRefused('The JWKS needs a non-empty "keys" list.')
    public, kids = [], set()
    for number, raw in enumerate(raw_keys, 1):
        if not isinstance(raw, dict):
            raise JwksRefused(f"Key {number} is not a JSON object.")
        if any(part in raw for part in ("d", "p", "q", "dp", "dq", "qi", "oth", "k")):
            raise JwksRefused(f"Key {number} holds private key material: register only the "
                              "public keys (the system keeps its private key).")
        kid = raw.get("kid")
        if not isinstance(kid, str) or not kid or kid in kids:
            raise JwksRefused(f"Key {number} needs a kid of its own.")
        kids.add(kid)
        if raw.get("alg") not in (None, *ALGORITHMS):
            raise JwksRefused(f"Key {number}: alg must be one of {', '.join(ALGORITHMS)}.")
        try:
            if raw.get("kty") == "EC":
                key = ECKey.import_key(raw)
                if key.curve_name != "P-384":
                    raise JwksRefused(f"Key {number}: an EC key must be on P-384 (ES384).")
            elif raw.get("kty") == "RSA":
                key = RSAKey.import_key(raw)
                if key.raw_value.key_size < MIN_RSA_BITS:
                    raise JwksRefused(f"Key {number}: an RSA key needs {MIN_RSA_BITS} bits.")
            else:
                raise JwksRefused(f"Key {number}: kty must be EC or RSA.")
        except JoseError as exc:
            raise JwksRefused(f"Key {number} is not a valid key ({exc.error}).") from None
        member = key.as_dict(private=False)
        member.update({name: raw[name] for name in ("kid", "alg", "use") if name in raw})
        public.append(member)
    return json.dumps({"keys": public})
