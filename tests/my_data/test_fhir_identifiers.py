"""The identifier systems and the id mapping, without a database."""

from __future__ import annotations

import pytest

from portal.core.ids import new_id
from portal.fhir import identifiers
from portal.fhir.mapping import fhir_id, portal_id
from portal.people.national_id import normalise_finnish, normalise_swedish


@pytest.mark.parametrize(("typed", "country", "system"), [
    ("19121212-1212", "SE", identifiers.SE_PERSONNUMMER),
    ("19121272-1219", "SE", identifiers.SE_SAMORDNINGSNUMMER),
    ("010150-902E", "FI", identifiers.FI_HETU),
])
def test_each_kind_of_national_id_has_its_system(typed, country, system):
    stored = normalise_finnish(typed) if country == "FI" else normalise_swedish(typed)
    assert identifiers.national_id_system(stored, country) == system


def test_the_systems_are_the_official_oids():
    assert identifiers.SE_PERSONNUMMER == "urn:oid:1.2.752.129.2.1.3.1"
    assert identifiers.SE_SAMORDNINGSNUMMER == "urn:oid:1.2.752.129.2.1.3.3"
    assert identifiers.FI_HETU == "urn:oid:1.2.246.21"
    assert identifiers.SE_HSA_ID == "urn:oid:1.2.752.29.4.19"
    assert identifiers.FI_SOTE_ORGANISATION_ROOT == "urn:oid:1.2.246.10"


def test_hsa_ids_are_recognised():
    assert identifiers.is_hsa_id("SE2321000016-A1B2")
    assert not identifiers.is_hsa_id("FI-OVA-1001")


def test_portal_ids_map_to_fhir_ids_and_back():
    for _ in range(200):
        value = new_id()
        assert "_" not in fhir_id(value)
        assert portal_id(fhir_id(value)) == value
