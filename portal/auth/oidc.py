"""OpenID Connect relying party: authorization code + PKCE (S256) with Authlib.

The ID token is checked against the issuer's JWKS with an algorithm
allow-list, exact `iss`, `aud` = client id, `exp`/`iat` with small leeway,
the `nonce` bound to this browser session and an accepted `acr` (the
client's `accepted_acr`, configuration). Claims the ID token lacks (names,
the national id) are read from the userinfo endpoint, whose `sub` must be
the ID token's (OpenID Connect Core 1.0, 5.3.2).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import authlib.deprecate  # noqa: F401  (installs its own "always" filter first)
import httpx

with warnings.catch_warnings():
    # Authlib 1.9 prefers httpx2 (not yet released as stable); httpx 0.28 is what we pin.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.config import OIDCClient

ALLOWED_ALGORITHMS = ["RS256", "PS256", "ES256"]
LEEWAY = 60
MAX_TOKEN_AGE = 10 * 60

# The Swedish OpenID Connect profile ("Claims and Scopes Specification", 2.1.1-2.1.2):
# 12 digits, no hyphen. A samordningsnummer comes in its own claim.
SE_ID_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
SE_COORDINATION_CLAIM = "https://id.oidc.se/claim/coordinationNumber"
# Suomi.fi: nationalIdentificationNumber (henkilötunnus).
FI_ID_CLAIM = "urn:oid:1.2.246.21"
NAME_CLAIMS = ("given_name", "family_name")
ID_CLAIMS = (SE_ID_CLAIM, SE_COORDINATION_CLAIM, FI_ID_CLAIM)


class LoginError(Exception):
    """The login could not be completed; `reason` is for the log, never the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AssuranceTooLow(LoginError):
    """The ID token's `acr` is missing or not one this login accepts."""


def has_text(claims: dict, name: str) -> bool:
    value = claims.get(name)
    return isinstance(value, str) and bool(value.strip())


@dataclass
class _Cache:
    metadata: dict | None = None
    keys: KeySet | None = None
    keys_at: float = 0.0


class OIDCProvider:
    def __init__(self, client: OIDCClient, transport: httpx.AsyncBaseTransport | None = None):
        self.client = client
        self.transport = transport
        self._cache = _Cache()

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=10)

    async def metadata(self) -> dict:
        if self._cache.metadata is None:
            url = self.client.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with self._http() as http:
                response = await http.get(url)
            if response.status_code != 200:
                raise LoginError("discovery failed")
            data = response.json()
            if data.get("issuer") != self.client.issuer:
                raise LoginError("discovery issuer mismatch")
            self._cache.metadata = data
        return self._cache.metadata

    async def keys(self, refresh: bool = False) -> KeySet:
        if self._cache.keys is None or refresh:
            meta = await self.metadata()
            async with self._http() as http:
                response = await http.get(meta["jwks_uri"])
            if response.status_code != 200:
                raise LoginError("jwks fetch failed")
            self._cache.keys = KeySet.import_key_set(response.json())
            self._cache.keys_at = time.time()
        return self._cache.keys

    def _oauth(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client.client_id,
            client_secret=self.client.client_secret,
            scope=self.client.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            transport=self.transport,
            timeout=10,
        )

    async def authorization_url(self, redirect_uri: str, state: str, nonce: str,
                                code_verifier: str, max_age: int | None = None,
                                prompt: str | None = None, ui_locales: str | None = None) -> str:
        meta = await self.metadata()
        extra = {"nonce": nonce}
        if self.client.acr_values:
            extra["acr_values"] = self.client.acr_values
        if max_age is not None:
            extra["max_age"] = str(max_age)
        if prompt:
            extra["prompt"] = prompt
        if ui_locales:
            extra["ui_locales"] = ui_locales
        async with self._oauth(redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=code_verifier, **extra
            )
        return url

    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> dict:
        meta = await self.metadata()
        async with self._oauth(redirect_uri) as oauth:
            try:
                token = await oauth.fetch_token(
                    meta["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            except Exception as exc:
                raise LoginError(f"token exchange failed: {type(exc).__name__}") from None
        if "id_token" not in token:
            raise LoginError("no id_token")
        return dict(token)

    async def validate_id_token(self, id_token: str, nonce: str) -> dict:
        keys = await self.keys()
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=ALLOWED_ALGORITHMS)
            except JoseError as exc:
                if "key" not in type(exc).__name__.lower() and "kid" not in str(exc).lower():
                    raise
                token = jwt.decode(id_token, await self.keys(refresh=True),
                                   algorithms=ALLOWED_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": self.client.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.client.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise LoginError(f"id token rejected: {type(exc).__name__}") from None
        claims = dict(token.claims)
        now = time.time()
        if claims["iat"] > now + LEEWAY or claims["iat"] < now - MAX_TOKEN_AGE:
            raise LoginError("id token iat out of range")
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.client.client_id:
            raise LoginError("id token azp mismatch")
        if claims.get("acr") not in self.client.accepted_acr:
            raise AssuranceTooLow("assurance level not accepted")
        return claims

    async def with_userinfo(self, claims: dict, access_token: str | None) -> dict:
        """`claims` (a validated ID token's) completed from the userinfo endpoint.

        Called when the ID token lacks a name claim or every national id claim.
        Only missing claims are taken (names; national ids when the token has
        none); the ID token's own values win. Without an endpoint (or access
        token) the claims come back as they were. Raises LoginError when the
        endpoint answers with an error or with something other than a JSON
        object (or a signed JWT), or names another `sub`.
        """
        if all(has_text(claims, n) for n in NAME_CLAIMS) and any(c in claims for c in ID_CLAIMS):
            return claims
        meta = await self.metadata()
        endpoint = meta.get("userinfo_endpoint")
        if not endpoint or not access_token:
            return claims  # nothing to ask: the account check refuses what is missing
        async with self._http() as http:
            response = await http.get(endpoint, headers={
                "Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        if response.status_code != 200:
            raise LoginError(f"userinfo answered {response.status_code}")
        info = await self._userinfo_claims(response)
        if info.get("sub") != claims["sub"]:
            raise LoginError("userinfo sub differs from the id token's")
        completed = dict(claims)
        for name in NAME_CLAIMS:
            if not has_text(completed, name) and has_text(info, name):
                completed[name] = info[name]
        if not any(c in completed for c in ID_CLAIMS):
            completed.update({c: info[c] for c in ID_CLAIMS if c in info})
        return completed

    async def _userinfo_claims(self, response: httpx.Response) -> dict:
        """The userinfo response as a dict: plain JSON, or a JWT signed with the
        provider's keys whose `iss` and `aud` are checked (OIDC Core 5.3.2)."""
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if kind == "application/jwt":
                token = jwt.decode(response.text, await self.keys(), algorithms=ALLOWED_ALGORITHMS)
                jwt.JWTClaimsRegistry(
                    iss={"essential": True, "value": self.client.issuer},
                    aud={"essential": True, "value": self.client.client_id},
                ).validate(token.claims)
                data = dict(token.claims)
            else:
                data = response.json()
        except (JoseError, ValueError):
            raise LoginError("userinfo response unreadable") from None
        if not isinstance(data, dict):
            raise LoginError("userinfo response not an object")
        return data

    async def issuer_in_response_required(self) -> bool:
        """RFC 9207 2.4: a provider that advertises the `iss` response parameter must send it."""
        meta = await self.metadata()
        return meta.get("authorization_response_iss_parameter_supported") is True

    async def end_session_url(self, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        try:
            meta = await self.metadata()
        except (LoginError, httpx.HTTPError):
            return None
        endpoint = meta.get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"post_logout_redirect_uri": post_logout_redirect_uri,
                  "client_id": self.client.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return str(httpx.URL(endpoint, params=params))
