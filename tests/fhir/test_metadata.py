"""Discovery and the CapabilityStatement: public, and saying exactly what is supported."""

from __future__ import annotations

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from tests.fhir.smart import TOKEN_URL
from tests.shared_app import app, client, module_client, settings  # noqa: F401


def test_smart_configuration_needs_no_token_and_names_backend_services(client):
    response = client.get("/fhir/R4/.well-known/smart-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "token_endpoint": TOKEN_URL,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["system/CarePlan.write", "system/CarePlan.read",
                             "system/Consent.read"],
        "capabilities": ["client-confidential-asymmetric"],
    }


def test_metadata_is_a_valid_capability_statement_of_exactly_what_is_supported(client):
    response = client.get("/fhir/R4/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    CapabilityStatement.model_validate(body)  # valid FHIR (R4B models, R4 elements)
    assert (body["kind"], body["fhirVersion"], body["status"]) == ("instance", "4.0.1", "active")
    rest = body["rest"][0]
    assert rest["mode"] == "server"
    assert [i["code"] for i in rest["interaction"]] == ["transaction"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert set(resources) == {"CarePlan", "Consent"}
    for resource in resources.values():
        assert [i["code"] for i in resource["interaction"]] == ["search-type"]
        assert [p["name"] for p in resource["searchParam"]] == ["patient"]
    security = rest["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = security["extension"][0]
    assert uris["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert uris["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]


def test_metadata_and_discovery_take_no_writes(client):
    # The app answers a method a path does not take like an unknown path (the frame's
    # choice), as an OperationOutcome.
    for response in (client.post("/fhir/R4/metadata"), client.get("/fhir/R4/token"),
                     client.post("/fhir/R4/.well-known/smart-configuration")):
        assert response.status_code in (404, 405)
        assert response.json()["resourceType"] == "OperationOutcome"
