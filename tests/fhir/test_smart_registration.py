"""Registering staff systems: `python -m portal fhir-client add|list|deactivate`, and the
JWKS check (public keys only)."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey, RSAKey
from sqlmodel import select

from portal.fhir.assertion import JwksRefused, public_jwks
from portal.fhir.clients import FhirClient, FhirClientUnit
from portal.fhir.registration import RegistrationError, add_client
from portal.people.demo import EXTERNAL_IDS
from tests.conftest import run_db
from tests.fhir.smart import get_token, request_token
from tests.processes import portal_env, run_command
from tests.shared_app import app, client, module_client, settings  # noqa: F401

KALMAR_VC = EXTERNAL_IDS["se-kalmar-vc"]


def _key(kid: str = "k1") -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": kid, "alg": "ES384"})


def _jwks(*keys, private: bool = False) -> str:
    return json.dumps({"keys": [key.as_dict(private=private) for key in keys]})


def test_the_command_registers_lists_and_deactivates_a_client_that_then_gets_tokens(
        client, database_url, tmp_path):
    from tests.fhir.helpers import System

    key = _key()
    (tmp_path / "jwks.json").write_text(_jwks(key))
    env = portal_env(tmp_path, port=0, database_url=database_url)
    out = run_command(["fhir-client", "add", "--client-id", "lifecare-kalmar-cli",
                       "--name", "Lifecare SP", "--owner", "Region Kalmar län",
                       "--unit", KALMAR_VC, "--unit", EXTERNAL_IDS["se-kalmar-soc"],
                       "--jwks", str(tmp_path / "jwks.json"),
                       "--scopes", "system/CarePlan.write system/Consent.read",
                       "--publish-as", "draft"], env)
    assert "registered lifecare-kalmar-cli" in out

    async def stored(db):
        row = (await db.exec(select(FhirClient)
                             .where(FhirClient.client_id == "lifecare-kalmar-cli"))).one()
        units = (await db.exec(select(FhirClientUnit)
                               .where(FhirClientUnit.client_id == row.id))).all()
        return row, len(units)

    row, units = run_db(database_url, stored)
    assert (row.name, row.owner, row.publish_as, row.active, units) == (
        "Lifecare SP", "Region Kalmar län", "draft", True, 2)
    assert "d" not in json.loads(row.jwks)["keys"][0]

    system = System(row.id, row.client_id, key, [])
    assert get_token(client, system, ["system/Consent.read"])

    listing = run_command(["fhir-client", "list"], env)
    assert any(line.startswith("lifecare-kalmar-cli\tactive") and KALMAR_VC in line
               for line in listing.splitlines())
    assert "deactivated" in run_command(["fhir-client", "deactivate", "--client-id",
                                         "lifecare-kalmar-cli"], env)
    assert "lifecare-kalmar-cli\tinactive" in run_command(["fhir-client", "list"], env)
    assert request_token(client, system, ["system/Consent.read"]).status_code == 401


def test_the_command_refuses_a_private_key_and_says_why(database_url, demo_ids, tmp_path):
    import subprocess
    import sys

    from tests.processes import ROOT

    (tmp_path / "jwks.json").write_text(_jwks(_key(), private=True))
    env = portal_env(tmp_path, port=0, database_url=database_url)
    result = subprocess.run([sys.executable, "-m", "portal", "fhir-client", "add",
                             "--client-id", "leaky", "--name", "X", "--owner", "Y",
                             "--unit", KALMAR_VC, "--jwks", str(tmp_path / "jwks.json"),
                             "--scopes", "system/Consent.read"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "private key material" in result.stderr


@pytest.mark.parametrize("jwks, reason", [
    ("not json", "not JSON"),
    ('{"keys": []}', "non-empty"),
    (_jwks(_key(), private=True), "private key material"),
    (json.dumps({"keys": [RSAKey.generate_key(2048).as_dict(private=False)]}), "kid"),
    (_jwks(_key("same"), _key("same")), "kid"),
    (json.dumps({"keys": [ECKey.generate_key("P-256", parameters={"kid": "a"})
                          .as_dict(private=False)]}), "P-384"),
    (json.dumps({"keys": [{**_key().as_dict(private=False), "alg": "HS256"}]}), "alg"),
    (json.dumps({"keys": [{"kty": "oct", "kid": "a", "k": "c2VjcmV0"}]}), "private key"),
    (json.dumps({"keys": [RSAKey.generate_key(1024, parameters={"kid": "r"}, private=True)
                          .as_dict(private=False)]}), "2048"),
])
def test_a_jwks_with_private_parts_or_weak_or_unknown_keys_is_refused(jwks, reason):
    with pytest.raises(JwksRefused, match=reason):
        public_jwks(jwks)


def test_a_public_jwks_is_kept_with_public_members_only():
    key = _key()
    kept = json.loads(public_jwks(_jwks(key)))
    assert kept == {"keys": [key.as_dict(private=False)]}


@pytest.mark.parametrize("change, reason", [
    ({"unit_external_ids": ["SE0000000000-NONE"]}, "No unit"),
    ({"unit_external_ids": []}, "at least one unit"),
    ({"scopes": ["system/*.*"]}, "Scopes"),
    ({"scopes": []}, "Scopes"),
    ({"publish_as": "live"}, "publish-as"),
    ({"client_id": "has space"}, "client_id"),
    ({"name": " "}, "name"),
])
def test_add_client_refuses_what_it_cannot_register(database_url, demo_ids, change, reason):
    arguments = {"client_id": "refused-client", "name": "Lifecare SP", "owner": "Region",
                 "unit_external_ids": [KALMAR_VC], "jwks": _jwks(_key()),
                 "scopes": ["system/Consent.read"], **change}
    with pytest.raises(RegistrationError, match=reason):
        run_db(database_url, lambda db: add_client(db, **arguments))


def test_a_client_id_is_registered_once(database_url, demo_ids):
    arguments = {"client_id": "only-once", "name": "Cosmic", "owner": "Region",
                 "unit_external_ids": [KALMAR_VC], "jwks": _jwks(_key()),
                 "scopes": ["system/Consent.read"]}
    run_db(database_url, lambda db: add_client(db, **arguments))
    with pytest.raises(RegistrationError, match="already registered"):
        run_db(database_url, lambda db: add_client(db, **arguments))
