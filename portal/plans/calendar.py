"""The follow-up meeting as a standards-compliant iCalendar file (RFC 5545)."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from litestar.exceptions import NotFoundException

from portal.core import i18n
from portal.core.ids import utcnow
from portal.core.inputs import BadInput, parse_date, parse_time
from portal.people.models import Person
from portal.plans.forms import PLAN_EARLIEST, PLAN_LATEST
from portal.plans.models import Plan


class NoCalendarDate(NotFoundException):
    """The stored follow-up has no date a calendar can hold: answered as 404 "Sidan finns inte"."""


def follow_up_start(content: dict, person: Person) -> datetime | None:
    """When the follow-up meeting starts, aware, in the person's own zone
    (Europe/Stockholm, or Europe/Helsinki for Finland); 09:00 when no time is set.

    None when there is no follow-up date, or when what is stored is not a date
    and time within forms.PLAN_EARLIEST .. PLAN_LATEST (older data, or data
    written past the form): the calendar never does arithmetic on an odd date.
    """
    follow = content.get("follow_up") or {}
    if not follow.get("date"):
        return None
    tz = i18n.TIME_ZONES["sv_FI" if person.country == "FI" else "sv"]
    try:
        day = parse_date(follow["date"], PLAN_EARLIEST, PLAN_LATEST)
        clock = parse_time(follow.get("time") or "09:00")
    except BadInput:
        return None
    return datetime.combine(day, clock, tzinfo=tz)


def follow_up_ics(plan: Plan, content: dict, person: Person, base_url: str) -> bytes:
    """The follow-up as an iCalendar file (one VEVENT of one hour, with its VTIMEZONE).

    Raises NoCalendarDate (a 404) when follow_up_start() finds no usable date.
    """
    locale = "sv_FI" if person.country == "FI" else "sv"
    translations = i18n.translations(locale)
    start = follow_up_start(content, person)
    if start is None:
        raise NoCalendarDate()
    calendar = Calendar()
    calendar.add("prodid", "-//SIP-portalen//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"follow-up-{plan.id}-v{plan.current_version}@sip-portalen")
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("summary", translations.gettext("Uppföljning av din plan"))
    if content["follow_up"].get("place"):
        event.add("location", content["follow_up"]["place"])
    event.add("description", translations.gettext(
        "Ni går igenom planen tillsammans. Läs planen i SIP-portalen.") + f"\n{base_url}/plan")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
