"""Working days in Sweden and Finland: for the units' promises ("svar inom 3 arbetsdagar").

A working day is Monday to Friday that is not a public holiday of the unit's
country, nor an eve that is a de-facto day off there. The days come from the
`holidays` package (python-holidays), not from our own tables:
- Sweden: categories PUBLIC and DE_FACTO (midsommarafton, julafton, nyårsafton:
  not in law, but offices are closed; Semesterlag and collective agreements).
- Finland: PUBLIC, which already holds juhannusaatto (midsommarafton) and
  jouluaatto (julafton) as days off (Lag om helgdagar, 1991/3 and the
  agreements that follow it).

Dates are calendar dates in the unit's own zone (`portal.core.clock`).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

CATEGORIES = {"SE": (holidays.PUBLIC, holidays.DE_FACTO), "FI": (holidays.PUBLIC,)}


@lru_cache(maxsize=64)
def _days_off(country: str, year: int) -> frozenset[date]:
    if country not in CATEGORIES:
        raise ValueError(f"no working-day calendar for {country!r}")
    return frozenset(holidays.country_holidays(country, years=year, categories=CATEGORIES[country]))


def is_working_day(day: date, country: str) -> bool:
    """Whether `day` is a working day in `country` ("SE" or "FI"); ValueError for others."""
    return day.weekday() < 5 and day not in _days_off(country, day.year)


def add_working_days(start: date, days: int, country: str) -> date:
    """The date `days` working days after `start` (a date in the unit's zone).

    `start` itself never counts: a request sent on a Friday with a promise of one
    working day is due on Monday (or the next working day after a holiday).
    `days` must be 1 or more (ValueError otherwise)."""
    if days < 1:
        raise ValueError("days must be 1 or more")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day, country):
            days -= 1
    return day


def working_days_between(start: date, end: date, country: str) -> int:
    """How many working days lie after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, country)
    return count
