"""Logging in through an independent, standards-conformant OpenID Provider.

The provider is the Node package `oidc-provider` (pinned in package.json,
installed by `npm ci` in `make test`), configured by tests/auth/independent_op.mjs
and run as a subprocess on a free 127.0.0.1 port. The portal talks to it over
real HTTP: discovery, PKCE, client_secret_basic, an RS256 ID token, userinfo
with the access token, and the RFC 9207 `iss` response parameter, all as that
package does them, not as our development provider does.

Who logs in is chosen at the provider's interaction (`?account=`); each account
below is one case: personnummer, samordningsnummer, Finnish personbeteckning,
names only in userinfo, and the refused ones.

Without node or node_modules/oidc-provider the module is skipped (with the
reason), except in CI, where a skip would prove nothing and so it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
from datetime import date
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from sqlmodel import select

from portal.app import create_app
from portal.auth.oidc import FI_ID_CLAIM, SE_COORDINATION_CLAIM, SE_ID_CLAIM
from portal.config import OIDCClient, Settings
from portal.people.demo import PEOPLE
from portal.people.models import LoginIdentity, Person
from portal.people.national_id import finnish_with_check_character, swedish_with_check_digit
from tests.conftest import BASE_URL, ROOT, Page, query_of, run_db

OP_SCRIPT = ROOT / "tests" / "auth" / "independent_op.mjs"
CLIENT_ID = "portal-citizen"
CLIENT_SECRET = secrets.token_urlsafe(32)
SCOPE = "openid profile https://id.oidc.se/scope/naturalPersonNumber"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
SUOMI_FI_SUBSTANTIAL = "http://ftn.ficora.fi/2017/loa2"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
NAMES = ["given_name", "family_name", "name"]


def _unique_swedish(day_offset: int = 0) -> str:
    day = 1 + secrets.randbelow(28)
    return swedish_with_check_digit(f"5106{day + day_offset:02d}98{secrets.randbelow(10)}", "19")


def _unique_finnish() -> str:
    day = 1 + secrets.randbelow(28)
    return finnish_with_check_character(f"{day:02d}0761", "-", f"{900 + secrets.randbelow(100)}")


def _person(given: str, family: str) -> dict:
    return {"given_name": given, "family_name": family, "name": f"{given} {family}"}


def _accounts() -> dict[str, dict]:
    viola = PEOPLE["viola"]
    return {
        "viola-pnr": {"acr": LOA3, "claims": {**_person(viola[0], viola[1]), SE_ID_CLAIM: viola[3]}},
        "sam-coordination": {"acr": UNCERTIFIED_LOA3, "claims": {
            **_person("Samira", "Samordnad"), SE_COORDINATION_CLAIM: _unique_swedish(60)}},
        "fi-hetu": {"acr": SUOMI_FI_SUBSTANTIAL, "claims": {
            **_person("Fanny", "Finsk"), FI_ID_CLAIM: _unique_finnish()}},
        "names-in-userinfo": {"acr": LOA3, "userinfo_only": NAMES, "claims": {
            **_person("Ulla", "Userinfo"), SE_ID_CLAIM: _unique_swedish()}},
        "no-names": {"acr": LOA3, "claims": {SE_ID_CLAIM: _unique_swedish()}},
        "no-acr": {"acr": None, "claims": {**_person("Nils", "Nivålös"), SE_ID_CLAIM: _unique_swedish()}},
        "low-acr": {"acr": LOA2, "claims": {**_person("Lova", "Låg"), SE_ID_CLAIM: _unique_swedish()}},
        "wrong-iss": {"acr": LOA3, "claims": {**_person("Ivar", "Iss"), SE_ID_CLAIM: _unique_swedish()}},
    }


def _require_node() -> str:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed"
    elif not (ROOT / "node_modules" / "oidc-provider").is_dir():
        missing = "node_modules/oidc-provider is missing (run `npm ci`, as `make test` does)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the independent-provider login test cannot run in CI: {missing}")
        pytest.skip(f"the independent-provider login test needs oidc-provider: {missing}")
    return node


class Provider:
    def __init__(self, issuer: str, accounts: dict[str, dict]) -> None:
        self.issuer = issuer
        self.accounts = accounts


@pytest.fixture(scope="module")
def op():
    node = _require_node()
    accounts = _accounts()
    env = dict(os.environ, OP_ACCOUNTS=json.dumps(accounts), OP_CLIENT=json.dumps({
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "redirect_uri": f"{BASE_URL}/auth/callback/citizen"}))
    process = subprocess.Popen([node, str(OP_SCRIPT)], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    issuer: list[str] = []
    reader = threading.Thread(target=lambda: issuer.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        line = issuer[0] if issuer else ""
        if not line.startswith("listening "):
            process.kill()
            pytest.fail(f"oidc-provider did not start: {line!r} {process.stderr.read()[-2000:]}")
        yield Provider(line.split()[1], accounts)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class RecordingTransport(httpx.AsyncHTTPTransport):
    """Real HTTP to the provider, remembering which paths the portal asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


@pytest.fixture(scope="module")
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture(scope="module")
def settings(op, database_url, dev_key_file, demo_ids) -> Settings:
    return Settings(base_url=BASE_URL, database_url=database_url, session_dir=":memory:",
                    allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                    login_rate_limit=1000,
                    citizen=OIDCClient("citizen", op.issuer, CLIENT_ID, CLIENT_SECRET, scope=SCOPE))


@pytest.fixture(scope="module")
def module_client(settings, transport):
    app = create_app(settings, http_transport=transport, store=MemoryStore())
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def client(module_client, transport):
    module_client.cookies.clear()
    transport.paths.clear()
    return module_client


def callback_from_op(client: TestClient, account: str) -> str:
    """Start a citizen login at the portal, log `account` in at the provider (a browser
    of its own, so no single sign-on carries over), and return the callback URL."""
    start = client.get("/auth/login/citizen", follow_redirects=False)
    assert start.status_code == 303, start.text[:300]
    url = start.headers["location"]
    with httpx.Client(timeout=10) as browser:
        for _ in range(10):
            if "/interaction/" in url:
                url += ("&" if "?" in url else "?") + urlencode({"account": account})
            response = browser.get(url)
            assert response.status_code in (302, 303), (response.status_code, response.text[:300])
            url = urljoin(str(response.url), response.headers["location"])
            if url.startswith(f"{BASE_URL}/auth/callback/citizen"):
                return url
    raise AssertionError("the provider never sent the browser back to the portal")


def _stored(database_url: str, number: str) -> Person | None:
    async def find(db):
        return (await db.exec(select(Person).where(Person.national_id == number))).first()

    return run_db(database_url, find)


def _identities(database_url: str, issuer: str) -> int:
    async def count(db):
        return len((await db.exec(select(LoginIdentity).where(LoginIdentity.issuer == issuer))).all())

    return run_db(database_url, count)


def _logged_in_as(client: TestClient, response: httpx.Response, given: str) -> None:
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == "/"
    assert Page(client.get("/")).h1 == f"Hej {given}!"


def _refused(client: TestClient, response: httpx.Response, message: str) -> Page:
    assert response.status_code == 400, response.text[:500]
    shown = Page(response)
    assert shown.h1 == "Du är inte inloggad"
    assert message in shown.text(), shown.text()
    assert Page(client.get("/")).h1 == "Välkommen till SIP-portalen"
    return shown


def test_personnummer_logs_in_the_person_who_has_it(client, op, transport):
    response = client.get(callback_from_op(client, "viola-pnr"), follow_redirects=False)
    _logged_in_as(client, response, "Viola")
    assert "/me" not in transport.paths, "a complete ID token needs no userinfo call"


def test_samordningsnummer_from_its_own_claim_creates_the_person_born_on_the_right_day(
        client, op, database_url):
    number = op.accounts["sam-coordination"]["claims"][SE_COORDINATION_CLAIM]
    response = client.get(callback_from_op(client, "sam-coordination"), follow_redirects=False)
    _logged_in_as(client, response, "Samira")
    person = _stored(database_url, number)
    assert person.birth_date == date(1951, 6, int(number[6:8]) - 60)
    assert (person.given_name, person.family_name, person.country) == ("Samira", "Samordnad", "SE")


def test_finnish_personbeteckning_with_suomi_fi_substantial(client, op, database_url):
    number = op.accounts["fi-hetu"]["claims"][FI_ID_CLAIM]
    response = client.get(callback_from_op(client, "fi-hetu"), follow_redirects=False)
    _logged_in_as(client, response, "Fanny")
    person = _stored(database_url, number)
    assert person.country == "FI"
    assert person.birth_date == date(1961, 7, int(number[:2]))


def test_names_only_in_userinfo_are_fetched_with_the_access_token(client, op, transport, database_url):
    number = op.accounts["names-in-userinfo"]["claims"][SE_ID_CLAIM]
    response = client.get(callback_from_op(client, "names-in-userinfo"), follow_redirects=False)
    _logged_in_as(client, response, "Ulla")
    assert "/me" in transport.paths
    assert _stored(database_url, number).family_name == "Userinfo"


def test_no_names_anywhere_is_refused_and_creates_nobody(client, op, database_url):
    number = op.accounts["no-names"]["claims"][SE_ID_CLAIM]
    response = client.get(callback_from_op(client, "no-names"), follow_redirects=False)
    _refused(client, response, "Vi fick inte ditt namn")
    assert _stored(database_url, number) is None


@pytest.mark.parametrize("account", ["no-acr", "low-acr"])
def test_a_missing_or_low_level_is_refused_with_what_to_use_instead(client, op, database_url, account):
    number = op.accounts[account]["claims"][SE_ID_CLAIM]
    response = client.get(callback_from_op(client, account), follow_redirects=False)
    shown = _refused(client, response, "räcker inte för SIP-portalen")
    assert "Logga in med BankID eller Freja eID+." in shown.text()
    assert _stored(database_url, number) is None


@pytest.mark.parametrize("iss", ["https://evil.example", "drop"], ids=["foreign", "missing"])
def test_a_wrong_or_missing_iss_response_parameter_is_refused(client, op, transport, database_url, iss):
    number = op.accounts["wrong-iss"]["claims"][SE_ID_CLAIM]
    identities = _identities(database_url, op.issuer)
    url = callback_from_op(client, "wrong-iss")
    query = query_of(url)
    assert query["iss"] == op.issuer, "oidc-provider sends RFC 9207 iss"
    query.pop("iss")
    if iss != "drop":
        query["iss"] = iss
    transport.paths.clear()
    response = client.get(f"{BASE_URL}/auth/callback/citizen?{urlencode(query)}", follow_redirects=False)
    _refused(client, response, "Inloggningen gick inte att slutföra")
    assert "/token" not in transport.paths, "the code is never exchanged"
    assert _stored(database_url, number) is None
    assert _identities(database_url, op.issuer) == identities
