"""Working days for the units' promises, across Easter, Midsummer and Christmas in both countries."""

from __future__ import annotations

from datetime import date

import pytest

from portal.core.workdays import add_working_days, is_working_day, working_days_between

# start (the day the request was sent), working days promised, country, due date
DUE = [
    # An ordinary week.
    (date(2026, 11, 30), 3, "SE", date(2026, 12, 3)),
    (date(2026, 11, 27), 1, "SE", date(2026, 11, 30)),  # Friday: due Monday
    (date(2026, 11, 28), 1, "FI", date(2026, 11, 30)),  # Saturday: due Monday
    # Easter 2026: Långfredagen 3 April, Annandag påsk 6 April, in both countries.
    (date(2026, 4, 2), 1, "SE", date(2026, 4, 7)),
    (date(2026, 4, 2), 1, "FI", date(2026, 4, 7)),
    (date(2026, 4, 1), 3, "SE", date(2026, 4, 8)),
    # Midsummer 2026: midsommarafton 19 June is a day off in both countries.
    (date(2026, 6, 18), 1, "SE", date(2026, 6, 22)),
    (date(2026, 6, 18), 1, "FI", date(2026, 6, 22)),
    # Sweden's national day 6 June 2026 is a Saturday; Finland's independence day 6 Dec is a Sunday.
    (date(2026, 12, 4), 1, "FI", date(2026, 12, 7)),
    # Christmas 2026: 24, 25 (and 26) December off in both; 31 December off in Sweden only.
    (date(2026, 12, 23), 1, "SE", date(2026, 12, 28)),
    (date(2026, 12, 23), 1, "FI", date(2026, 12, 28)),
    (date(2026, 12, 30), 1, "SE", date(2027, 1, 4)),   # nyårsafton, nyårsdagen, weekend
    (date(2026, 12, 30), 1, "FI", date(2026, 12, 31)),  # Finland works on New Year's Eve
    (date(2026, 12, 23), 4, "SE", date(2027, 1, 4)),  # 28, 29, 30 December, then 4 January
    (date(2026, 12, 23), 4, "FI", date(2026, 12, 31)),  # 28, 29, 30, 31 December
    # Epiphany, 6 January 2027 (a Wednesday), in both.
    (date(2027, 1, 5), 1, "SE", date(2027, 1, 7)),
    (date(2027, 1, 5), 1, "FI", date(2027, 1, 7)),
]


@pytest.mark.parametrize(("start", "days", "country", "due"), DUE)
def test_due_date(start, days, country, due):
    assert add_working_days(start, days, country) == due


@pytest.mark.parametrize(("day", "country", "working"), [
    (date(2026, 12, 24), "SE", False), (date(2026, 12, 24), "FI", False),
    (date(2026, 12, 31), "SE", False), (date(2026, 12, 31), "FI", True),
    (date(2026, 6, 19), "SE", False), (date(2026, 6, 19), "FI", False),
    (date(2026, 12, 8), "FI", True),  # a flag day, not a day off
    (date(2026, 4, 30), "SE", True),  # valborgsmässoafton is a working day
])
def test_days_off(day, country, working):
    assert is_working_day(day, country) is working


def test_working_days_between_counts_after_start():
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 28), "SE") == 1
    assert working_days_between(date(2026, 12, 28), date(2026, 12, 23), "SE") == 0


def test_other_countries_and_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), 1, "NO")
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), 0, "SE")
