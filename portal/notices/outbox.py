"""Notices by e-mail through an outbox.

`enqueue` writes a row in the caller's transaction, so a notice exists if
and only if the event it tells of was stored. `deliver_due` sends what is
due over SMTP and retries with back-off; an SMTP outage loses nothing.
Notices never contain what happened: only that something changed (no name,
no unit, no national id, no message text).

Every message has the headers receivers expect of machine-sent mail: `Date`
(RFC 5322 3.6.1, the time of sending in UTC), `Message-ID` (3.6.4, one per
notice, the same on every retry so a receiver can drop a duplicate sent after a
lost reply) and `Auto-Submitted: auto-generated` (RFC 3834 5, so that
auto-responders do not answer it). The text ends with FOOTER: replies are not
read, and the portal's address (settings.base_url).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import aiosmtplib
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.config import Settings
from portal.core import i18n
from portal.core.clock import local_date
from portal.core.i18n import N_
from portal.core.ids import utcnow
from portal.notices.models import OutboxMessage
from portal.people.models import Person

log = logging.getLogger("portal.notices")
MAX_ATTEMPTS = 8

TEMPLATES = {
    "consent_changed": (
        N_("Något har ändrats i SIP-portalen"),
        N_("Hej!\n\nDet finns en ändring om samtycke i SIP-portalen. Logga in för att se vad som "
           "har hänt."),
    ),
    "consent_reminder": (
        N_("Påminnelse från SIP-portalen"),
        N_("Hej!\n\nFör en vecka sedan ville du tänka på en fråga om samtycke i SIP-portalen. "
           "Du kan svara när du vill. Logga in för att se frågan."),
    ),
    "plan_published": (
        N_("Det finns en ny version av planen"),
        N_("Hej!\n\nDet finns en ny version av en plan i SIP-portalen. Logga in för att läsa "
           "den."),
    ),
    "consent_waiting": (
        N_("Du behöver svara i SIP-portalen"),
        N_("Hej!\n\nDet finns en fråga om samtycke som väntar på ditt svar i SIP-portalen. "
           "Logga in för att se den."),
    ),
    "message_answered": (
        N_("Du har ett nytt meddelande"),
        N_("Hej!\n\nDu har ett nytt meddelande i SIP-portalen. Logga in för att läsa det."),
    ),
    "request_changed": (
        N_("Något har hänt med ett ärende"),
        N_("Hej!\n\nDet har hänt något i ett ärende om samordning i SIP-portalen. Logga in för "
           "att se vad."),
    ),
    "meeting_booked": (
        N_("Det finns en tid för ett möte"),
        N_("Hej!\n\nDet finns en ny tid för ett samordningsmöte i SIP-portalen. Logga in för att "
           "se när och var."),
    ),
    "follow_up_overdue": (
        N_("En uppföljning har inte blivit av"),
        N_("Hej!\n\nEn plan där du är samordnare skulle ha följts upp. Logga in i SIP-portalen "
           "och se din inkorg."),
    ),
    "contact_changed": (
        N_("Dina kontaktuppgifter har ändrats"),
        N_("Hej!\n\nDina kontaktuppgifter i SIP-portalen har ändrats. Om det inte var du, logga "
           "in och ändra dem, eller ring din samordnare."),
    ),
}

FOOTER = N_("Det här är ett automatiskt meddelande. Svar till den här adressen läses inte. "
            "Du når SIP-portalen på %(address)s")


def locale_for(person: Person) -> str:
    return "sv_FI" if person.country == "FI" else "sv"


async def enqueue(db: AsyncSession, person: Person, template: str,
                  delay: timedelta | None = None) -> OutboxMessage | None:
    if template not in TEMPLATES:
        raise ValueError(template)
    if not person.email:
        return None
    message = OutboxMessage(person_id=person.id, template=template, locale=locale_for(person),
                            next_attempt_at=utcnow() + (delay or timedelta(0)))
    db.add(message)
    return message


async def enqueue_staff(db: AsyncSession, staff, template: str, *,
                        locale: str = "sv") -> OutboxMessage | None:
    """A notice to a staff member (`StaffMember`) at their work e-mail, e.g. a coordinator
    told of a slipped follow-up; None when they have no address."""
    if template not in TEMPLATES:
        raise ValueError(template)
    if not staff.email:
        return None
    message = OutboxMessage(staff_id=staff.id, template=template, locale=locale)
    db.add(message)
    return message


async def notify(db: AsyncSession, person: Person, template: str, *, followers: str | None = None,
                 today: date | None = None) -> None:
    """Tell the person that something happened (`template`, one of TEMPLATES), in the
    caller's transaction; with `followers` (a `Scope` value, e.g. "requests"), also every
    representative whose representation is valid on `today` (the person's date) and
    has that scope. Never a name, a unit or a text in the notice itself."""
    from portal.people.models import Representation
    from portal.people.representation import is_valid

    await enqueue(db, person, template)
    if followers is None:
        return
    today = today or local_date(utcnow(), person)
    rows = (await db.exec(select(Representation, Person)
                          .join(Person, Person.id == Representation.representative_id)
                          .where(Representation.represented_id == person.id))).all()
    for rep, follower in rows:
        if followers in rep.scopes and is_valid(rep, person, today):
            await enqueue(db, follower, template)


def message_id(message: OutboxMessage, settings: Settings) -> str:
    """The notice's Message-ID, "<outbox id@portal host>": the host of settings.base_url
    (e.g. sip.example.se), and the outbox row's id (core.ids.new_id: letters, digits, "-"
    and "_", all allowed in a msg-id, RFC 5322 3.6.4), so it is unique and stays the
    same when the notice is retried. (Not email.utils.make_msgid: that is new each time.)"""
    host = urlsplit(settings.base_url).hostname or "sip-portalen.invalid"
    return f"<{message.id}@{host}>"


def render(message: OutboxMessage, to: str, settings: Settings,
           now: datetime | None = None) -> EmailMessage:
    """The notice as an e-mail in its locale; `now` (aware) is the time of sending
    for `Date` (utcnow() when not given). See the module docstring for the headers."""
    subject, body = TEMPLATES[message.template]
    translations = i18n.translations(message.locale)
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = to
    email["Subject"] = translations.gettext(subject)
    email["Date"] = format_datetime((now or utcnow()).astimezone(UTC))
    email["Message-ID"] = message_id(message, settings)
    email["Auto-Submitted"] = "auto-generated"
    footer = translations.gettext(FOOTER) % {"address": settings.base_url + "/"}
    email.set_content(translations.gettext(body) + "\n\n" + footer + "\n")
    return email


async def _address(db: AsyncSession, message: OutboxMessage) -> str | None:
    """The recipient's current e-mail: the staff member's (staff_id) or the person's."""
    if message.staff_id:
        from portal.people.models import StaffMember

        staff = await db.get(StaffMember, message.staff_id)
        return staff.email if staff else None
    person = await db.get(Person, message.person_id) if message.person_id else None
    return person.email if person else None


async def deliver_due(db: AsyncSession, settings: Settings, limit: int = 50) -> int:
    """Send due notices, one transaction each; return how many were sent.

    On PostgreSQL each row is locked (SKIP LOCKED) while it is sent, so several
    workers never send the same notice; a crash mid-batch resends nothing sent.
    """
    sent = 0
    skipped: set[str] = set()
    for _ in range(limit):
        query = (
            select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None),
                                        OutboxMessage.next_attempt_at <= utcnow(),
                                        OutboxMessage.attempts < MAX_ATTEMPTS,
                                        col(OutboxMessage.id).not_in(skipped))
            .order_by(col(OutboxMessage.created_at)).limit(1)
        )
        if db.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        message = (await db.exec(query)).first()
        if message is None:
            break
        address = await _address(db, message)
        if not address:
            message.attempts = MAX_ATTEMPTS
            message.last_error = "no address"
            await db.commit()
            continue
        try:
            await aiosmtplib.send(render(message, address, settings),
                                  hostname=settings.smtp_host, port=settings.smtp_port, timeout=10)
        except Exception as exc:
            message.attempts += 1
            message.last_error = type(exc).__name__
            message.next_attempt_at = utcnow() + timedelta(seconds=30 * 2 ** message.attempts)
            log.warning("notice %s not sent (attempt %s): %s", message.id, message.attempts,
                        type(exc).__name__)
            skipped.add(message.id)
            await db.commit()
            continue
        message.sent_at = utcnow()
        message.attempts += 1
        sent += 1
        await db.commit()
    return sent


async def run_worker(sessionmaker, settings: Settings, interval: float = 5.0) -> None:
    """Background loop in each app process (rows are locked while sent on PostgreSQL)."""
    while True:
        try:
            async with sessionmaker() as db:
                from portal.plans.follow_ups import check_follow_ups

                await check_follow_ups(db, utcnow())
                await db.commit()
                await deliver_due(db, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("outbox round failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
