"""Swedish personnummer and samordningsnummer, Finnish personbeteckning: parse, validate, show.

Stored forms: Swedish numbers as 12 digits ÅÅÅÅMMDDNNNN (a samordningsnummer
keeps its day plus 60, so it never collides with a personnummer), Finnish as
DDMMÅÅCNNNX. Errors are message ids (marked for extraction) that the page
translates.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu
from stdnum.se import personnummer

from portal.core.i18n import N_


class NationalIdError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


SE_SHAPE = re.compile(r"^(\d{6}|\d{8})[-+]?\d{4}$")
FI_SHAPE = re.compile(r"^\d{6}[-+ABCDEFUVWXY]\d{3}[0-9A-Y]$")


# Skatteverket SKV 707: a samordningsnummer is written like a personnummer with
# the birth day plus 60 (born the 12th: day 72). python-stdnum 2.2 knows only
# personnummer, so the day is moved back here and the rest is stdnum's.
COORDINATION_DAY_OFFSET = 60


def _birth_form(compact: str) -> tuple[str, bool]:
    """stdnum's compact form ('19121272-1219') -> (the same with the real birth day, coordination?)."""
    date_part, tail = compact[:-5], compact[-5:]
    day = int(date_part[-2:])
    if day <= COORDINATION_DAY_OFFSET:
        return compact, False
    return f"{date_part[:-2]}{day - COORDINATION_DAY_OFFSET:02d}{tail}", True


def normalise_swedish(value: str) -> str:
    """Return the 12-digit form ÅÅÅÅMMDDNNNN, or raise NationalIdError.

    Accepts a personnummer or a samordningsnummer (day plus 60), with 10 or 12
    digits, with or without '-' or '+' ('+': 100 years or older). A
    samordningsnummer keeps its day plus 60. Day 60 (birth day unknown, which
    Skatteverket allows) is refused: every person here needs a birth date.
    """
    text = value.strip().replace(" ", "")
    if not text:
        raise NationalIdError(N_("Skriv ditt personnummer."))
    if not SE_SHAPE.match(text):
        raise NationalIdError(
            N_("Skriv personnumret med 12 siffror, till exempel 19121212-1212.")
        )
    compact = personnummer.compact(text)
    as_born, coordination = _birth_form(compact)
    try:
        if coordination:
            birth = personnummer.get_birth_date(as_born)
            luhn.validate(compact[-11:-5] + compact[-4:])
        else:
            personnummer.validate(compact)
            birth = personnummer.get_birth_date(compact)
    except ValidationError:
        raise NationalIdError(
            N_("Personnumret stämmer inte. Kontrollera siffrorna och försök igen.")
        ) from None
    return f"{birth.year:04d}{compact[-9:-5]}{compact[-4:]}"


def is_coordination_number(national_id: str, country: str) -> bool:
    """True for a Swedish samordningsnummer in the stored 12-digit form."""
    return country == "SE" and int(national_id[6:8]) > COORDINATION_DAY_OFFSET


def display(national_id: str, country: str) -> str:
    """The number as its holder knows it: Swedish ÅÅÅÅMMDD-NNNN (a samordningsnummer
    with its day plus 60, as Skatteverket wrote it), Finnish DDMMÅÅCNNNX as stored."""
    if country == "SE":
        return f"{national_id[:8]}-{national_id[8:]}"
    return national_id


def normalise_finnish(value: str) -> str:
    """Return the canonical DDMMÅÅCNNNX form, or raise NationalIdError."""
    text = value.strip().upper().replace(" ", "")
    if not text:
        raise NationalIdError(N_("Skriv din personbeteckning."))
    if not FI_SHAPE.match(text):
        raise NationalIdError(
            N_("Skriv personbeteckningen i formen DDMMÅÅ-NNNX, till exempel 010150-902E.")
        )
    try:
        return hetu.validate(text, allow_temporary=True)
    except ValidationError:
        raise NationalIdError(
            N_("Personbeteckningen stämmer inte. Kontrollera tecknen och försök igen.")
        ) from None


def normalise(value: str, country: str) -> str:
    return normalise_finnish(value) if country == "FI" else normalise_swedish(value)


FI_CENTURY = {"+": 1800, **dict.fromkeys("-UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}


def birth_date(national_id: str, country: str) -> date:
    """The birth date of a stored (normalised) number; a samordningsnummer's day minus 60."""
    if country == "FI":
        # python-stdnum's hetu has no get_birth_date: read DDMMÅÅ and the century sign.
        return date(FI_CENTURY[national_id[6]] + int(national_id[4:6]),
                    int(national_id[2:4]), int(national_id[0:2]))
    as_born, _ = _birth_form(personnummer.compact(national_id))
    return personnummer.get_birth_date(as_born)


def is_test_identity(national_id: str, country: str) -> bool:
    """Finnish individual numbers 900-999 are reserved for testing."""
    if country == "FI":
        return 900 <= int(national_id[7:10]) <= 999
    return True  # Sweden: the demo numbers come from Skatteverket's test series


def swedish_with_check_digit(first_nine: str, century: str) -> str:
    """Build a valid 12-digit number from YYMMDDNNN and a century ('19'); DD+60 gives a
    samordningsnummer."""
    return century + first_nine + luhn.calc_check_digit(first_nine)


def finnish_with_check_character(ddmmyy: str, century_sign: str, individual: str) -> str:
    number = f"{ddmmyy}{century_sign}{individual}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(ddmmyy + individual) % 31]
    return number + check
