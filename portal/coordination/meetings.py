"""Coordination meetings (samordningsmöte / SIP-möte): booking, and the meeting as a
standards-compliant iCalendar file (RFC 5545), one for each participant and the person.

One meeting, one UID: "meeting-<meeting id>@sip-portalen", the same in every file
and for every participant, so that a file downloaded again replaces the event in
the calendar instead of adding a second one. SEQUENCE is `Meeting.sequence`, which
rises when the time or place changes; a cancelled meeting (`cancelled_at`) is the
same VEVENT with STATUS:CANCELLED and SEQUENCE one higher, under METHOD:PUBLISH
(not METHOD:CANCEL: see portal.plans.calendar for why an imported file must be a
PUBLISH). Times are stored in UTC and written in the person's zone
(Europe/Stockholm or Europe/Helsinki) with its VTIMEZONE. The file holds no
national id and no name: only that there is a coordination meeting, when and where,
and the portal's address. For a person with protected personal data it does not say
where (no LOCATION, whoever downloads it: a file leaves the portal,
portal.people.names.may_see_places).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor
from portal.coordination import services
from portal.coordination.models import CoordinationRequest, Meeting
from portal.core import i18n
from portal.core.clock import zone_of
from portal.people.models import Person, StaffMember
from portal.people.names import may_see_places

UID_DOMAIN = "sip-portalen"
DEFAULT_LENGTH = timedelta(hours=1)
PLACE_MAX = 300


def participants_of(meeting: Meeting) -> list[str]:
    """The meeting's participants: staff member ids."""
    try:
        value = json.loads(meeting.participants or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def book(db: AsyncSession, request: CoordinationRequest, person: Person, *,
               starts_at: datetime, place: str, participants: list[str], actor: Actor,
               now: datetime, seen: int | None,
               length: timedelta = DEFAULT_LENGTH) -> tuple[Meeting, bool]:
    """Book the coordination meeting at `starts_at` (aware; stored in UTC) in `place` with
    `participants` (staff ids, checked by the caller): event "meeting_booked"
    {"meeting_id"}, an audit event, a notice to the person and followers.

    Returns (meeting, booked). The same meeting (same request, start and place, not
    cancelled) sent again returns the one booked before and False (double submit, back
    button). Raises services.RequestClosed for a closed request and StaleRequest for a
    form made before the request changed."""
    same = (await db.exec(select(Meeting).where(
        Meeting.request_id == request.id, Meeting.starts_at == starts_at, Meeting.place == place,
        col(Meeting.cancelled_at).is_(None)))).first()
    if same is not None:
        return same, False
    if request.status == services.CLOSED:
        raise services.RequestClosed()
    if seen is not None:
        services.check_seen(await services.timeline(db, request.id), seen)
    meeting = Meeting(request_id=request.id, person_id=person.id, starts_at=starts_at,
                      ends_at=starts_at + length, place=place,
                      participants=json.dumps(sorted(set(participants))), created_by=actor.id,
                      created_at=now)
    db.add(meeting)
    await db.flush()
    await services.add_event(db, request, person, "meeting_booked", actor, now,
                             {"meeting_id": meeting.id})
    return meeting, True


async def meetings_of(db: AsyncSession, request_id: str) -> list[Meeting]:
    """The request's meetings, the earliest first."""
    return list((await db.exec(select(Meeting).where(Meeting.request_id == request_id)
                               .order_by(col(Meeting.starts_at), col(Meeting.id)))).all())


async def meeting_of_person(db: AsyncSession, meeting_id: str, person_id: str) -> Meeting | None:
    """The meeting if it is about `person_id`, else None (never another person's)."""
    return (await db.exec(select(Meeting).where(Meeting.id == meeting_id,
                                                Meeting.person_id == person_id))).first()


async def participants_by_meeting(db: AsyncSession,
                                  meetings: list[Meeting]) -> dict[str, list[StaffMember]]:
    """Meeting id -> its participants (StaffMember, by name) for `meetings`; one statement."""
    ids = {sid for m in meetings for sid in participants_of(m)}
    found = {}
    if ids:
        found = {s.id: s for s in (await db.exec(
            select(StaffMember).where(col(StaffMember.id).in_(ids)))).all()}
    return {m.id: sorted((found[i] for i in participants_of(m) if i in found),
                         key=lambda s: (s.given_name, s.family_name))
            for m in meetings}


def uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@{UID_DOMAIN}"


def meeting_ics(meeting: Meeting, person: Person, base_url: str, now: datetime, *,
                for_staff: bool) -> bytes:
    """The meeting as an iCalendar file: METHOD:PUBLISH, one VEVENT in the person's zone
    with its VTIMEZONE, UID (`uid`), SEQUENCE, DTSTAMP `now` (aware, the request's time),
    LOCATION (left out for a person with protected personal data), and STATUS CONFIRMED
    or CANCELLED. Written in the person's language variant;
    the description points staff to the inbox and the person to their requests."""
    locale = "sv_FI" if person.country == "FI" else "sv"
    translations = i18n.translations(locale)
    zone = zone_of(person)
    cancelled = meeting.cancelled_at is not None
    calendar = Calendar()
    calendar.add("prodid", "-//SIP-portalen//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid(meeting))
    event.add("sequence", meeting.sequence + (1 if cancelled else 0))
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    summary = translations.gettext("Samordningsmöte (SIP)")
    if cancelled:
        event.add("status", "CANCELLED")
        summary = translations.gettext("Inställt: %(summary)s") % {"summary": summary}
    else:
        event.add("status", "CONFIRMED")
    event.add("summary", summary)
    if may_see_places(person, None):
        event.add("location", meeting.place)
    if for_staff:
        description = translations.gettext("Läs ärendet i SIP-portalen.") + f"\n{base_url}/personal/inkorg"
    else:
        description = translations.gettext(
            "Ni pratar om vilken hjälp du behöver och vem som gör vad. Läs mer i SIP-portalen.")
        description += f"\n{base_url}/"
    event.add("description", description)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
