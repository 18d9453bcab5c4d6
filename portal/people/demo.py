"""Demo people, units and representations for Sweden and Finland.

Swedish numbers are built with a valid Luhn check digit in the 98xx serial
range; Finnish ones use individual numbers 900-999, which are reserved for
testing and never issued. Loading is idempotent.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import SYSTEM, record
from portal.consent.models import CareRelation
from portal.people.models import Person, Representation, StaffMember, Unit
from portal.people.national_id import finnish_with_check_character, swedish_with_check_digit
from portal.people.representation import ALL_SCOPES

UNITS = [
    # code, name, organisation, kind, country, description, phone
    ("se-kalmar-vc", "Kalmar vårdcentral", "Region Kalmar län", "primary_care", "SE",
     "Din läkare och sjuksköterska.", "0480-123 45"),
    ("se-kalmar-soc", "Socialtjänsten i Kalmar kommun", "Kalmar kommun", "social_services", "SE",
     "Hjälper dig med stöd i vardagen.", "0480-450 00"),
    ("se-lsk-avd12", "Avdelning 12, Länssjukhuset Kalmar", "Region Kalmar län", "hospital_ward",
     "SE", "Där du var inlagd på sjukhuset.", "0480-810 12"),
    ("se-kalmar-hab", "Barn- och ungdomshabiliteringen Kalmar", "Region Kalmar län",
     "habilitation", "SE", "Stöd till barn med funktionsnedsättning och deras familjer.",
     "0480-842 00"),
    ("fi-vasa-hs", "Hälsostationen i Vasa", "Österbottens välfärdsområde", "primary_care", "FI",
     "Din läkare och sjukskötare.", "06 218 1111"),
    ("fi-vasa-soc", "Socialvården i Vasa", "Österbottens välfärdsområde", "social_services", "FI",
     "Hjälper dig med stöd i vardagen.", "06 218 2222"),
    ("fi-vcs-avd3", "Avdelning 3, Vasa centralsjukhus", "Österbottens välfärdsområde",
     "hospital_ward", "FI", "Där du var inlagd på sjukhuset.", "06 213 1333"),
]

# The units' national identifiers (portal.fhir.identifiers), made up but well formed: an
# HSA-id for a Swedish unit (SE + organisation number + local part), an OID of the Finnish
# organisation register (1.2.246.10.<business id without hyphen>.10.<n>) for a Finnish one.
EXTERNAL_IDS = {
    "se-kalmar-vc": "SE2321000016-1A2B",
    "se-kalmar-soc": "SE2120000829-3C4D",
    "se-lsk-avd12": "SE2321000016-5E6F",
    "se-kalmar-hab": "SE2321000016-7G8H",
    "fi-vasa-hs": "1.2.246.10.32162830.10.1",
    "fi-vasa-soc": "1.2.246.10.32162830.10.2",
    "fi-vcs-avd3": "1.2.246.10.32162830.10.3",
}

# Visiting addresses (besöksadress), made up but plausible: Kalmar and Vasa.
ADDRESSES = {
    "se-kalmar-vc": "Lasarettsvägen 8, 392 44 Kalmar",
    "se-kalmar-soc": "Storgatan 14, 392 32 Kalmar",
    "se-lsk-avd12": "Lasarettsvägen 1, 392 44 Kalmar",
    "se-kalmar-hab": "Stensbergsvägen 6, 392 37 Kalmar",
    "fi-vasa-hs": "Sandögatan 2, 65100 Vasa",
    "fi-vasa-soc": "Kyrkoesplanaden 10, 65100 Vasa",
    "fi-vcs-avd3": "Sandviksgatan 2, 65130 Vasa",
}

SE = "SE"
FI = "FI"

# key: (given, family, birth date, national id, country, email)
PEOPLE = {
    "peter": ("Peter", "Lind", date(1971, 3, 8), swedish_with_check_digit("710308983", "19"), SE, None),
    "karin": ("Karin", "Holm", date(1964, 9, 21), swedish_with_check_digit("640921984", "19"), SE,
              "karin.holm@example.se"),
    "viola": ("Viola", "Andersson", date(1948, 5, 14), swedish_with_check_digit("480514982", "19"), SE,
              "viola.andersson@example.se"),
    "gosta": ("Gösta", "Andersson", date(1946, 1, 30), swedish_with_check_digit("460130981", "19"), SE, None),
    "johan": ("Johan", "Andersson", date(1975, 11, 2), swedish_with_check_digit("751102985", "19"), SE,
              "johan.andersson@example.com"),
    "svea": ("Svea", "Karlsson", date(1952, 7, 7), swedish_with_check_digit("520707982", "19"), SE, None),
    "ylva": ("Ylva", "Hassan", date(2022, 4, 2), swedish_with_check_digit("220402986", "20"), SE, None),
    "amina": ("Amina", "Hassan", date(1990, 2, 11), swedish_with_check_digit("900211988", "19"), SE,
              "amina.hassan@example.se"),
    "yusuf": ("Yusuf", "Hassan", date(1986, 12, 24), swedish_with_check_digit("861224987", "19"), SE,
              "yusuf.hassan@example.se"),
    "elsa": ("Elsa", "Holmström", date(1946, 2, 14), finnish_with_check_character("140246", "-", "902"), FI,
             "elsa.holmstrom@example.fi"),
    "annika": ("Annika", "Holmström", date(1972, 8, 5), finnish_with_check_character("050872", "-", "934"),
               FI, "annika.holmstrom@example.fi"),
    "bertil": ("Bertil", "Sjöberg", date(1968, 10, 1), finnish_with_check_character("011068", "-", "915"),
               FI, None),
    "marina": ("Marina", "Lindqvist", date(1979, 3, 3), finnish_with_check_character("030379", "-", "946"),
               FI, "marina.lindqvist@example.fi"),
    "wilma": ("Wilma", "Nyberg", date(2020, 6, 9), finnish_with_check_character("090620", "A", "958"), FI,
              None),
    "sofia": ("Sofia", "Nyberg", date(1988, 4, 17), finnish_with_check_character("170488", "-", "962"), FI,
              "sofia.nyberg@example.fi"),
    "mikael": ("Mikael", "Nyberg", date(1985, 1, 28), finnish_with_check_character("280185", "-", "971"),
               FI, "mikael.nyberg@example.fi"),
    "sara": ("Sara", "Lund", date(1989, 6, 12), swedish_with_check_digit("890612983", "19"), SE,
             "sara.lund@example.se"),
    "erik": ("Erik", "Dahl", date(1958, 2, 20), swedish_with_check_digit("580220981", "19"), SE,
             "erik.dahl@example.se"),
}

# Skyddade personuppgifter: Sara has protected personal data. Her god man Erik acts for
# her, but neither he nor any notice or calendar file learns where she can be found.
PROTECTED = frozenset({"sara"})

# representative, represented, kind, scope, valid from, valid to, source
REPRESENTATIONS = [
    ("karin", "peter", "legal_representative", "consent requests messages plan:read",
     date(2025, 2, 1), None, "court"),
    ("gosta", "viola", "proxy", "plan:read messages", date(2026, 1, 15), None, "person"),
    ("johan", "viola", "proxy", ALL_SCOPES, date(2026, 1, 15), None, "person"),
    ("svea", "viola", "proxy", "plan:read", date(2025, 5, 1), date(2026, 6, 30), "person"),
    ("amina", "ylva", "guardian", ALL_SCOPES, date(2022, 4, 2), None, "population_register"),
    ("yusuf", "ylva", "guardian", ALL_SCOPES, date(2022, 4, 2), None, "population_register"),
    ("annika", "elsa", "proxy", ALL_SCOPES, date(2025, 9, 1), date(2030, 8, 31), "suomi_fi"),
    ("marina", "bertil", "legal_representative", "consent requests messages plan:read",
     date(2024, 11, 1), None, "court"),
    ("sofia", "wilma", "guardian", ALL_SCOPES, date(2020, 6, 9), None, "population_register"),
    ("mikael", "wilma", "guardian", ALL_SCOPES, date(2020, 6, 9), None, "population_register"),
    ("erik", "sara", "legal_representative", "consent requests messages plan:read",
     date(2025, 3, 1), None, "court"),
]
# What the court appointed, where the demo says (representation key -> appointment).
APPOINTMENTS = {("erik", "sara"): "god_man"}

# employee id, given, family, title, unit code, email, phone
STAFF = [
    ("SE2321000016-A1B2", "Anna", "Berg", "Sjuksköterska", "se-kalmar-vc", "anna.berg@example.se",
     "0480-123 46"),
    ("SE2120000829-C3D4", "Maria", "Ek", "Biståndshandläggare", "se-kalmar-soc",
     "maria.ek@example.se", "0480-450 12"),
    ("SE2321000016-E5F6", "Lars", "Öberg", "Sjuksköterska", "se-lsk-avd12", "lars.oberg@example.se",
     "0480-810 13"),
    ("FI-OVA-1001", "Johanna", "Lindholm", "Sjukskötare", "fi-vasa-hs",
     "johanna.lindholm@example.fi", "06 218 1112"),
    ("FI-OVA-2002", "Peter", "Backman", "Socialhandledare", "fi-vasa-soc",
     "peter.backman@example.fi", "06 218 2223"),
    ("FI-OVA-3003", "Hanna", "Ek", "Sjukskötare", "fi-vcs-avd3", "hanna.ek@example.fi",
     "06 213 1334"),
]


# Which units work with whom (the actors proposed in each person's coordination).
CARE_RELATIONS = {
    "peter": ["se-kalmar-vc", "se-kalmar-soc"],
    "viola": ["se-kalmar-vc", "se-kalmar-soc", "se-lsk-avd12"],
    "ylva": ["se-kalmar-vc", "se-kalmar-soc", "se-kalmar-hab"],
    "elsa": ["fi-vasa-hs", "fi-vasa-soc", "fi-vcs-avd3"],
    "bertil": ["fi-vasa-hs", "fi-vasa-soc"],
    "wilma": ["fi-vasa-hs", "fi-vasa-soc"],
    "sara": ["se-kalmar-vc", "se-kalmar-soc"],
}


async def load_demo(db: AsyncSession, stories: bool = True) -> dict[str, str]:
    """Insert what is missing; return demo key -> opaque person id.

    With `stories`, also tell each person's story once (portal.people.stories):
    consent, plans and follow-ups, through the app's own services."""
    units: dict[str, Unit] = {}
    for code, name, org, kind, country, description, phone in UNITS:
        unit = (await db.exec(select(Unit).where(Unit.code == code))).first()
        if unit is None:
            unit = Unit(code=code, name=name, organisation=org, kind=kind, country=country,
                        description=description, phone=phone)
            db.add(unit)
        if unit.address is None:  # also for a database loaded before units had addresses
            unit.address = ADDRESSES.get(code)
        if unit.external_id is None:  # also for a database loaded before units had them
            unit.external_id = EXTERNAL_IDS.get(code)
        units[code] = unit
    people: dict[str, Person] = {}
    for key, (given, family, born, number, country, email) in PEOPLE.items():
        person = (await db.exec(select(Person).where(Person.national_id == number))).first()
        if person is None:
            person = Person(national_id=number, given_name=given, family_name=family,
                            birth_date=born, country=country, email=email,
                            protected_identity=key in PROTECTED)
            db.add(person)
        people[key] = person
    await db.flush()
    for rep_key, person_key, kind, scope, start, end, source in REPRESENTATIONS:
        exists = (await db.exec(select(Representation).where(
            Representation.representative_id == people[rep_key].id,
            Representation.represented_id == people[person_key].id,
            Representation.kind == kind))).first()
        if exists is None:
            rep = Representation(representative_id=people[rep_key].id,
                                 represented_id=people[person_key].id, kind=kind, scope=scope,
                                 valid_from=start, valid_to=end, source=source,
                                 appointment=APPOINTMENTS.get((rep_key, person_key)))
            db.add(rep)
            await db.flush()
            await record(db, "representation.registered", SYSTEM,
                         subject_person_id=people[person_key].id, object_type="representation",
                         object_id=rep.id, detail={"kind": kind, "source": source})
    for employee_id, given, family, title, unit_code, email, phone in STAFF:
        staff = (await db.exec(select(StaffMember).where(
            StaffMember.employee_id == employee_id))).first()
        if staff is None:
            db.add(StaffMember(employee_id=employee_id, given_name=given, family_name=family,
                               title=title, unit_id=units[unit_code].id, email=email, phone=phone))
    await db.flush()
    for person_key, codes in CARE_RELATIONS.items():
        for code in codes:
            exists = (await db.exec(select(CareRelation).where(
                CareRelation.person_id == people[person_key].id,
                CareRelation.unit_id == units[code].id))).first()
            if exists is None:
                db.add(CareRelation(person_id=people[person_key].id, unit_id=units[code].id))
    await db.flush()
    if stories:
        from portal.people.stories import load_stories

        await load_stories(db, people)
    await db.commit()
    return {key: person.id for key, person in people.items()}
