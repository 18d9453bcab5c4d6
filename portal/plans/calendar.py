"""The follow-up meeting as a standards-compliant iCalendar file (RFC 5545)."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from portal.core import i18n
from portal.core.ids import utcnow
from portal.people.models import Person
from portal.plans.models import Plan


def follow_up_start(content: dict, person: Person) -> datetime | None:
    follow = content.get("follow_up") or {}
    if not follow.get("date"):
        return None
    tz = i18n.TIME_ZONES["sv_FI" if person.country == "FI" else "sv"]
    clock = follow.get("time") or "09:00"
    return datetime.fromisoformat(f"{follow['date']}T{clock}").replace(tzinfo=tz)


def follow_up_ics(plan: Plan, content: dict, person: Person, base_url: str) -> bytes:
    locale = "sv_FI" if person.country == "FI" else "sv"
    translations = i18n.translations(locale)
    start = follow_up_start(content, person)
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
