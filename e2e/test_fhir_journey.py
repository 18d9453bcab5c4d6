"""A staff system feeds the portal over the FHIR API, and Viola reads the result (issue 13).

Its own server (the other journeys' plans stay as they are): migrated, the demo people
only. A staff system is registered with the real command (`portal fhir-client add`,
its public JWKS in a file), gets a token through SMART Backend Services (a signed
private_key_jwt assertion, the real token endpoint), is refused before Viola's consent,
and after Viola has given it in the browser: publishes her plan as a transaction
Bundle, reads her consent and reads the plan back. Viola then sees the plan with
where it came from, and the staff system in her access log, on a phone in both
language variants (axe clean, screenshots).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from conftest import check_both, open_menu
from joserfc import jwt
from joserfc.jwk import ECKey
from playwright.sync_api import Page, expect
from test_consent_journeys import VC, expect_receipt, log_in, open_consent, tick_exactly

from portal.fhir import identifiers
from portal.people.demo import PEOPLE
from tests.fhir.plan_bundles import ANNA, FHIR, LOCAL, VC_HSA, body, plan_bundle
from tests.processes import Server, run_command, start_portal

CLIENT_ID = "lifecare-kalmar"
SCOPES = "system/CarePlan.write system/CarePlan.read system/Consent.read"
VIOLA_NUMBER = PEOPLE["viola"][3]
IMPORTANT = "Att få bo kvar hemma med min katt."


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_portal(tmp_path_factory.mktemp("portal-fhir"), ["--people-only"])


@pytest.fixture(scope="module")
def staff_system(fhir_server: Server, tmp_path_factory: pytest.TempPathFactory) -> ECKey:
    """Lifecare SP at Region Kalmar län, acting for Kalmar vårdcentral: registered with
    the command, as an operator would. Returns its private key."""
    key = ECKey.generate_key("P-384", parameters={"kid": "lifecare-1", "alg": "ES384", "use": "sig"})
    jwks = tmp_path_factory.mktemp("jwks") / "lifecare.jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    run_command(["fhir-client", "add", "--client-id", CLIENT_ID, "--name", "Lifecare SP",
                 "--owner", "Region Kalmar län", "--unit", VC_HSA, "--jwks", str(jwks),
                 "--scopes", SCOPES], fhir_server.env)
    return key


def access_token(server: Server, key: ECKey) -> str:
    """SMART Backend Services: discovery, then client_credentials with a signed assertion."""
    api = f"{server.url}/fhir/R4"
    discovery = httpx.get(f"{api}/.well-known/smart-configuration").json()
    assert "private_key_jwt" in discovery["token_endpoint_auth_methods_supported"]
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES384", "kid": key.kid, "typ": "JWT"},
                           {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": discovery["token_endpoint"],
                            "iat": now, "exp": now + 240, "jti": uuid.uuid4().hex}, key,
                           algorithms=["ES384"])
    response = httpx.post(discovery["token_endpoint"], data={
        "grant_type": "client_credentials", "scope": SCOPES,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"].lower() == "bearer"
    return response.json()["access_token"]


def search(server: Server, token: str, resource: str) -> httpx.Response:
    """A search by POST [type]/_search: Viola's personnummer in the body, not the URL."""
    patient = f"{identifiers.SE_PERSONNUMMER}|{VIOLA_NUMBER}"
    return httpx.post(f"{server.url}/fhir/R4/{resource}/_search", data={"patient": patient},
                      headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def base_url(fhir_server: Server) -> str:
    """This module's pages (conftest's `phone`) open on its own server."""
    return fhir_server.url


def test_a_staff_system_publishes_violas_plan_and_she_sees_where_it_came_from(
        fhir_server: Server, staff_system: ECKey, phone: Page) -> None:
    server, page = fhir_server, phone
    token = access_token(server, staff_system)
    # The portal's own code systems (plan-category#sip …) live under its public address.
    bundle = json.loads(json.dumps(plan_bundle(
        VIOLA_NUMBER, author=ANNA, performer=VC_HSA, important=IMPORTANT, identifier="LC-VIOLA-1",
    )).replace(LOCAL, f"{server.url}/fhir"))
    api = f"{server.url}/fhir/R4"
    headers = {"Authorization": f"Bearer {token}", **FHIR}

    # Before Viola has consented: the unit learns nothing, and can publish nothing.
    refused = httpx.post(api, content=body(bundle), headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert search(server, token, "CarePlan").status_code == 403

    # Viola consents to Kalmar vårdcentral in the browser.
    log_in(page, "Viola Andersson")
    open_consent(page)
    tick_exactly(page, [VC], proposed=[VC])
    page.get_by_role("button", name="Ja, jag samtycker").click()
    expect_receipt(page, "Klart. Ditt samtycke är sparat.", [VC])

    # The staff system publishes her plan; the same bundle again makes no second version.
    published = httpx.post(api, content=body(bundle), headers=headers)
    assert published.status_code == 201, published.text
    assert published.json()["type"] == "transaction-response"
    again = httpx.post(api, content=body(bundle), headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["entry"][0]["response"]["location"] == \
        published.json()["entry"][0]["response"]["location"]

    # It reads her consent for its unit, and the plan back.
    consent = search(server, token, "Consent")
    assert consent.status_code == 200, consent.text
    [entry] = consent.json()["entry"]
    assert entry["resource"]["status"] == "active"
    assert entry["resource"]["provision"]["actor"][0]["reference"]["identifier"]["value"] == VC_HSA
    plan = search(server, token, "CarePlan")
    assert plan.status_code == 200, plan.text
    resources = [e["resource"] for e in plan.json()["entry"]]
    [care_plan] = [r for r in resources if r["resourceType"] == "CarePlan"]
    assert care_plan["status"] == "active"
    assert IMPORTANT in json.dumps(resources, ensure_ascii=False)

    # Viola reads the plan, and where it came from.
    open_menu(page).get_by_role("link", name="Din plan", exact=True).click()
    expect(page).to_have_url(re.compile(r"/plan$"))
    expect(page.get_by_text(IMPORTANT)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Från Lifecare SP, Region Kalmar län, \d{1,2} \w+ \d{4}"))
           ).to_be_visible()
    check_both(page, "fhir-plan-from-lifecare")

    # Her access log names the system and what it did.
    page.goto("/logg")
    by_system = page.get_by_role("main").get_by_role("listitem").filter(
        has_text="Lifecare SP (Region Kalmar län)")
    for what in ("Hämtade planen till sitt system.", "Hämtade svaret om samtycke till sitt system.",
                 "Publicerade en ny version av planen."):
        expect(by_system.filter(has_text=what)).to_have_count(1)
    check_both(page, "fhir-access-log")
