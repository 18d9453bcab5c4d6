"""The official identifier systems, in one place (the data export uses them; issue 13 too).

Each is an ISO OID in FHIR's `urn:oid:` form, for `Identifier.system`. Checked against:

- Swedish personnummer 1.2.752.129.2.1.3.1 and samordningsnummer 1.2.752.129.2.1.3.3:
  the RIVTA best-practice PersonIdType (Inera,
  https://bitbucket.org/rivta-domains/best-practice/wiki/PersonIdType), value
  ÅÅÅÅMMDDNNNN (12 digits, no hyphen; a samordningsnummer keeps its day plus 60).
- Finnish personbeteckning (henkilötunnus, HETU) 1.2.246.21: HL7 Finland, Finnish Base
  Profiles, FI Base Patient ("The oid for the official PIC is 1.2.246.21",
  https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/fi-base-patient), value
  DDMMÅÅCNNNX.
- Swedish HSA-id 1.2.752.29.4.19: HL7 Sweden, Swedish Base Profiles, SEBaseOrganization
  and its example Organization (http://hl7.se/fhir/ig/base/StructureDefinition/
  SEBaseOrganization; identifier system urn:oid:1.2.752.29.4.19, value
  SE2321000131-P000000123457). The same HSA-id system names staff (Practitioner).
- Finnish organisation register (SOTE-organisaatiorekisteri, THL): organisations and their
  units have OIDs under 1.2.246.10 (1.2.246.10.<y-tunnus>.10.<n>); Finnish Base Profiles'
  example Organization carries one as the value of an identifier whose system is the
  register's code system 1.2.246.537.6.202.2008
  (https://build.fhir.org/ig/fhir-fi/finnish-base-profiles/Organization-1.2.246.10.2085212.10.1306.html).
"""

from __future__ import annotations

SE_PERSONNUMMER = "urn:oid:1.2.752.129.2.1.3.1"
SE_SAMORDNINGSNUMMER = "urn:oid:1.2.752.129.2.1.3.3"
FI_HETU = "urn:oid:1.2.246.21"
SE_HSA_ID = "urn:oid:1.2.752.29.4.19"
FI_SOTE_ORGANISATION_ROOT = "urn:oid:1.2.246.10"
# The code system of the SOTE-organisaatiorekisteri: the system when the value is a unit's OID.
FI_SOTE_ORGANISATION_REGISTER = "urn:oid:1.2.246.537.6.202.2008"

NATIONAL_ID_SYSTEMS = frozenset({SE_PERSONNUMMER, SE_SAMORDNINGSNUMMER, FI_HETU})


def national_id_system(national_id: str, country: str) -> str:
    """The system for a stored (normalised) national id: HETU for Finland; for Sweden a
    samordningsnummer (day plus 60) or a personnummer."""
    from portal.people.national_id import is_coordination_number

    if country == "FI":
        return FI_HETU
    return SE_SAMORDNINGSNUMMER if is_coordination_number(national_id, country) else SE_PERSONNUMMER


def is_hsa_id(value: str) -> bool:
    """An HSA-id: a country code SE, the organisation number and a local part
    (e.g. SE2321000016-A1B2); staff of Swedish units carry one as employee id."""
    return value.startswith("SE") and "-" in value and value[2:12].isdigit()


def unit_system(country: str) -> str:
    """The system of a unit's `external_id` (portal.people.models.Unit): HSA-id for "SE",
    the SOTE organisation register for "FI"."""
    return SE_HSA_ID if country == "SE" else FI_SOTE_ORGANISATION_REGISTER
