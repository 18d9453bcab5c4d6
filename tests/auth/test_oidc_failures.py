"""Every way a login can go wrong ends on a plain page, with nobody logged in.

Tokens are tampered with on the wire between the portal and the provider:
the provider answers for real (code, PKCE, nonce), and the test changes the
token response (or the token request) the way an attacker or a broken
provider would. Forged tokens are signed with the provider's own key file or
with a freshly generated key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from sqlmodel import select

from portal.app import create_app
from portal.auth.oidc import SE_COORDINATION_CLAIM, SE_ID_CLAIM
from portal.config import Settings
from portal.people.demo import PEOPLE
from portal.people.models import Person
from portal.people.national_id import swedish_with_check_digit
from tests.conftest import BASE_URL, Page, choose_at_provider, login, query_of, run_db

JWT_SHAPE = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.")
LEAKY_WORDS = ("Traceback", "Error", "Exception", "nonce", "signature", "id_token", "invalid_",
               "iat", "exp ", "issuer", "acr", "joserfc", "authlib")


class ProviderWire(httpx.AsyncBaseTransport):
    """The network between the portal and the identity provider."""

    def __init__(self) -> None:
        self.app = None
        self.reset()

    def reset(self) -> None:
        self.change_token_request: Callable[[dict], dict] | None = None
        self.change_id_token: Callable[[str], str] | None = None
        self.token_requests: list[tuple[dict, bytes]] = []
        self.token_statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        is_token = request.url.path == "/dev-idp/token"
        if is_token:
            body = await request.aread()
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            self.token_requests.append((headers, body))
            if self.change_token_request:
                form = self.change_token_request(dict(parse_qsl(body.decode())))
                request = httpx.Request(request.method, request.url, headers=headers,
                                        content=urlencode(form).encode())
        response = await httpx.ASGITransport(app=self.app).handle_async_request(request)
        if not is_token:
            return response
        self.token_statuses.append(response.status_code)
        if response.status_code != 200 or not self.change_id_token:
            return response
        data = json.loads(await response.aread())
        data["id_token"] = self.change_id_token(data["id_token"])
        return httpx.Response(200, json=data, headers={"Cache-Control": "no-store"})


# One app per module and backend (building one costs more than a login); every test
# starts with an empty cookie jar and an honest wire.
@pytest.fixture(scope="module")
def settings(database_url, dev_key_file, demo_ids) -> Settings:
    return Settings(base_url=BASE_URL, database_url=database_url, session_dir=":memory:",
                    allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                    login_rate_limit=1000)


@pytest.fixture(scope="module")
def wire() -> ProviderWire:
    return ProviderWire()


@pytest.fixture(scope="module")
def app(settings, wire):
    """Like conftest's app, with the wire between the portal and the provider."""
    app = create_app(settings, http_transport=wire, store=MemoryStore())
    wire.app = app
    return app


@pytest.fixture(scope="module")
def module_client(app):
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def client(module_client, wire):
    wire.reset()
    module_client.cookies.clear()
    return module_client


@pytest.fixture(scope="module")
def dev_key(app, settings) -> RSAKey:
    return RSAKey.import_key(json.loads(Path(settings.dev_idp_key_file).read_text()))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def header_and_claims(token: str) -> tuple[dict, dict]:
    head, payload, _ = token.split(".")
    return json.loads(unb64(head)), json.loads(unb64(payload))


def sign(claims: dict, key: RSAKey, **header) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT", **header}, claims, key)


def callback_url(client, who: str = "viola", kind: str = "citizen") -> str:
    start = client.get(f"/auth/login/{kind}", follow_redirects=False)
    assert start.status_code == 303
    choice = choose_at_provider(client, start.headers["location"], who)
    url = choice.headers["location"]
    assert url.startswith(f"{BASE_URL}/auth/callback/{kind}?")
    return url


def assert_refused(client, response: httpx.Response, status: int = 400,
                   message: str = "Inloggningen gick inte att slutföra") -> None:
    assert response.status_code == status, response.text[:300]
    shown = Page(response)
    assert shown.h1 == "Du är inte inloggad"
    assert message in shown.text()
    assert not JWT_SHAPE.search(response.text)
    for word in LEAKY_WORDS:
        assert word not in shown.text(), word
    for person in PEOPLE.values():
        assert person[3] not in response.text  # no national id
    assert "Inloggad" not in shown.text("header")
    assert_anonymous(client)


def assert_anonymous(client) -> None:
    start = client.get("/", follow_redirects=False)
    assert start.status_code == 200
    assert Page(start).h1 == "Välkommen till SIP-portalen"
    protected = client.get("/vem", follow_redirects=False)
    assert protected.status_code == 303
    assert protected.headers["location"] == "/"


# --- the control: the harness itself does not break a good login -------------------


def test_resigned_token_with_true_claims_is_accepted(client, wire, dev_key):
    wire.change_id_token = lambda token: sign(header_and_claims(token)[1], dev_key)
    response = client.get(callback_url(client), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert Page(client.get("/")).h1 == "Hej Viola!"


def test_expiry_within_the_small_leeway_is_accepted(client, wire, dev_key):
    def barely(token):
        claims = header_and_claims(token)[1]
        return sign(dict(claims, exp=int(time.time()) - 20), dev_key)

    wire.change_id_token = barely
    response = client.get(callback_url(client), follow_redirects=False)
    assert response.status_code == 303
    assert Page(client.get("/")).h1 == "Hej Viola!"


# --- state ----------------------------------------------------------------------------


def test_wrong_state_is_refused(client, wire):
    url = callback_url(client)
    query = query_of(url)
    forged = f"{BASE_URL}/auth/callback/citizen?" + urlencode(
        {"code": query["code"], "state": secrets.token_urlsafe(32)})
    response = client.get(forged, follow_redirects=False)
    assert_refused(client, response)
    assert wire.token_requests == [], "the code is never exchanged for a wrong state"
    # The real state died with the failed attempt too.
    assert_refused(client, client.get(url, follow_redirects=False))


def test_callback_without_state_is_refused(client):
    url = callback_url(client)
    response = client.get(f"{BASE_URL}/auth/callback/citizen?code={query_of(url)['code']}",
                          follow_redirects=False)
    assert_refused(client, response)


def test_state_from_another_browser_is_refused(client, wire):
    """Login CSRF: a callback URL made in the attacker's browser, opened in the victim's."""
    url = callback_url(client)
    client.cookies.clear()
    assert_refused(client, client.get(url, follow_redirects=False))
    assert wire.token_requests == []


def test_state_of_one_kind_is_not_accepted_for_the_other(client):
    url = callback_url(client)
    staff_url = url.replace("/auth/callback/citizen?", "/auth/callback/staff?")
    assert_refused(client, client.get(staff_url, follow_redirects=False))


def test_replayed_callback_is_refused_and_the_code_is_single_use(client, wire):
    url = callback_url(client)
    first = client.get(url, follow_redirects=False)
    assert first.status_code == 303
    assert Page(client.get("/")).h1 == "Hej Viola!"

    # Replayed in the same browser (back button): no second login, and the person
    # stays logged in; a stray callback link must not log anyone out either.
    second = client.get(url, follow_redirects=False)
    assert second.status_code == 303 and second.headers["location"] == "/"
    assert len(wire.token_requests) == 1, "the replay never reaches the token endpoint"
    assert Page(client.get("/")).h1 == "Hej Viola!"

    # Replayed in a browser without that login attempt: refused, no session.
    client.cookies.clear()
    third = client.get(url, follow_redirects=False)
    assert_refused(client, third)
    assert len(wire.token_requests) == 1

    # The exchange the portal made cannot be made again at the token endpoint.
    headers, body = wire.token_requests[0]
    again = client.post("/dev-idp/token", content=body, headers=headers)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


# --- the ID token ---------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _without(claims: dict, name: str) -> dict:
    return {k: v for k, v in claims.items() if k != name}


CLAIM_CHANGES: dict[str, Callable[[dict], dict]] = {
    "wrong-nonce": lambda c: dict(c, nonce=secrets.token_urlsafe(32)),
    "no-nonce": lambda c: _without(c, "nonce"),
    "expired": lambda c: dict(c, iat=_now() - 400, exp=_now() - 120),
    "no-exp": lambda c: _without(c, "exp"),
    "iat-in-future": lambda c: dict(c, iat=_now() + 3600, exp=_now() + 3900),
    "iat-long-ago": lambda c: dict(c, iat=_now() - 3600, exp=_now() + 300),
    "unknown-issuer": lambda c: dict(c, iss="https://idp.evil.example/dev-idp"),
    "issuer-not-exact": lambda c: dict(c, iss=c["iss"] + "/"),
    "aud-of-other-client": lambda c: dict(c, aud="portal-staff"),
    "aud-list-without-azp": lambda c: dict(c, aud=[c["aud"], "someone-else"]),
    "no-sub": lambda c: _without(c, "sub"),
}


@pytest.mark.parametrize("change", CLAIM_CHANGES, ids=list(CLAIM_CHANGES))
def test_id_token_with_wrong_claims_is_refused(client, wire, dev_key, change):
    wire.change_id_token = lambda token: sign(CLAIM_CHANGES[change](
        header_and_claims(token)[1]), dev_key)
    url = callback_url(client)
    response = client.get(url, follow_redirects=False)
    assert wire.token_statuses == [200]
    assert_refused(client, response)
    for secret in (query_of(url)["code"], query_of(url)["state"]):
        assert secret not in Page(response).text("body")


ACR_CHANGES: dict[str, Callable[[dict], dict]] = {
    "acr-missing": lambda c: _without(c, "acr"),
    "acr-loa2": lambda c: dict(c, acr="http://id.elegnamnden.se/loa/1.0/loa2"),
    "acr-uncertified-loa2": lambda c: dict(c, acr="http://id.swedenconnect.se/loa/1.0/uncertified-loa2"),
    "acr-eidas-low": lambda c: dict(c, acr="http://eidas.europa.eu/LoA/low"),
    "acr-not-exact": lambda c: dict(c, acr="http://id.elegnamnden.se/loa/1.0/loa3/"),
    "acr-list": lambda c: dict(c, acr=["http://id.elegnamnden.se/loa/1.0/loa3"]),
}


@pytest.mark.parametrize("change", ACR_CHANGES, ids=list(ACR_CHANGES))
def test_a_level_not_accepted_gets_a_page_saying_what_to_use(client, wire, dev_key, change):
    wire.change_id_token = lambda token: sign(ACR_CHANGES[change](
        header_and_claims(token)[1]), dev_key)
    response = client.get(callback_url(client), follow_redirects=False)
    assert_refused(client, response, message="räcker inte för SIP-portalen")
    assert "Logga in med BankID eller Freja eID+." in Page(response).text()


def test_staff_with_a_level_not_accepted_are_told_to_use_their_employers_e_id(client, wire, dev_key):
    wire.change_id_token = lambda token: sign(dict(
        header_and_claims(token)[1], acr="http://id.swedenconnect.se/loa/1.0/uncertified-loa3"), dev_key)
    response = client.get(callback_url(client, "anna", "staff"), follow_redirects=False)
    assert_refused(client, response, message="som du har fått av din arbetsgivare")


@pytest.mark.parametrize("acr", [
    "http://id.elegnamnden.se/loa/1.0/loa3",
    "http://id.swedenconnect.se/loa/1.0/uncertified-loa3",   # BankID through some brokers
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub",
    "http://eidas.europa.eu/LoA/high",
])
def test_the_default_levels_let_common_broker_values_through(client, wire, dev_key, acr):
    wire.change_id_token = lambda token: sign(dict(header_and_claims(token)[1], acr=acr), dev_key)
    response = client.get(callback_url(client), follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    assert Page(client.get("/")).h1 == "Hej Viola!"


# --- RFC 9207: the iss authorization response parameter --------------------------------


@pytest.mark.parametrize("iss", ["https://evil.example", f"{BASE_URL}/dev-idp/", "", None],
                         ids=["foreign", "trailing-slash", "empty", "missing"])
def test_callback_with_a_wrong_or_missing_iss_is_refused(client, wire, iss):
    """The development provider advertises the parameter, so it must come, and be exact."""
    url = callback_url(client)
    query = query_of(url)
    assert query["iss"] == f"{BASE_URL}/dev-idp"
    query.pop("iss")
    if iss is not None:
        query["iss"] = iss
    response = client.get(f"{BASE_URL}/auth/callback/citizen?" + urlencode(query),
                          follow_redirects=False)
    assert_refused(client, response)
    assert wire.token_requests == [], "the code is never exchanged"


def test_callback_with_a_wrong_iss_does_not_log_out_nor_log_in_as_someone_else(client, wire):
    url = callback_url(client, "johan")
    forged = url.replace("iss=", "iss=https%3A%2F%2Fevil.example&x=")
    assert_refused(client, client.get(forged, follow_redirects=False))
    assert "Johan" not in client.get("/").text


# --- samordningsnummer and names ----------------------------------------------------------


def test_samordningsnummer_in_its_own_claim_creates_the_person_with_the_birth_date(
        client, wire, dev_key, database_url):
    number = _new_swedish_number(day_offset=60)

    def as_coordination_number(token):
        claims = _without(header_and_claims(token)[1], SE_ID_CLAIM)
        claims.update({SE_COORDINATION_CLAIM: number, "sub": secrets.token_hex(16),
                       "given_name": "Samuel", "family_name": "Samordnad"})
        return sign(claims, dev_key)

    wire.change_id_token = as_coordination_number
    response = client.get(callback_url(client), follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    assert Page(client.get("/")).h1 == "Hej Samuel!"
    person = _person_with(database_url, number)
    assert person.birth_date == date(1945, 3, int(number[6:8]) - 60)
    assert person.country == "SE"


def _new_swedish_number(day_offset: int = 0) -> str:
    """A valid number nobody in the test database has (born March 1945, serial 98x)."""
    day = 1 + secrets.randbelow(28) + day_offset
    return swedish_with_check_digit(f"4503{day:02d}98{secrets.randbelow(10)}", "19")


def _person_with(database_url: str, number: str):
    async def find(db):
        return (await db.exec(select(Person).where(Person.national_id == number))).first()

    return run_db(database_url, find)


@pytest.mark.parametrize("names", [
    {"given_name": ""}, {"family_name": None}, {"given_name": "   "}, {"family_name": 42},
], ids=["empty-given", "no-family", "blank-given", "number-as-family"])
def test_a_new_person_without_both_names_is_refused_and_not_created(
        client, wire, dev_key, database_url, names):
    """The development provider has no userinfo endpoint, so nothing can fill the gap."""
    number = _new_swedish_number()

    def nameless(token):
        claims = dict(header_and_claims(token)[1], sub=secrets.token_hex(16))
        claims[SE_ID_CLAIM] = number
        for key, value in names.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return sign(claims, dev_key)

    wire.change_id_token = nameless
    response = client.get(callback_url(client), follow_redirects=False)
    assert_refused(client, response, message="Vi fick inte ditt namn")
    assert _person_with(database_url, number) is None


def test_no_national_id_claim_gets_its_own_page(client, wire, dev_key):
    wire.change_id_token = lambda token: sign(_without(header_and_claims(token)[1], SE_ID_CLAIM),
                                              dev_key)
    response = client.get(callback_url(client), follow_redirects=False)
    assert_refused(client, response, message="SIP-portalen behöver ditt personnummer")


def test_failure_page_links_do_not_carry_code_or_state(client):
    url = callback_url(client)
    forged = url.replace(f"state={query_of(url)['state']}", "state=forged")
    response = client.get(forged, follow_redirects=False)
    assert response.status_code == 400
    assert query_of(url)["code"] not in response.text


def test_flipped_signature_byte_is_refused(client, wire):
    def flip(token):
        head, payload, signature = token.split(".")
        raw = bytearray(unb64(signature))
        raw[len(raw) // 2] ^= 0x01
        return f"{head}.{payload}.{b64(bytes(raw))}"

    wire.change_id_token = flip
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))


def test_changed_payload_with_the_old_signature_is_refused(client, wire):
    """Someone swaps the national id for another person's and keeps the signature."""

    def swap(token):
        head, payload, signature = token.split(".")
        claims = json.loads(unb64(payload))
        claims[SE_ID_CLAIM] = PEOPLE["peter"][3]
        return f"{head}.{b64(json.dumps(claims).encode())}.{signature}"

    wire.change_id_token = swap
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))
    assert "Peter" not in client.get("/").text


def test_garbage_instead_of_a_token_is_refused(client, wire):
    wire.change_id_token = lambda token: "not.a.jwt"
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))


@pytest.mark.parametrize("same_kid", [False, True], ids=["own-kid", "provider-kid"])
def test_token_signed_by_an_unknown_key_is_refused(client, wire, dev_key, same_kid):
    stranger = RSAKey.generate_key(2048, private=True)
    stranger.ensure_kid()
    kid = dev_key.kid if same_kid else stranger.kid
    wire.change_id_token = lambda token: jwt.encode(
        {"alg": "RS256", "kid": kid, "typ": "JWT"}, header_and_claims(token)[1], stranger)
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))


def test_alg_none_is_refused(client, wire):
    def unsigned(token):
        claims = header_and_claims(token)[1]
        head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{head}.{b64(json.dumps(claims).encode())}."

    wire.change_id_token = unsigned
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))


@pytest.mark.parametrize("secret_form", ["pem", "jwk-json"])
def test_hs256_signed_with_the_public_key_is_refused(client, wire, dev_key, secret_form):
    if secret_form == "pem":
        secret = dev_key.as_pem(private=False)
    else:
        secret = json.dumps(dev_key.as_dict(private=False)).encode()

    def confused(token):
        claims = header_and_claims(token)[1]
        head = b64(json.dumps({"alg": "HS256", "kid": dev_key.kid, "typ": "JWT"}).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(mac)}"

    wire.change_id_token = confused
    assert_refused(client, client.get(callback_url(client), follow_redirects=False))


# --- PKCE -----------------------------------------------------------------------------


@pytest.mark.parametrize("verifier", [None, "wrong"], ids=["missing", "wrong"])
def test_portal_login_fails_when_the_verifier_is_lost_or_wrong(client, wire, verifier):
    def change(form):
        form.pop("code_verifier", None)
        if verifier:
            form["code_verifier"] = secrets.token_urlsafe(48)
        return form

    wire.change_token_request = change
    response = client.get(callback_url(client), follow_redirects=False)
    assert wire.token_statuses == [400]
    assert_refused(client, response)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge


def _authorize_params(challenge: str, **changes) -> dict:
    params = {
        "client_id": "portal-citizen", "redirect_uri": f"{BASE_URL}/auth/callback/citizen",
        "response_type": "code", "scope": "openid profile", "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16), "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def _code(client, challenge: str) -> str:
    url = f"{BASE_URL}/dev-idp/authorize?" + urlencode(_authorize_params(challenge))
    return query_of(choose_at_provider(client, url, "viola").headers["location"])["code"]


def _exchange(client, code: str, verifier: str | None, secret: str = "dev-citizen-secret"):
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": f"{BASE_URL}/auth/callback/citizen"}
    if verifier is not None:
        form["code_verifier"] = verifier
    return client.post("/dev-idp/token", data=form, auth=("portal-citizen", secret))


@pytest.mark.parametrize("sent", ["missing", "empty", "wrong", "challenge-itself"])
def test_dev_provider_token_endpoint_requires_the_right_verifier(client, sent):
    verifier, challenge = _pkce()
    code = _code(client, challenge)
    wrong = {"missing": None, "empty": "", "wrong": _pkce()[0], "challenge-itself": challenge}
    response = _exchange(client, code, wrong[sent])
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}
    assert "id_token" not in response.text
    # A failed attempt spends the code.
    assert _exchange(client, code, verifier).status_code == 400


def test_dev_provider_code_is_single_use_and_needs_the_client_secret(client):
    verifier, challenge = _pkce()
    code = _code(client, challenge)
    assert _exchange(client, code, verifier, secret="dev-staff-secret").status_code == 401

    verifier, challenge = _pkce()
    code = _code(client, challenge)
    first = _exchange(client, code, verifier)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    header, claims = header_and_claims(first.json()["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["aud"] == "portal-citizen"
    second = _exchange(client, code, verifier)
    assert second.status_code == 400
    assert second.json() == {"error": "invalid_grant"}


@pytest.mark.parametrize("changes", [
    {"code_challenge": None},
    {"code_challenge_method": None},
    {"code_challenge_method": "plain"},
    {"nonce": None},
    {"state": None},
    {"response_type": "token"},
    {"redirect_uri": "https://evil.example/callback"},
], ids=["no-challenge", "no-method", "plain", "no-nonce", "no-state", "implicit",
        "foreign-redirect"])
def test_dev_provider_authorize_refuses_requests_without_pkce_s256(client, changes):
    _, challenge = _pkce()
    response = client.get("/dev-idp/authorize", params=_authorize_params(challenge, **changes),
                          follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers
    shown = Page(response)
    assert shown.h1 == "Inloggningen kunde inte starta"
    assert not shown.select('button[name="who"]'), "no one can be chosen"


# --- accounts -------------------------------------------------------------------------


@pytest.mark.parametrize("claims", [
    {"employee_id": "SE0000000000-ZZZZ"},
    {"unit": "se-kalmar-soc"},
    {"unit": "no-such-unit"},
], ids=["unknown-employee", "other-unit", "unknown-unit"])
def test_staff_not_in_the_database_has_no_account(client, wire, dev_key, claims):
    wire.change_id_token = lambda token: sign(dict(header_and_claims(token)[1], **claims),
                                              dev_key)
    response = client.get(callback_url(client, "anna", "staff"), follow_redirects=False)
    assert_refused(client, response, message="Du har inget konto i SIP-portalen")


def test_staff_token_without_employee_id_is_refused(client, wire, dev_key):
    wire.change_id_token = lambda token: sign(_without(header_and_claims(token)[1],
                                                       "employee_id"), dev_key)
    response = client.get(callback_url(client, "anna", "staff"), follow_redirects=False)
    assert_refused(client, response)


def test_refused_login_while_logged_in_leaves_nobody_logged_in(client, wire, dev_key):
    """Viola is logged in; a refused login in her browser ends her session too."""
    assert login(client, "viola").status_code == 303
    wire.change_id_token = lambda token: sign(dict(header_and_claims(token)[1],
                                                   nonce="forged"), dev_key)
    assert_refused(client, client.get(callback_url(client, "johan"), follow_redirects=False))
