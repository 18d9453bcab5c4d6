"""SMART Backend Services at the token endpoint: the whole flow with real signed
assertions, and every way an assertion or a token request is refused."""

from __future__ import annotations

import json
import time

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey
from litestar import Request
from litestar.testing import TestClient

from portal.config import Settings
from portal.fhir.outcome import FhirError
from portal.fhir.registration import deactivate_client
from portal.fhir.tokens import _key, caller_of
from tests.conftest import BASE_URL, build_app, run_db
from tests.fhir.helpers import bearer, register
from tests.fhir.smart import TOKEN_URL, claims_for, get_token, request_token, sign
from tests.shared_app import app, client, module_client, settings  # noqa: F401

READ = ["system/Consent.read"]


def call_caller_of(test_client, headers: dict[str, str]):
    """The route dependency `caller` for a request with `headers`, in the app's own loop
    with a session of its own database: a Caller, or the FhirError it raises."""
    app = test_client.app

    async def go():
        async with app.state.sessionmaker() as db:
            scope = {"type": "http", "app": app, "litestar_app": app, "method": "GET", "path": "/fhir/R4/Consent",
                     "query_string": b"", "state": {"db": db},
                     "headers": [(name.lower().encode(), value.encode())
                                 for name, value in headers.items()]}
            try:
                return await caller_of(Request(scope))
            except FhirError as error:
                return error

    return test_client.blocking_portal.call(go)


def assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert "access_token" not in body
    return body


# --- the flow ---------------------------------------------------------------------------


def test_the_whole_flow_gives_a_token_that_names_the_client_its_units_and_scopes(
        client, database_url):
    system = register(database_url, ["se-kalmar-vc", "se-kalmar-soc"],
                      scopes=["system/Consent.read", "system/CarePlan.write"])
    discovery = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert discovery["token_endpoint"] == TOKEN_URL

    response = request_token(client, system, ["system/Consent.read", "system/CarePlan.read"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/Consent.read"  # CarePlan.read is not the client's
    assert len(body["access_token"]) >= 40

    caller = call_caller_of(client, bearer(body["access_token"]))
    assert not isinstance(caller, FhirError), caller.diagnostics
    assert caller.client.client_id == system.client_id
    assert caller.unit_ids == set(system.unit_ids)
    assert caller.scopes == {"system/Consent.read"}
    caller.require("system/Consent.read")
    with pytest.raises(FhirError) as refused:
        caller.require("system/CarePlan.write")
    assert refused.value.status == 403


def test_an_rs384_key_works_too(client, database_url):
    system = register(database_url, ["se-kalmar-vc"], scopes=READ)
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "alg": "RS384"})

    async def add_key(db):
        from portal.fhir.clients import FhirClient

        row = await db.get(FhirClient, system.id)
        keys = json.loads(row.jwks)
        keys["keys"].append(rsa.as_dict(private=False))
        row.jwks = json.dumps(keys)
        db.add(row)

    run_db(database_url, add_key)
    assertion = sign(system, header={"alg": "RS384", "kid": "rsa-1"}, key=rsa)
    assert request_token(client, system, READ, assertion=assertion).status_code == 200


# --- the assertion refused ------------------------------------------------------------


@pytest.fixture
def system(database_url):
    return register(database_url, ["se-kalmar-vc"], scopes=READ)


def test_an_expired_assertion_is_refused(client, system):
    claims = claims_for(system, exp=int(time.time()) - 120)
    response = request_token(client, system, READ, assertion=sign(system, claims=claims))
    assert "expired" in assert_oauth_error(response, 401, "invalid_client")["error_description"]


def test_an_assertion_living_longer_than_five_minutes_is_refused(client, system):
    claims = claims_for(system, lifetime=3600)
    response = request_token(client, system, READ, assertion=sign(system, claims=claims))
    assert_oauth_error(response, 401, "invalid_client")


def test_an_assertion_signed_by_another_key_is_refused(client, system):
    other = ECKey.generate_key("P-384", parameters={"kid": system.key.kid})  # same kid!
    response = request_token(client, system, READ, assertion=sign(system, key=other))
    assert_oauth_error(response, 401, "invalid_client")


def test_an_assertion_with_an_unknown_kid_is_refused(client, system):
    assertion = sign(system, header={"alg": "ES384", "kid": "not-registered"})
    assert_oauth_error(request_token(client, system, READ, assertion=assertion),
                       401, "invalid_client")


@pytest.mark.parametrize("claim, value", [
    ("aud", f"{BASE_URL}/token"),
    ("aud", "https://elsewhere.example/fhir/R4/token"),
    ("sub", "someone-else"),
    ("exp", None),
    ("jti", None),
    ("sub", None),
])
def test_wrong_or_missing_claims_are_refused(client, system, claim, value):
    claims = claims_for(system)
    if value is None:
        del claims[claim]
    else:
        claims[claim] = value
    response = request_token(client, system, READ, assertion=sign(system, claims=claims))
    assert_oauth_error(response, 401, "invalid_client")


def test_a_replayed_assertion_is_refused(client, system):
    assertion = sign(system)
    assert request_token(client, system, READ, assertion=assertion).status_code == 200
    assert_oauth_error(request_token(client, system, READ, assertion=assertion),
                       400, "invalid_client")
    # A new jti is a new assertion.
    assert request_token(client, system, READ).status_code == 200


def test_alg_none_and_hmac_are_refused(client, system):
    unsigned = ".".join(part for part in (
        _b64({"alg": "none", "kid": system.key.kid}), _b64(claims_for(system)))) + "."
    assert_oauth_error(request_token(client, system, READ, assertion=unsigned),
                       401, "invalid_client")
    # HS256 keyed with the public key's JSON: the classic key-confusion attack.
    secret = OctKey.import_key(json.dumps(system.key.as_dict(private=False)).encode())
    hmac = sign(system, header={"alg": "HS256", "kid": system.key.kid}, key=secret)
    assert_oauth_error(request_token(client, system, READ, assertion=hmac), 401, "invalid_client")


def _b64(data: dict) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_unknown_client_is_refused(client, system):
    claims = claims_for(system, iss="nobody", sub="nobody")
    response = request_token(client, system, READ, assertion=sign(system, claims=claims))
    assert_oauth_error(response, 401, "invalid_client")


def test_a_scope_the_client_does_not_have_is_refused(client, system):
    response = request_token(client, system, ["system/CarePlan.write", "patient/*.read"])
    assert_oauth_error(response, 400, "invalid_scope")


@pytest.mark.parametrize("field", ["grant_type", "scope", "client_assertion_type",
                                   "client_assertion"])
def test_missing_fields_are_refused(client, system, field):
    response = request_token(client, system, READ, **{field: ""})
    assert_oauth_error(response, 400, "invalid_request")


def test_other_grants_and_assertion_types_and_garbage_are_refused(client, system):
    assert_oauth_error(request_token(client, system, READ, grant_type="password"),
                       400, "unsupported_grant_type")
    assert_oauth_error(request_token(client, system, READ, client_assertion_type="jwt"),
                       400, "invalid_request")
    assert_oauth_error(request_token(client, system, READ, assertion="not.a.jwt"),
                       400, "invalid_request")
    assert_oauth_error(request_token(client, system, READ, client_id="another"),
                       400, "invalid_request")
    response = client.post("/fhir/R4/token", json={"grant_type": "client_credentials"})
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("part", ["header", "payload"])
def test_an_assertion_nested_thousands_deep_is_400_not_500(client, system, part):
    """json.loads raises RecursionError past about 1000 levels: the same 400 as garbage."""
    import base64

    deep = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=").decode()
    header, payload = _b64({"alg": "ES384", "kid": system.key.kid}), _b64(claims_for(system))
    parts = (deep, payload) if part == "header" else (header, deep)
    response = request_token(client, system, READ, assertion=".".join(parts) + ".c2ln")
    assert_oauth_error(response, 400, "invalid_request")


# --- tokens stop working ---------------------------------------------------------------


def test_a_deactivated_client_gets_no_token_and_its_tokens_stop(client, database_url, system):
    token = get_token(client, system, READ)
    assert not isinstance(call_caller_of(client, bearer(token)), FhirError)

    run_db(database_url, lambda db: deactivate_client(db, system.client_id))

    refused = call_caller_of(client, bearer(token))
    assert isinstance(refused, FhirError) and refused.status == 401
    assert_oauth_error(request_token(client, system, READ), 401, "invalid_client")


def test_an_expired_access_token_is_refused(client, system):
    token = get_token(client, system, READ)
    store = client.app.state.store

    async def expire_soon():  # the same grant, with one second left
        await store.set(_key(token), await store.get(_key(token)), expires_in=1)

    client.blocking_portal.call(expire_soon)
    time.sleep(1.2)
    refused = call_caller_of(client, bearer(token))
    assert isinstance(refused, FhirError) and refused.status == 401
    assert "expired" in refused.diagnostics


@pytest.mark.parametrize("header", ["", "Bearer ", "Basic abc", "Bearer not-a-token"])
def test_a_missing_or_unknown_token_is_refused(client, header):
    refused = call_caller_of(client, {"Authorization": header} if header else {})
    assert isinstance(refused, FhirError) and refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


# --- rate limits ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_client(database_url, dev_key_file, demo_ids):
    settings = Settings(base_url=BASE_URL, database_url=database_url, session_dir=":memory:",
                        allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                        fhir_rate_limit=3, fhir_token_rate_limit=2)
    with TestClient(build_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


def test_the_token_endpoint_is_rate_limited_per_client(strict_client, database_url):
    system = register(database_url, ["se-kalmar-vc"], scopes=READ)
    other = register(database_url, ["se-kalmar-vc"], scopes=READ)
    for _ in range(2):
        assert request_token(strict_client, system, READ).status_code == 200
    response = request_token(strict_client, system, READ)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["issue"][0]["code"] == "throttled"
    assert request_token(strict_client, other, READ).status_code == 200  # per client


def test_api_calls_are_rate_limited_per_client(strict_client, database_url):
    system = register(database_url, ["se-kalmar-vc"], scopes=READ)
    token = get_token(strict_client, system, READ)
    for _ in range(3):
        assert not isinstance(call_caller_of(strict_client, bearer(token)), FhirError)
    refused = call_caller_of(strict_client, bearer(token))
    assert isinstance(refused, FhirError)
    assert (refused.status, refused.code, refused.headers["Retry-After"]) == (429, "throttled", "60")


def test_the_token_is_not_in_any_log_line(client, system, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        assertion = sign(system)
        response = request_token(client, system, READ, assertion=assertion)
        request_token(client, system, READ, assertion=assertion)  # a replay, logged
    token = response.json()["access_token"]
    text = caplog.text
    assert token not in text and assertion not in text
    assert system.client_id in text  # the client is named, its secrets are not


def test_on_redis_one_of_two_concurrent_uses_of_a_jti_passes():
    """The replay check on Redis is one SET NX: two sends at once cannot both pass."""
    import asyncio

    from litestar.stores.redis import RedisStore

    from portal.fhir.assertion import first_use
    from portal.fhir.clients import FhirClient
    from tests.conftest import redis_for_tests

    url = redis_for_tests("the replay check on Redis")

    async def go():
        store = RedisStore.with_client(url=url, namespace="test-fhir-jti")
        try:
            holder = FhirClient(id="c" * 32, client_id="x", name="", owner="", jwks="{}",
                                scopes="")
            now = int(time.time())
            claims = {"jti": f"jti-{time.time_ns()}", "exp": now + 60}
            results = await asyncio.gather(*(first_use(store, holder, claims, now)
                                             for _ in range(5)))
            again = await first_use(store, holder, claims, now)
            return results, again
        finally:
            await store.delete_all()
            await store._redis.aclose()

    results, again = asyncio.run(go())
    assert sorted(results) == [False] * 4 + [True]
    assert again is False
