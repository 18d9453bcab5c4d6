"""One clock for the whole app, and a person's own time zone.

A person's dates and times are in their own zone, whatever language variant
the page is shown in: Europe/Stockholm for Sweden, Europe/Helsinki for
Finland (`../shared/DOMAIN.md`, "A person's time is their own"). "Today"
for age limits, end dates and plan dates is the calendar date in that zone,
so a guardian's right ends at 00:00 local time on the child's birthday.

The app holds one `Clock` (`app.state.clock`); each request reads it once
(`RequestTime`, in `scope["state"]["time"]` and the `clock` dependency), so
every date in one request agrees. Tests set the time with `Clock.travel_to`
instead of sleeping or guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

ZONES = {"SE": ZoneInfo("Europe/Stockholm"), "FI": ZoneInfo("Europe/Helsinki")}
DEFAULT_COUNTRY = "SE"


class HasCountry(Protocol):
    country: str


def zone_for(country: str) -> ZoneInfo:
    """The time zone of a country code ("SE", "FI"); Sweden's for anything else."""
    return ZONES.get(country, ZONES[DEFAULT_COUNTRY])


def zone_of(who: HasCountry) -> ZoneInfo:
    """The time zone of a person or a unit (anything with `.country`)."""
    return zone_for(who.country)


def local_date(instant: datetime, who: HasCountry) -> date:
    """The calendar date at `instant` (timezone-aware) in `who`'s own zone.

    Raises ValueError for a naive datetime: a moment without a zone is ambiguous."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(zone_of(who)).date()


class Clock:
    """The source of "now" (UTC, timezone-aware). Frozen in tests, the system clock otherwise."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen_at: datetime | None = None
        if frozen_at is not None:
            self.travel_to(frozen_at)

    def travel_to(self, instant: datetime | None) -> None:
        """Freeze the clock at `instant` (aware), or unfreeze it with None."""
        if instant is not None and instant.tzinfo is None:
            raise ValueError("naive datetime")
        self._frozen_at = instant.astimezone(UTC) if instant is not None else None

    def now(self) -> datetime:
        return self._frozen_at or datetime.now(UTC)

    def at_request(self) -> RequestTime:
        return RequestTime(self.now())


@dataclass(frozen=True)
class RequestTime:
    """The time of one request: `now` once, and "today" in anyone's own zone."""

    now: datetime  # UTC, aware

    def today_for(self, who: HasCountry) -> date:
        """Today's date for a person (or a unit) in their own time zone."""
        return local_date(self.now, who)

    def today_in(self, country: str) -> date:
        return self.now.astimezone(zone_for(country)).date()
