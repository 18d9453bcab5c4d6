"""Swedish personnummer and samordningsnummer, Finnish personbeteckning: parse, validate,
plain errors, shown as their holders know them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.people.demo import PEOPLE
from portal.people.national_id import (
    NationalIdError,
    birth_date,
    display,
    is_coordination_number,
    is_test_identity,
    normalise,
    normalise_finnish,
    normalise_swedish,
)

SE_EMPTY = "Skriv ditt personnummer."
SE_SHAPE = "Skriv personnumret med 12 siffror, till exempel 19121212-1212."
SE_WRONG = "Personnumret stämmer inte. Kontrollera siffrorna och försök igen."
FI_EMPTY = "Skriv din personbeteckning."
FI_SHAPE = "Skriv personbeteckningen i formen DDMMÅÅ-NNNX, till exempel 010150-902E."
FI_WRONG = "Personbeteckningen stämmer inte. Kontrollera tecknen och försök igen."

FI_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def luhn_digit(nine: str) -> str:
    """The Luhn check digit, written out here so the test does not reuse the code under test."""
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def hetu(ddmmyy: str, sign: str, individual: str) -> str:
    return f"{ddmmyy}{sign}{individual}{FI_CHECK_CHARACTERS[int(ddmmyy + individual) % 31]}"


def error_of(value: str, country: str) -> str:
    with pytest.raises(NationalIdError) as caught:
        normalise(value, country)
    return caught.value.message


# --- Sweden -----------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("19121212-1212", "191212121212"),
    ("191212121212", "191212121212"),
    ("19121212+1212", "191212121212"),
    (" 19121212-1212 ", "191212121212"),
    ("1912 1212-1212", "191212121212"),
    ("121212+1212", "191212121212"),   # plus: 100 years or older
    ("121212-1212", "201212121212"),   # dash: younger than 100
    ("1212121212", "201212121212"),
    ("20220402-9868", "202204029868"),
])
def test_swedish_valid_forms_normalise_to_twelve_digits(value, expected):
    assert normalise_swedish(value) == expected
    assert normalise(value, "SE") == expected


@pytest.mark.parametrize(("value", "message"), [
    ("", SE_EMPTY),
    ("   ", SE_EMPTY),
    ("19121212-1213", SE_WRONG),      # wrong check digit
    ("19121212-1221", SE_WRONG),      # two digits swapped
    ("121212-1213", SE_WRONG),
    ("19121312-1212", SE_WRONG),      # month 13
    ("19120230-1212", SE_WRONG),      # 30 February
    ("1912121-1212", SE_SHAPE),
    ("19121212-121", SE_SHAPE),
    ("19121212--1212", SE_SHAPE),
    ("19121212–1212", SE_SHAPE),      # en dash
    ("1912121212123", SE_SHAPE),
    ("abcdefgh-ijkl", SE_SHAPE),
    ("19121212/1212", SE_SHAPE),
    ("010150-902E", SE_SHAPE),        # a Finnish number is not a Swedish one
])
def test_swedish_errors_have_plain_messages(value, message):
    assert error_of(value, "SE") == message


# Samordningsnummer (Skatteverket SKV 707): the birth day plus 60.
@pytest.mark.parametrize(("value", "expected", "born"), [
    ("19121272-1219", "191212721219", date(1912, 12, 12)),   # the case
    ("191212721219", "191212721219", date(1912, 12, 12)),
    ("19121272+1219", "191212721219", date(1912, 12, 12)),
    ("121272+1219", "191212721219", date(1912, 12, 12)),     # plus: 100 years or older
    ("121272-1219", "201212721219", date(2012, 12, 12)),
])
def test_coordination_numbers_are_accepted_with_the_real_birth_date(value, expected, born):
    number = normalise_swedish(value)
    assert number == expected
    assert is_coordination_number(number, "SE")
    assert birth_date(number, "SE") == born
    assert display(number, "SE") == f"{expected[:8]}-{expected[8:]}"  # day 72, as issued


@pytest.mark.parametrize(("nine", "born"), [
    ("800161123", date(1980, 1, 1)),     # day 61: the 1st
    ("000289456", date(2000, 2, 29)),    # day 89: 29 February in a leap year
    ("991291001", date(1999, 12, 31)),   # day 91: the 31st
])
def test_coordination_number_edges(nine, born):
    century = "19" if born.year < 2000 else "20"
    twelve = century + nine + luhn_digit(nine)
    assert normalise_swedish(f"{twelve[:8]}-{twelve[8:]}") == twelve
    assert birth_date(twelve, "SE") == born


@pytest.mark.parametrize("nine", [
    "121292121",   # day 92 = 32 + 60
    "010289121",   # 29 February 1901 (+60): no such day
    "121260121",   # day 60: birth day unknown; refused (every person needs a birth date)
    "121300121",   # day 00
])
def test_coordination_numbers_with_impossible_days_are_refused(nine):
    assert error_of("19" + nine + luhn_digit(nine), "SE") == SE_WRONG


def test_a_coordination_number_with_a_wrong_check_digit_is_refused():
    assert error_of("19121272-1212", "SE") == SE_WRONG  # 1212 is the personnummer's check


def test_personnummer_is_not_a_coordination_number():
    assert not is_coordination_number("191212121212", "SE")
    assert not is_coordination_number("010150-902E", "FI")
    assert display("191212121212", "SE") == "19121212-1212"
    assert display("010150-902E", "FI") == "010150-902E"


def test_swedish_example_in_the_message_is_valid():
    example = re.search(r"\d{8}-\d{4}", SE_SHAPE).group()
    assert normalise_swedish(example) == example.replace("-", "")


# --- Finland ----------------------------------------------------------------

@pytest.mark.parametrize(("sign", "year"), [
    ("+", 1850),
    ("-", 1950), ("U", 1950), ("V", 1950), ("W", 1950), ("X", 1950), ("Y", 1950),
    ("A", 2050), ("B", 2050), ("C", 2050), ("D", 2050),
    ("E", 2050), ("F", 2050),
])
def test_finnish_century_signs(sign, year):
    number = hetu("010150", sign, "902")
    assert normalise_finnish(number) == number
    assert normalise_finnish(number.lower()) == number
    assert birth_date(number, "FI") == date(year, 1, 1)


@pytest.mark.parametrize(("value", "born"), [
    ("010150-902E", date(1950, 1, 1)),
    ("010150A902E", date(2050, 1, 1)),
    ("290200B900B", date(2000, 2, 29)),
    ("311299Y999E", date(1999, 12, 31)),
    ("150605+950E", date(1805, 6, 15)),
])
def test_finnish_known_numbers(value, born):
    assert normalise(value, "FI") == value
    assert birth_date(value, "FI") == born


@pytest.mark.parametrize("individual", ["900", "901", "950", "998", "999"])
def test_finnish_temporary_numbers_are_accepted_and_recognised_as_test_identities(individual):
    number = hetu("140246", "-", individual)
    assert normalise_finnish(number) == number
    assert is_test_identity(number, "FI")


@pytest.mark.parametrize("individual", ["002", "500", "899"])
def test_finnish_ordinary_numbers_are_not_test_identities(individual):
    number = hetu("140246", "-", individual)
    assert normalise_finnish(number) == number
    assert not is_test_identity(number, "FI")


@pytest.mark.parametrize(("value", "message"), [
    ("", FI_EMPTY),
    (" ", FI_EMPTY),
    ("010150-902F", FI_WRONG),        # wrong check character
    ("010150-902G", FI_WRONG),        # G is never a check character
    ("010150A902F", FI_WRONG),
    ("300250-902" + FI_CHECK_CHARACTERS[int("300250902") % 31], FI_WRONG),  # 30 February
    ("010150-000" + FI_CHECK_CHARACTERS[int("010150000") % 31], FI_WRONG),  # 000 is never issued
    ("010150902E", FI_SHAPE),         # no century sign
    ("010150-902", FI_SHAPE),
    ("010150-9022E", FI_SHAPE),
    ("01015-902E", FI_SHAPE),
    ("010150G902E", FI_SHAPE),        # G is not a century sign
    ("010150Z902E", FI_SHAPE),
    ("010150-902Z", FI_SHAPE),
    ("19121212-1212", FI_SHAPE),      # a Swedish number is not a Finnish one
])
def test_finnish_errors_have_plain_messages(value, message):
    assert error_of(value, "FI") == message


def test_finnish_example_in_the_message_is_valid():
    example = re.search(r"\d{6}-\d{3}[0-9A-Y]", FI_SHAPE).group()
    assert normalise_finnish(example) == example


# --- Demo people ------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(PEOPLE))
def test_every_demo_number_is_valid_and_matches_the_birth_date(key):
    _given, _family, born, number, country, _email = PEOPLE[key]
    assert normalise(number, country) == number
    assert birth_date(number, country) == born
    assert is_test_identity(number, country)
    if country == "FI":
        assert 900 <= int(number[7:10]) <= 999
    else:
        assert re.fullmatch(r"\d{12}", number)
        assert number[8:10] == "98"  # the serial range the demo numbers come from


def test_demo_numbers_are_unique():
    numbers = [person[3] for person in PEOPLE.values()]
    assert len(numbers) == len(set(numbers))


# --- Property tests ---------------------------------------------------------

CANONICAL = {"SE": re.compile(r"[0-9]{12}", re.ASCII),
             "FI": re.compile(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]", re.ASCII)}

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet="0123456789-+ABCDEFUVWXYZ \x00\u200f\u202e\u0661\uff11", max_size=16),
    st.text(min_size=5000, max_size=20000),
    st.from_regex(r"\A[0-9]{6,8}[-+][0-9]{4}\Z"),
    st.from_regex(r"\A[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Z]\Z"),
    st.builds(lambda a, b: a + "\u202e" + b, st.text(max_size=12), st.text(max_size=12)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=hostile_text, country=st.sampled_from(["SE", "FI"]))
def test_arbitrary_text_raises_only_national_id_error(value, country):
    try:
        result = normalise(value, country)
    except NationalIdError as exc:
        assert exc.message in {SE_EMPTY, SE_SHAPE, SE_WRONG, FI_EMPTY, FI_SHAPE, FI_WRONG}
    else:
        assert CANONICAL[country].fullmatch(result), result
        assert normalise(result, country) == result


def _today() -> date:
    return date.today()


@st.composite
def swedish_numbers(draw):
    today = _today()
    form = draw(st.sampled_from(["12-dash", "12-plain", "12-plus", "10-dash", "10-plain", "10-plus"]))
    if form == "10-plus":  # 100 years or older
        born = draw(st.dates(date(today.year - 199, 1, 1), date(today.year - 100, 12, 31)))
    elif form.startswith("10"):  # the dash form: born within the last 99 years
        born = draw(st.dates(date(today.year - 99, 1, 1), date(today.year - 1, 12, 31)))
    else:
        born = draw(st.dates(date(1890, 1, 1), today - timedelta(days=1)))
    serial = draw(st.integers(0, 999))
    day = born.day + (60 if draw(st.booleans()) else 0)  # samordningsnummer: day plus 60
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    check = luhn_digit(nine)
    full = f"{born:%Y%m}{day:02d}{serial:03d}{check}"
    text = {
        "12-dash": f"{full[:8]}-{full[8:]}",
        "12-plain": full,
        "12-plus": f"{full[:8]}+{full[8:]}",
        "10-dash": f"{nine[:6]}-{nine[6:]}{check}",
        "10-plain": f"{nine}{check}",
        "10-plus": f"{nine[:6]}+{nine[6:]}{check}",
    }[form]
    return text, full, born


@settings(max_examples=300, deadline=None)
@given(swedish_numbers())
def test_luhn_valid_numbers_normalise_to_twelve_digits_that_revalidate(case):
    text, full, born = case
    result = normalise_swedish(text)
    assert result == full
    assert re.fullmatch(r"[0-9]{12}", result)
    assert normalise_swedish(result) == result
    assert normalise_swedish(f"{result[:8]}-{result[8:]}") == result
    assert birth_date(result, "SE") == born
    assert is_coordination_number(result, "SE") == (int(result[6:8]) > 60)
    assert display(result, "SE") == f"{full[:8]}-{full[8:]}"


@settings(max_examples=200, deadline=None)
@given(swedish_numbers(), st.integers(1, 9))
def test_a_changed_check_digit_is_refused(case, delta):
    text, _full, _born = case
    wrong = text[:-1] + str((int(text[-1]) + delta) % 10)
    assert error_of(wrong, "SE") == SE_WRONG


@settings(max_examples=200, deadline=None)
@given(born=st.dates(date(1800, 1, 1), date(2099, 12, 31)), individual=st.integers(2, 999),
       data=st.data())
def test_generated_finnish_numbers_revalidate_with_their_birth_date(born, individual, data):
    signs = {18: "+", 19: "-UVWXY", 20: "ABCDEF"}[born.year // 100]
    sign = data.draw(st.sampled_from(signs))
    number = hetu(f"{born:%d%m}{born.year % 100:02d}", sign, f"{individual:03d}")
    assert normalise_finnish(number) == number
    assert birth_date(number, "FI") == born
    assert is_test_identity(number, "FI") == (individual >= 900)
