"""Who an API call is about, and whether the calling unit may know: persons by identifier.

Persons are named by identifier only (FHIR token `system|value`, or an Identifier
`{system, value}`), never by the portal's ids, in the official systems of
`portal.fhir.identifiers`: personnummer and samordningsnummer (value ÅÅÅÅMMDDNNNN; ten
digits or a hyphen are accepted too), HETU (DDMMÅÅCNNNX).

    system, value = parse_token("urn:oid:1.2.752.129.2.1.3.1|191212121212")  # FhirError 400
    person = await find_person(db, system, value)                # None when not known here
    units = await consented_units(db, person, caller, today)     # the caller's units with consent
    person, units = await person_with_consent(db, system, value, caller, today)  # FhirError 403

An unknown person and a person who has not consented to any of the caller's units get
the same 403: a unit without consent does not learn whether someone uses the portal
(and so has coordinated care). Consent is the person's current state per unit
(portal.consent.services.current: the latest decision, every guardian, today
in the person's zone).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.consent.services import current
from portal.fhir import identifiers
from portal.fhir.outcome import FhirError
from portal.fhir.tokens import Caller
from portal.people.models import Person
from portal.people.national_id import NationalIdError, normalise_finnish, normalise_swedish

NO_CONSENT = ("The person has not consented to sharing with the calling unit, "
              "or is not known here.")
_COUNTRY = {identifiers.SE_PERSONNUMMER: "SE", identifiers.SE_SAMORDNINGSNUMMER: "SE",
            identifiers.FI_HETU: "FI"}


def parse_token(token: str | None, parameter: str = "patient") -> tuple[str, str]:
    """A FHIR token search value `system|value` -> (system, value). FhirError 400 when it
    is missing, has no system, or the system is not a national id system."""
    if not token or "|" not in token:
        raise FhirError(400, "required", f"Give {parameter} as system|value, e.g. "
                        f"{identifiers.SE_PERSONNUMMER}|191212121212.", [parameter])
    system, value = token.split("|", 1)
    if system not in identifiers.NATIONAL_ID_SYSTEMS:
        raise FhirError(400, "value", f"{parameter}: the system must be one of "
                        + ", ".join(sorted(identifiers.NATIONAL_ID_SYSTEMS)) + ".", [parameter])
    return system, value


def normalised(system: str, value: str) -> tuple[str, str] | None:
    """(stored national id, country), or None when the value is not valid in `system`."""
    country = _COUNTRY.get(system)
    if country is None:
        return None
    try:
        number = normalise_finnish(value) if country == "FI" else normalise_swedish(value)
    except NationalIdError:
        return None
    if (country == "SE"
            and identifiers.national_id_system(number, country) != system):
        return None  # a personnummer sent as a samordningsnummer, or the other way round
    return number, country


async def find_person(db: AsyncSession, system: str, value: str) -> Person | None:
    """The person with this identifier (one indexed statement), or None. FhirError 400
    when the value is not a valid number in its system."""
    found = normalised(system, value)
    if found is None:
        raise FhirError(400, "value", "The identifier's value is not a valid number in its system.")
    number, country = found
    return (await db.exec(select(Person).where(Person.national_id == number,
                                               Person.country == country))).first()


async def consented_units(db: AsyncSession, person: Person, caller: Caller, today: date) -> set[str]:
    """The ids of the caller's units the person has consented to, now: the state of every
    unit derived once (portal.consent.services.current, two statements), whatever the
    number of the caller's units."""
    states = (await current(db, person, today)).states
    return {unit.id for unit in caller.units if unit.id in states and states[unit.id].active}


async def person_with_consent(db: AsyncSession, system: str, value: str, caller: Caller,
                              today: date) -> tuple[Person, set[str]]:
    """The person and the caller's units with their consent; FhirError 403 (NO_CONSENT)
    when the person is unknown or has consented to none of them."""
    person = await find_person(db, system, value)
    units = await consented_units(db, person, caller, today) if person is not None else set()
    if person is None or not units:
        raise FhirError(403, "forbidden", NO_CONSENT)
    return person, units
