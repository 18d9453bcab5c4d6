"""`representation.is_valid` and `acting_rights` at the exact instants where a right begins
or ends: a guardian's at 00:00 on the child's birthday, a proxy's at the start of
`valid_from` and the end of `valid_to`, each in the represented person's own zone
(Europe/Stockholm, Europe/Helsinki) whatever the UTC date or the representative's zone;
and `ended_at`, which ends a right at once whatever its dates say."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.core.clock import zone_for
from portal.people.models import Person, Representation
from portal.people.representation import acting_rights, age_rules, is_valid
from tests.factories import Who, db_run, new_person, represent

ONE_MICROSECOND = timedelta(microseconds=1)
BIRTHDAY = date(2027, 3, 15)  # a plain day: no leap day, no change of summer time


def local(day: date, at: time, country: str) -> datetime:
    return datetime.combine(day, at, zone_for(country))


def last_instant(day: date, country: str) -> datetime:
    return local(day + timedelta(days=1), time(0), country) - ONE_MICROSECOND


def rights_at(client, representative: Who, now: datetime) -> set[str]:
    async def work(db):
        return {r.person.id for r in await acting_rights(db, representative.id, now)}

    return db_run(client, work)


def child_and_guardian(client, country: str, *, guardian_country: str | None = None
                       ) -> tuple[Who, Who]:
    limit = age_rules().guardian_age_limit(country)
    born = BIRTHDAY.replace(year=BIRTHDAY.year - limit)
    child = new_person(client, country=country, born=born, prefix="Bc")
    guardian = new_person(client, country=guardian_country or country, prefix="Bg")
    represent(client, guardian, child, "guardian", valid_from=born)
    return child, guardian


@pytest.mark.parametrize("country", ["SE", "FI"])
def test_is_valid_on_the_last_day_before_the_age_limit_and_not_on_the_birthday(country):
    limit = age_rules().guardian_age_limit(country)
    child = Person(national_id="x", given_name="B", family_name="B", country=country,
                   birth_date=BIRTHDAY.replace(year=BIRTHDAY.year - limit))
    rep = Representation(representative_id="g", represented_id="c", kind="guardian",
                         scope="plan:read", valid_from=child.birth_date, source="population_register")
    assert child.age_on(BIRTHDAY - timedelta(days=1)) == limit - 1
    assert is_valid(rep, child, BIRTHDAY - timedelta(days=1))
    assert not is_valid(rep, child, BIRTHDAY)


@pytest.mark.parametrize("country", ["SE", "FI"])
def test_a_guardians_right_ends_at_midnight_in_the_childs_zone(client, country):
    child, guardian = child_and_guardian(client, country)
    before = last_instant(BIRTHDAY - timedelta(days=1), country)
    midnight = local(BIRTHDAY, time(0), country)
    # Midnight in Stockholm or Helsinki is still the day before in UTC: the UTC date
    # must not decide.
    assert midnight.astimezone(UTC).date() == BIRTHDAY - timedelta(days=1)
    assert rights_at(client, guardian, before) == {child.id}
    assert rights_at(client, guardian, midnight) == set()
    assert rights_at(client, guardian, midnight.astimezone(UTC)) == set()


def test_the_childs_zone_decides_not_the_guardians(client):
    """A guardian in Sweden of a child in Finland: at 23:30 Stockholm time the Finnish
    child's birthday has begun (00:30 in Helsinki), so the right has ended; a Swedish
    child's has not at 23:59 Helsinki time on the eve (22:59 in Stockholm)."""
    finnish, guardian_se = child_and_guardian(client, "FI", guardian_country="SE")
    eve_in_stockholm = local(BIRTHDAY - timedelta(days=1), time(23, 30), "SE")
    assert rights_at(client, guardian_se, eve_in_stockholm - timedelta(hours=1)) == {finnish.id}
    assert rights_at(client, guardian_se, eve_in_stockholm) == set()

    swedish, guardian_fi = child_and_guardian(client, "SE", guardian_country="FI")
    eve_in_helsinki = local(BIRTHDAY - timedelta(days=1), time(23, 59), "FI")
    assert rights_at(client, guardian_fi, eve_in_helsinki) == {swedish.id}
    assert rights_at(client, guardian_fi, local(BIRTHDAY, time(0), "SE")) == set()


@pytest.mark.parametrize("country", ["SE", "FI"])
def test_a_proxy_counts_from_midnight_of_valid_from_to_the_end_of_valid_to(client, country):
    person = new_person(client, country=country, prefix="Bp")
    proxy = new_person(client, country="SE", prefix="Bq")
    start, end = date(2027, 2, 1), date(2027, 2, 28)
    represent(client, proxy, person, "proxy", scope="plan:read", valid_from=start, valid_to=end)
    assert rights_at(client, proxy, local(start, time(0), country) - ONE_MICROSECOND) == set()
    assert rights_at(client, proxy, local(start, time(0), country)) == {person.id}
    assert rights_at(client, proxy, last_instant(end, country)) == {person.id}
    assert rights_at(client, proxy, last_instant(end, country) + ONE_MICROSECOND) == set()


def test_ended_at_ends_a_right_whatever_its_dates_say(client):
    person = new_person(client, country="FI", prefix="Be")
    proxy = new_person(client, prefix="Bf")
    rep_id = represent(client, proxy, person, "proxy", scope="plan:read messages",
                       valid_from=date(2026, 1, 1), valid_to=None)
    now = local(date(2027, 1, 10), time(12), "FI")
    assert rights_at(client, proxy, now) == {person.id}

    async def end(db):
        rep = await db.get(Representation, rep_id)
        rep.ended_at, rep.ended_by = now - timedelta(minutes=5), person.id
        return rep

    ended = db_run(client, end)
    assert rights_at(client, proxy, now) == set()
    # is_valid does not look at when: an ended right does not come back on any date.
    represented = Person(national_id="x", given_name="B", family_name="B", country="FI",
                         birth_date=date(1950, 1, 1))
    for day in (date(2026, 1, 1), date(2027, 1, 10), date(2030, 1, 1)):
        assert not is_valid(ended, represented, day)
    ended.ended_at = None
    assert is_valid(ended, represented, date(2027, 1, 10))


def test_one_ended_right_leaves_the_others(client):
    """Someone who acts for two people loses only the right that was ended."""
    first, second = new_person(client, prefix="Bh"), new_person(client, country="FI", prefix="Bi")
    proxy = new_person(client, prefix="Bj")
    kept = represent(client, proxy, first, "proxy", scope="plan:read", valid_from=date(2026, 1, 1))
    gone = represent(client, proxy, second, "proxy", scope="plan:read", valid_from=date(2026, 1, 1))
    now = local(date(2027, 1, 10), time(12), "SE")
    assert rights_at(client, proxy, now) == {first.id, second.id}

    async def end(db):
        rep = await db.get(Representation, gone)
        rep.ended_at = now

    db_run(client, end)
    assert rights_at(client, proxy, now) == {first.id}
    assert kept != gone
