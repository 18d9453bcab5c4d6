"""Swedish personnummer and Finnish personbeteckning: parse, validate, mask.

Errors are message ids (marked for extraction) that the page translates.
"""

from __future__ import annotations

import re
from datetime import date

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


def normalise_swedish(value: str) -> str:
    """Return the 12-digit form ÅÅÅÅMMDDNNNN, or raise NationalIdError."""
    text = value.strip().replace(" ", "")
    if not text:
        raise NationalIdError(N_("Skriv ditt personnummer."))
    if not SE_SHAPE.match(text):
        raise NationalIdError(
            N_("Skriv personnumret med 12 siffror, till exempel 19121212-1212.")
        )
    try:
        compact = personnummer.validate(text)
    except ValidationError:
        raise NationalIdError(
            N_("Personnumret stämmer inte. Kontrollera siffrorna och försök igen.")
        ) from None
    digits = compact.replace("-", "").replace("+", "")
    if len(digits) == 10:
        birth = personnummer.get_birth_date(compact)
        digits = f"{birth.year:04d}" + digits[2:]
    return digits


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
    if country == "FI":
        # python-stdnum's hetu has no get_birth_date: read DDMMÅÅ and the century sign.
        return date(FI_CENTURY[national_id[6]] + int(national_id[4:6]),
                    int(national_id[2:4]), int(national_id[0:2]))
    return personnummer.get_birth_date(national_id)


def is_test_identity(national_id: str, country: str) -> bool:
    """Finnish individual numbers 900-999 are reserved for testing."""
    if country == "FI":
        return 900 <= int(national_id[7:10]) <= 999
    return True  # Sweden: the demo numbers come from Skatteverket's test series


def swedish_with_check_digit(first_nine: str, century: str) -> str:
    """Build a valid 12-digit personnummer from YYMMDDNNN and a century ('19')."""
    from stdnum import luhn

    return century + first_nine + luhn.calc_check_digit(first_nine)


def finnish_with_check_character(ddmmyy: str, century_sign: str, individual: str) -> str:
    number = f"{ddmmyy}{century_sign}{individual}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(ddmmyy + individual) % 31]
    return number + check
