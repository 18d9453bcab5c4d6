"""The follow-up meeting as a standards-compliant iCalendar file (RFC 5545).

One meeting, one UID. A follow-up meeting gets an id when it is first set in
the draft (plans.forms, `follow_up["id"]`) and keeps it while its date, time or
place change; it is "follow-up-<id>@sip-portalen" in every version of the
plan. Content written before meetings had ids has none: such a meeting is
"follow-up-<plan id>@sip-portalen" (stable; a plan had at most one then).

SEQUENCE is not stored: `meeting()` computes it from the published versions,
oldest first. It is 0 when the meeting first appears and rises by one in each
version where its date, time or place differ from the version before, and
once more when it is cancelled. Computing it from the versions, which are
never changed, keeps it right by construction (no counter to keep in step
with the draft, and saving the draft many times before publishing raises it
at most once); the cost is reading the plan's versions when a person
downloads the file, which is rare.

Cancelled: the follow-up is removed in a later version (the version keeps
the removed meeting in `follow_up["removed"]`, so the plan page knows to offer
the cancellation without reading every version), or the plan is closed
before the meeting. The file is then the same VEVENT (same UID) with
STATUS:CANCELLED and a higher SEQUENCE, under METHOD:PUBLISH. Not
METHOD:CANCEL: that is an iTIP scheduling message (RFC 5546 3.2.5) which
needs ORGANIZER and ATTENDEE and is sent by e-mail to invited attendees;
a calendar app that imports a downloaded CANCEL without them refuses it
(iOS will not open it). An imported PUBLISH file with a known UID and a
higher SEQUENCE replaces the event the phone holds, and STATUS:CANCELLED
(RFC 5545 3.8.1.11) marks it cancelled; the summary also starts with
"Inställt:" for apps that ignore STATUS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from litestar.exceptions import NotFoundException

from portal.core import i18n
from portal.core.clock import zone_of
from portal.core.inputs import BadInput, local_datetime, parse_date, parse_time
from portal.people.models import Person
from portal.people.names import may_see_places
from portal.plans.forms import PLAN_EARLIEST, PLAN_LATEST
from portal.plans.models import Plan

UID_DOMAIN = "sip-portalen"
DEFAULT_TIME = "09:00"


class NoCalendarDate(NotFoundException):
    """The stored follow-up has no date a calendar can hold: answered as 404 "Sidan finns inte"."""


def follow_up_start(content: dict, person: Person) -> datetime | None:
    """When the follow-up meeting starts, aware, in the person's own zone
    (Europe/Stockholm, or Europe/Helsinki for Finland); 09:00 when no time is set.

    None when there is no follow-up date, or when what is stored is not a date
    and time within forms.PLAN_EARLIEST .. PLAN_LATEST, or a wall time that does
    not exist in the person's zone (older data, or data written past the form):
    the calendar never does arithmetic on an odd date.
    """
    follow = content.get("follow_up") or {}
    if not follow.get("date"):
        return None
    try:
        day = parse_date(follow["date"], PLAN_EARLIEST, PLAN_LATEST)
        clock = parse_time(follow.get("time") or DEFAULT_TIME)
        return local_datetime(day, clock, zone_of(person))
    except BadInput:
        return None


def meeting_key(follow: dict) -> tuple[str, str, str]:
    """What the person's calendar shows of a meeting: (date, time, place)."""
    return (follow.get("date") or "", follow.get("time") or "", follow.get("place") or "")


@dataclass
class Meeting:
    """The newest follow-up meeting of a plan, as the person's calendar should hold it."""

    uid: str
    sequence: int  # RFC 5545 SEQUENCE, 0 and up
    follow_up: dict  # {date, time, place, id?} as last published while it was on
    cancelled: bool = False


def meeting(plan: Plan, contents: list[dict]) -> Meeting | None:
    """The newest follow-up meeting across `contents`, the published versions' content
    oldest first (version 1, 2, …); None when no version had a follow-up date.

    See the module docstring for the UID and SEQUENCE rules. A version without a
    follow-up cancels the meeting before it; a new meeting (a new id) starts at 0.
    """
    found: Meeting | None = None
    for content in contents:
        follow = content.get("follow_up") or {}
        if not follow.get("date"):
            if found is not None and not found.cancelled:
                found.cancelled = True
                found.sequence += 1
            continue
        uid = f"follow-up-{follow.get('id') or plan.id}@{UID_DOMAIN}"
        if found is None or found.uid != uid:
            found = Meeting(uid, 0, dict(follow))
        elif found.cancelled or meeting_key(found.follow_up) != meeting_key(follow):
            found = Meeting(uid, found.sequence + 1, dict(follow))
    return found


def cancelled_by_closing(found: Meeting, plan: Plan, person: Person) -> Meeting | None:
    """The meeting as cancelled because `plan` was closed (aware `closed_at`) before it
    started; None when it had started (or its time is odd): nothing to cancel."""
    start = follow_up_start({"follow_up": found.follow_up}, person)
    if found.cancelled:
        return found
    if start is None or plan.closed_at is None or start <= plan.closed_at:
        return None
    return Meeting(found.uid, found.sequence + 1, found.follow_up, cancelled=True)


def follow_up_ics(found: Meeting, person: Person, base_url: str, now: datetime) -> bytes:
    """The meeting as an iCalendar file: METHOD:PUBLISH, one VEVENT of one hour in the
    person's zone with its VTIMEZONE, UID, SEQUENCE, DTSTAMP `now` (aware, the request's
    time), LOCATION (not for a person with protected personal data) and STATUS
    CONFIRMED or CANCELLED.

    Raises NoCalendarDate (a 404) when the meeting has no usable start
    (follow_up_start() is None).
    """
    locale = "sv_FI" if person.country == "FI" else "sv"
    translations = i18n.translations(locale)
    start = follow_up_start({"follow_up": found.follow_up}, person)
    if start is None:
        raise NoCalendarDate()
    calendar = Calendar()
    calendar.add("prodid", "-//SIP-portalen//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", found.uid)
    event.add("sequence", found.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    summary = translations.gettext("Uppföljning av din plan")
    if found.cancelled:
        event.add("status", "CANCELLED")
        summary = translations.gettext("Inställt: %(summary)s") % {"summary": summary}
    else:
        event.add("status", "CONFIRMED")
    event.add("summary", summary)
    # Never where a person with protected personal data can be found (people.names).
    if found.follow_up.get("place") and may_see_places(person, None):
        event.add("location", found.follow_up["place"])
    description = (translations.gettext("Mötet är inställt. Läs planen i SIP-portalen.")
                   if found.cancelled else translations.gettext(
                       "Ni går igenom planen tillsammans. Läs planen i SIP-portalen."))
    event.add("description", description + f"\n{base_url}/plan")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
