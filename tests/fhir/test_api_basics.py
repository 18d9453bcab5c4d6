"""The FHIR API's frame: OperationOutcome for every error, bearer tokens, no CSRF."""

from __future__ import annotations

from tests.fhir.helpers import bearer, mint, register
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def test_an_unknown_api_path_is_an_operation_outcome_not_a_page(client):
    response = client.get("/fhir/R4/Nothing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "not-found"


def test_a_token_is_needed_and_checked(client, database_url):
    from portal.fhir.tokens import caller_of  # noqa: F401  (the dependency under test)

    system = register(database_url, ["se-kalmar-vc"])
    token = mint(client, system, ["system/Consent.read"])
    assert token and len(token) >= 40
    response = client.get("/fhir/R4/Nothing", headers=bearer("not-a-token"))
    assert response.status_code == 404  # no route: 404 before any token check
