"""Registered staff systems for the FHIR API tests: a client row with a fresh key pair.

    system = register(database_url, ["se-kalmar-vc"], scopes=ALL)   # a new client, new key
    token = mint(client, system, ["system/Consent.read"])           # a token, as the token
                                                                     # endpoint would issue it
    client.get("/fhir/R4/Consent", params=..., headers=bearer(token))

`mint` skips the SMART assertion (tests of the publish and read routes); the token
endpoint's own tests sign real assertions with `system.key`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from joserfc.jwk import ECKey
from sqlmodel import select

from portal.fhir.clients import SCOPES, FhirClient, FhirClientUnit
from portal.fhir.tokens import issue_token
from portal.people.models import Unit
from tests.conftest import run_db

ALL = list(SCOPES)


@dataclass
class System:
    id: str  # FhirClient.id
    client_id: str  # the OAuth client_id
    key: ECKey  # its private key (ES384), kid = key.kid
    unit_ids: list[str]


def register(database_url: str, unit_codes: list[str], *, scopes: list[str] | None = None,
             name: str = "Lifecare SP", owner: str = "Region Kalmar län",
             publish_as: str = "version") -> System:
    key = ECKey.generate_key("P-384", parameters={"kid": uuid.uuid4().hex[:8], "alg": "ES384",
                                                  "use": "sig"})
    client_id = f"test-{uuid.uuid4().hex[:10]}"

    async def work(db):
        units = (await db.exec(select(Unit).where(Unit.code.in_(unit_codes)))).all()
        assert len(units) == len(unit_codes), unit_codes
        row = FhirClient(client_id=client_id, name=name, owner=owner,
                         jwks=json.dumps({"keys": [key.as_dict(private=False)]}),
                         scopes=" ".join(scopes if scopes is not None else ALL),
                         publish_as=publish_as)
        db.add(row)
        await db.flush()
        for unit in units:
            db.add(FhirClientUnit(client_id=row.id, unit_id=unit.id))
        return row.id, [unit.id for unit in units]

    row_id, unit_ids = run_db(database_url, work)
    return System(row_id, client_id, key, unit_ids)


def mint(test_client, system: System, scopes: list[str]) -> str:
    """A valid access token for `system` in the app's own store (in its event loop)."""
    store = test_client.app.state.store

    async def go():
        token, _ = await issue_token(store, FhirClient(id=system.id, client_id=system.client_id,
                                                       name="", owner="", jwks="{}", scopes=""),
                                     scopes)
        return token

    return test_client.blocking_portal.call(go)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
