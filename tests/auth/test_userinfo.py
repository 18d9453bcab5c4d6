"""Claims the ID token lacks come from the userinfo endpoint (OIDC Core 5.3), whose
`sub` must be the ID token's (5.3.2). The provider is a stub on an httpx MockTransport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from portal.auth.oidc import FI_ID_CLAIM, SE_ID_CLAIM, LoginError, OIDCProvider
from portal.config import OIDCClient

ISSUER = "https://broker.example"
CLIENT = OIDCClient("citizen", ISSUER, "portal-citizen", "secret")
KEY = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, private=True)
KEY.ensure_kid()
TOKEN_CLAIMS = {"sub": "abc", "acr": "http://id.elegnamnden.se/loa/1.0/loa3",
                SE_ID_CLAIM: "191212121212"}


def provider(userinfo: httpx.Response | None, seen: list | None = None,
             endpoint: bool = True) -> OIDCProvider:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            meta = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
            if endpoint:
                meta["userinfo_endpoint"] = f"{ISSUER}/userinfo"
            return httpx.Response(200, json=meta)
        if request.url.path == "/jwks":
            return httpx.Response(200, json={"keys": [KEY.as_dict(private=False)]})
        if seen is not None:
            seen.append(request)
        return userinfo

    return OIDCProvider(CLIENT, httpx.MockTransport(handle))


def complete(p: OIDCProvider, claims: dict, access_token: str | None = "at-123") -> dict:
    return asyncio.run(p.with_userinfo(claims, access_token))


def test_names_only_in_userinfo_are_taken_with_the_access_token():
    seen: list[httpx.Request] = []
    p = provider(httpx.Response(200, json={"sub": "abc", "given_name": "Ulla",
                                           "family_name": "Userinfo"}), seen)
    claims = complete(p, TOKEN_CLAIMS)
    assert (claims["given_name"], claims["family_name"]) == ("Ulla", "Userinfo")
    assert seen[0].headers["authorization"] == "Bearer at-123"
    assert claims[SE_ID_CLAIM] == "191212121212"


def test_the_id_tokens_own_values_win():
    p = provider(httpx.Response(200, json={
        "sub": "abc", "given_name": "Other", "family_name": "Name", FI_ID_CLAIM: "010150-902E"}))
    claims = complete(p, dict(TOKEN_CLAIMS, given_name="Viola"))
    assert (claims["given_name"], claims["family_name"]) == ("Viola", "Name")
    assert FI_ID_CLAIM not in claims, "a second national id is never added"


def test_a_national_id_only_in_userinfo_is_taken():
    p = provider(httpx.Response(200, json={"sub": "abc", FI_ID_CLAIM: "010150-902E"}))
    token = {k: v for k, v in TOKEN_CLAIMS.items() if k != SE_ID_CLAIM}
    claims = complete(p, dict(token, given_name="Elsa", family_name="E"))
    assert claims[FI_ID_CLAIM] == "010150-902E"


def test_a_complete_id_token_needs_no_userinfo_call():
    seen: list[httpx.Request] = []
    claims = dict(TOKEN_CLAIMS, given_name="Viola", family_name="V")
    assert complete(provider(httpx.Response(500), seen), claims) == claims
    assert seen == []


def test_a_signed_userinfo_response_is_verified():
    body = jwt.encode({"alg": "RS256", "kid": KEY.kid}, {
        "sub": "abc", "iss": ISSUER, "aud": "portal-citizen", "given_name": "Signe",
        "family_name": "Signerad"}, KEY)
    p = provider(httpx.Response(200, content=body, headers={"content-type": "application/jwt"}))
    assert complete(p, TOKEN_CLAIMS)["given_name"] == "Signe"
    stranger = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode({"alg": "RS256"}, {"sub": "abc", "iss": ISSUER, "aud": "portal-citizen",
                                          "given_name": "Falsk"}, stranger)
    with pytest.raises(LoginError):
        complete(provider(httpx.Response(200, content=forged,
                                         headers={"content-type": "application/jwt"})), TOKEN_CLAIMS)


@pytest.mark.parametrize("answer", [
    httpx.Response(200, json={"sub": "someone-else", "given_name": "Mallory", "family_name": "M"}),
    httpx.Response(200, json={"given_name": "No", "family_name": "Sub"}),
    httpx.Response(401, json={"error": "invalid_token"}),
    httpx.Response(200, content=b"<html>", headers={"content-type": "text/html"}),
    httpx.Response(200, content=json.dumps(["sub", "abc"]).encode(),
                   headers={"content-type": "application/json"}),
], ids=["other-sub", "no-sub", "401", "html", "not-an-object"])
def test_a_wrong_userinfo_answer_refuses_the_login(answer):
    with pytest.raises(LoginError):
        complete(provider(answer), TOKEN_CLAIMS)


def test_without_an_endpoint_the_claims_come_back_unchanged():
    assert complete(provider(None, endpoint=False), TOKEN_CLAIMS) == TOKEN_CLAIMS
    assert complete(provider(None), TOKEN_CLAIMS, access_token=None) == TOKEN_CLAIMS
