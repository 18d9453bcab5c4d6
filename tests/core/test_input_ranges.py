"""The found cases of issue 8 §4, and the kinds behind them, as plain tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from litestar.exceptions import NotFoundException
from multidict import MultiDict
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from portal.consent.forms import read_person_form, read_staff_form
from portal.core.clock import ZONES
from portal.core.errors import is_connection_failure
from portal.core.inputs import (
    DATE_FORMAT,
    DATE_TOO_EARLY,
    DATE_TOO_LATE,
    INT_MAX,
    TIME_SKIPPED,
    TIME_TWICE,
    BadInput,
    happens_twice,
    is_opaque_id,
    local_datetime,
    parse_date,
    parse_int,
    parse_time,
)
from portal.core.paths import path_params_ok
from portal.plans import calendar
from portal.plans.forms import read_revision, read_section

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SPAN = (date(2000, 1, 1), date(2100, 12, 31))


@pytest.mark.parametrize("value", ["2026-11-23", " 2026-11-23 ", "2000-01-01", "2100-12-31"])
def test_a_date_in_range_is_read(value):
    assert parse_date(value, *SPAN) == date.fromisoformat(value.strip())


@pytest.mark.parametrize(("value", "message"), [
    ("9999-12-31", DATE_TOO_LATE), ("2101-01-01", DATE_TOO_LATE),
    ("0001-01-01", DATE_TOO_EARLY), ("1999-12-31", DATE_TOO_EARLY),
    ("2026-02-30", DATE_FORMAT), ("20261123", DATE_FORMAT), ("2026-W47-1", DATE_FORMAT),
    ("２０２６-11-23", DATE_FORMAT), ("2026-11-23\x00", DATE_FORMAT), ("", DATE_FORMAT),
    ("99999-01-01", DATE_FORMAT),
])
def test_a_date_out_of_range_or_shape_has_a_plain_message(value, message):
    with pytest.raises(BadInput) as caught:
        parse_date(value, *SPAN)
    assert caught.value.message == message


def test_times_are_hh_mm():
    assert parse_time("14:30") == time(14, 30)
    assert parse_time("9.05") == time(9, 5)
    for bad in ("24:00", "23:60", "14:30:00", "14:30+01:00", "1430", "١٤:٣٠", ""):
        with pytest.raises(BadInput):
            parse_time(bad)


def test_numbers_are_ascii_and_in_range():
    assert parse_int("7", 0, 10) == 7
    assert parse_int(" -3 ", -5, 5) == -3
    for bad in ("999999999999999999999999999999", "11", "1_0", "١", "+1", "1e3", "", "\x00"):
        with pytest.raises(BadInput):
            parse_int(bad, 0, 10)


def test_opaque_ids():
    assert is_opaque_id("AAAAAAAAAAAAAAAAAAAAAA")
    assert is_opaque_id("a-b_c")
    for bad in ("", "a\x00b", "a b", "å", "A" * 65, 5, None):
        assert not is_opaque_id(bad)


@pytest.mark.parametrize(("params", "ok"), [
    ({"act_id": "AAAAAAAAAAAAAAAAAAAAAA"}, True), ({"act_id": "a\x00b"}, False),
    ({"person_id": "x" * 65}, False), ({"number": 1}, True), ({"number": 0}, False),
    ({"number": 99999999999999999999}, False), ({"number": INT_MAX + 1}, False),
    ({"section": "important"}, True), ({"section": "a\x00b"}, False),
    ({"code": "sv" * 101}, False),
])
def test_path_params_are_checked_before_the_handler(params, ok):
    assert path_params_ok(params) is ok


def test_huge_revision_is_a_stale_form():
    assert read_revision(MultiDict({"revision": "999999999999999999999999999999"})) == -1
    assert read_revision(MultiDict({"revision": "12"})) == 12
    assert read_person_form(MultiDict({"seen_seq": "9" * 30})).seen_seq == -1


def test_plan_follow_up_far_away_is_refused():
    draft = {"follow_up": {}}
    _, errors, _ = read_section("follow_up", MultiDict({"date": "9999-12-31"}), set(), set(),
                                draft, ZONES["SE"])
    assert errors == {"date": DATE_TOO_LATE}
    _, errors, _ = read_section("dates", MultiDict({"start": "0001-01-01"}), set(), set(), draft,
                                ZONES["SE"])
    assert errors == {"start": DATE_TOO_EARLY}


# Daylight saving time in the EU: clocks go forward on the last Sunday of March and back
# on the last Sunday of October, both at 01:00 UTC (02:00 -> 03:00 and 03:00 -> 02:00 in
# Stockholm, an hour later on the wall in Helsinki).
@pytest.mark.parametrize(("zone", "day", "clock"), [
    ("SE", date(2027, 3, 28), time(2, 0)), ("SE", date(2027, 3, 28), time(2, 30)),
    ("SE", date(2027, 3, 28), time(2, 59)), ("FI", date(2027, 3, 28), time(3, 30)),
    ("SE", date(2026, 3, 29), time(2, 15)),
])
def test_a_wall_time_that_does_not_exist_is_refused(zone, day, clock):
    with pytest.raises(BadInput) as refused:
        local_datetime(day, clock, ZONES[zone])
    assert refused.value.message == TIME_SKIPPED


@pytest.mark.parametrize(("zone", "day", "clock", "utc"), [
    ("SE", date(2027, 3, 28), time(1, 59), datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
    ("SE", date(2027, 3, 28), time(3, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    ("FI", date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 0, 30, tzinfo=UTC)),
    ("SE", date(2027, 10, 31), time(1, 59), datetime(2027, 10, 30, 23, 59, tzinfo=UTC)),
    ("SE", date(2027, 10, 31), time(3, 0), datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),
])
def test_an_ordinary_wall_time_is_that_moment(zone, day, clock, utc):
    moment = local_datetime(day, clock, ZONES[zone])
    assert moment == utc and not happens_twice(moment)


@pytest.mark.parametrize(("zone", "day", "clock", "utc"), [
    ("SE", date(2027, 10, 31), time(2, 0), datetime(2027, 10, 31, 0, 0, tzinfo=UTC)),
    ("SE", date(2027, 10, 31), time(2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ("FI", date(2027, 10, 31), time(3, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
])
def test_a_wall_time_that_happens_twice_is_the_first(zone, day, clock, utc):
    moment = local_datetime(day, clock, ZONES[zone])
    # (astimezone: PEP 495 makes == across zones False for a time that happens twice)
    assert moment.astimezone(UTC) == utc  # still summer time: the first of the two
    assert happens_twice(moment)


def test_plan_follow_up_at_a_time_that_does_not_exist_is_refused():
    form = MultiDict({"date": "2027-03-28", "time": "02:30", "place": "Rum 3"})
    _, errors, _ = read_section("follow_up", form, set(), set(), {"follow_up": {}}, ZONES["SE"])
    assert errors == {"time": TIME_SKIPPED}
    _, errors, _ = read_section("follow_up", form, set(), set(), {"follow_up": {}}, ZONES["FI"])
    assert errors == {}  # 02:30 exists in Helsinki (03:00..03:59 does not)


def test_staff_consent_at_a_time_that_does_not_exist_or_happens_twice():
    form = read_staff_form(_staff_form(date="2026-03-29", time="02:30"), STOCKHOLM, {"p"})
    assert form.errors == {"time": TIME_SKIPPED} and form.occurred_at is None
    form = read_staff_form(_staff_form(date="2025-10-26", time="02:30"), STOCKHOLM, {"p"})
    assert not form.errors and form.notices == [TIME_TWICE]
    assert form.occurred_at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    form = read_staff_form(_staff_form(date="2025-10-26", time="04:30"), STOCKHOLM, {"p"})
    assert not form.errors and form.notices == []


def _staff_form(**fields):
    base = {"decision": "give", "unit": "u", "method": "oral", "given_by": "p", "note": "Muntligt",
            "idempotency_key": "k" * 24}
    return MultiDict({**base, **fields})


def test_staff_consent_date_must_be_after_1900_and_birth_and_not_future():
    form = read_staff_form(_staff_form(date="0001-01-01"), STOCKHOLM, {"p"})
    assert form.errors == {"date": DATE_TOO_EARLY}
    form = read_staff_form(_staff_form(date="1990-05-01"), STOCKHOLM, {"p"},
                           born=date(1995, 1, 1))
    assert form.errors == {"date": "Personen var inte född då. Kontrollera datumet."}
    form = read_staff_form(_staff_form(date="9999-12-31"), STOCKHOLM, {"p"})
    assert form.errors == {"date": "Datumet kan inte vara i framtiden."}
    form = read_staff_form(_staff_form(date="2020-01-01", time="25:00"), STOCKHOLM, {"p"})
    assert set(form.errors) == {"time"}
    form = read_staff_form(_staff_form(date="2020-01-01", time="14:30"), STOCKHOLM, {"p"})
    assert not form.errors
    assert form.occurred_at == datetime(2020, 1, 1, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize("follow_up", [
    {"date": "9999-12-31", "time": "23:30"}, {"date": "0001-01-01", "time": "00:00"},
    {"date": "2026-12-08", "time": "25:99"}, {"date": "not a date"},
    {"date": "2027-03-28", "time": "02:30"},  # does not exist in Stockholm
])
def test_an_odd_stored_follow_up_is_a_404_not_a_500(follow_up):
    person = SimpleNamespace(country="SE")
    with pytest.raises(NotFoundException):
        calendar.follow_up_ics(calendar.Meeting("u", 0, follow_up), person, "http://x",
                               datetime(2026, 1, 1, tzinfo=UTC))


def test_only_a_connection_failure_is_the_database_being_down():
    assert is_connection_failure(OperationalError("s", {}, Exception()))
    assert is_connection_failure(InterfaceError("s", {}, Exception()))
    assert is_connection_failure(DBAPIError("s", {}, Exception(), connection_invalidated=True))
    assert not is_connection_failure(DataError("s", {}, Exception()))
    assert not is_connection_failure(DBAPIError("s", {}, Exception()))
