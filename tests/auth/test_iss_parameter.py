"""RFC 9207 on the callback: an `iss` parameter must be the issuer exactly; a provider
that advertises `authorization_response_iss_parameter_supported` must send it; one that
does not may leave it out. (The end-to-end cases are in test_oidc_failures.py and
test_independent_op.py.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from portal.auth.oidc import OIDCProvider
from portal.auth.routes import _iss_problem
from portal.config import OIDCClient

ISSUER = "https://broker.example"


def provider(advertised: bool | None) -> OIDCProvider:
    def handle(request: httpx.Request) -> httpx.Response:
        meta = {"issuer": ISSUER}
        if advertised is not None:
            meta["authorization_response_iss_parameter_supported"] = advertised
        return httpx.Response(200, json=meta)

    return OIDCProvider(OIDCClient("citizen", ISSUER, "id", "secret"), httpx.MockTransport(handle))


@pytest.mark.parametrize(("advertised", "iss", "accepted"), [
    (True, ISSUER, True),
    (True, None, False),
    (True, ISSUER + "/", False),
    (True, "https://evil.example", False),
    (True, "", False),
    (False, None, True),
    (None, None, True),
    (None, "https://evil.example", False),   # present: checked whatever the metadata says
    (None, ISSUER, True),
])
def test_iss_response_parameter(advertised, iss, accepted):
    problem = asyncio.run(_iss_problem(provider(advertised), iss))
    assert (problem is None) == accepted, problem


def test_an_unreachable_provider_is_a_problem_not_a_crash():
    def down(request):
        raise httpx.ConnectError("down")

    unreachable = OIDCProvider(OIDCClient("citizen", ISSUER, "id", "s"), httpx.MockTransport(down))
    assert asyncio.run(_iss_problem(unreachable, None)) == "provider unreachable: ConnectError"
