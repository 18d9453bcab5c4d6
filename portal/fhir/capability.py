"""What the FHIR API supports, as a CapabilityStatement (`GET /fhir/R4/metadata`) and as
SMART Backend Services discovery (`GET /fhir/R4/.well-known/smart-configuration`).

Both say exactly what the routes do, no more (FHIR R4 CapabilityStatement,
http://hl7.org/fhir/R4/capabilitystatement.html; SMART App Launch 2.x, "Conformance"
and "Backend Services"):

- CarePlan: search by patient (the current published plan; system/CarePlan.read), and
  a transaction Bundle with a CarePlan sent to the base URL (system/CarePlan.write);
- Consent: search by patient (the consent for the calling unit; system/Consent.read);
- security: SMART-on-FHIR, with the token endpoint in the oauth-uris extension.

    capability_statement(base_url, now)  -> dict (JSON, validated by fhir.resources R4B)
    smart_configuration(base_url)        -> dict (JSON)
"""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from portal.fhir import identifiers
from portal.fhir.assertion import ALGORITHMS
from portal.fhir.clients import SCOPES
from portal.fhir.outcome import BASE_PATH, FHIR_JSON

TOKEN_PATH = BASE_PATH + "/token"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"

_PATIENT_DOCUMENTATION = (
    "The person, by an official identifier as system|value: Swedish personnummer ("
    f"{identifiers.SE_PERSONNUMMER}) or samordningsnummer ({identifiers.SE_SAMORDNINGSNUMMER}), "
    f"Finnish personal identity code ({identifiers.FI_HETU}).")


def token_url(base_url: str) -> str:
    """The token endpoint's absolute URL: the `aud` every client assertion must carry."""
    return base_url.rstrip("/") + TOKEN_PATH


def _patient_search(resource: str, documentation: str) -> dict:
    return {
        "type": resource,
        "interaction": [{"code": "search-type", "documentation": documentation}],
        "searchParam": [{"name": "patient", "type": "reference",
                         "definition": "http://hl7.org/fhir/SearchParameter/clinical-patient",
                         "documentation": _PATIENT_DOCUMENTATION}],
    }


def capability_statement(base_url: str, now: datetime) -> dict:
    """The server's CapabilityStatement (kind "instance", FHIR 4.0.1, JSON only) for the
    API at `base_url` + /fhir/R4; `now` (aware) is its date. Returns the JSON object as
    validated by fhir.resources (a ValidationError means a bug here)."""
    api = base_url.rstrip("/") + BASE_PATH
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.isoformat(timespec="seconds"),
        "publisher": "SIP-portalen",
        "kind": "instance",
        "software": {"name": "SIP-portalen"},
        "implementation": {"description": "SIP-portalen FHIR API for staff systems",
                           "url": api},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Staff systems publish a person's coordinated individual plan "
                             "(SIP) and read the person's consent for their unit.",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}],
                             "text": "SMART Backend Services (private_key_jwt, "
                                     "client_credentials)"}],
                "extension": [{"url": OAUTH_URIS,
                               "extension": [{"url": "token", "valueUri": token_url(base_url)}]}],
                "description": "OAuth 2.0 client credentials with a signed JWT client "
                               "assertion (SMART Backend Services). Scopes: "
                               + ", ".join(SCOPES) + ".",
            },
            "resource": [
                _patient_search("CarePlan", "The person's current published plan, for a unit "
                                "the person has consented to (system/CarePlan.read)."),
                _patient_search("Consent", "The person's consent for the calling unit "
                                "(system/Consent.read)."),
            ],
            "interaction": [{"code": "transaction",
                             "documentation": "POST a Bundle of type transaction with one "
                                              "CarePlan, its Goals, CareTeam and performers: "
                                              "a new version or draft of the person's plan "
                                              "(system/CarePlan.write)."}],
        }],
    }
    return CapabilityStatement.model_validate(statement).model_dump(mode="json", exclude_none=True)


def smart_configuration(base_url: str) -> dict:
    """SMART discovery for Backend Services (the members SMART App Launch 2.x requires
    of a server that offers only client-confidential-asymmetric clients)."""
    return {
        "token_endpoint": token_url(base_url),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": list(SCOPES),
        "capabilities": ["client-confidential-asymmetric"],
    }
