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

Channels: `enqueue` writes one row per channel the person chose (Person.notify_email
with an e-mail address; Person.notify_sms with a mobile number, when an SMS provider is
configured: the session's `info["sms_enabled"]`, set by create_app). An SMS is one short
line per template (SMS_TEXTS) in the recipient's locale, sent through
`portal.notices.sms`. `enqueue_staff` writes an e-mail row to a staff member
(StaffMember.email). A row with `to_address` goes there instead of the recipient's
current address (a change of address is confirmed to the old one).

Delivery is at least once: a row is marked sent in the transaction that locked it, so a
crash between sending and committing sends it again (the e-mail with the same
Message-ID, so receivers can drop the duplicate); it is never lost. A row waits while
its channel is not configured in the worker (no SMTP host, no SMS provider).

What a crash does, precisely (tests/faults/test_worker_killed.py kills a real process):
- before the server's 250 (the process killed while the SMTP server still holds the
  message): the server has not taken the message, the database drops the lock and the
  uncommitted attempt with the connection, and the next round (this process restarted,
  or another) sends it once;
- after the 250 and before the commit: the server has taken it and the row still says
  unsent, so it goes again with the same Message-ID. This window (one round trip to
  the database) is what stays at-least-once; no outbox can close it without the
  receiver's help (RFC 5322 3.6.4: a receiver may drop a repeated Message-ID);
- an SMS has no Message-ID: in the same window it may be sent twice.
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
from portal.notices import sms
from portal.notices.models import OutboxMessage
from portal.people.models import Person, StaffMember

log = logging.getLogger("portal.notices")
# Retries back off from one minute to at most an hour: about three days of trying
# before a row is given up (an outage of SMTP or the SMS provider loses nothing).
MAX_ATTEMPTS = 80
MAX_BACKOFF = timedelta(hours=1)
EMAIL, SMS = "email", "sms"

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
    "proxy_invited": (
        N_("Du har fått en inbjudan i SIP-portalen"),
        N_("Hej!\n\nNågon vill att du ska kunna använda SIP-portalen åt hen. Logga in för att se "
           "inbjudan och svara."),
    ),
    "proxy_ended": (
        N_("Något har ändrats i SIP-portalen"),
        N_("Hej!\n\nDet har ändrats vem du kan använda SIP-portalen för. Logga in för att se "
           "vad som gäller nu."),
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

# One short line per template: no name, no unit, no text (an SMS is often read on a
# locked screen).
SMS_TEXTS = {
    "consent_changed": N_("SIP-portalen: Något har ändrats om samtycke. Logga in för att se vad."),
    "consent_reminder": N_("SIP-portalen: Påminnelse om en fråga om samtycke. Logga in för att "
                           "se den."),
    "plan_published": N_("SIP-portalen: Det finns en ny version av en plan. Logga in för att "
                         "läsa den."),
    "consent_waiting": N_("SIP-portalen: En fråga om samtycke väntar på ditt svar. Logga in "
                          "för att se den."),
    "message_answered": N_("SIP-portalen: Du har ett nytt meddelande. Logga in för att läsa det."),
    "request_changed": N_("SIP-portalen: Det har hänt något i ett ärende. Logga in för att se "
                          "vad."),
    "meeting_booked": N_("SIP-portalen: Det finns en tid för ett samordningsmöte. Logga in för "
                         "att se när."),
    "proxy_invited": N_("SIP-portalen: Du har fått en inbjudan. Logga in för att svara."),
    "proxy_ended": N_("SIP-portalen: Det har ändrats vem du kan använda tjänsten för. Logga in "
                      "för att se vad."),
    "follow_up_overdue": N_("SIP-portalen: En uppföljning har inte blivit av. Logga in och se "
                            "din inkorg."),
    "contact_changed": N_("SIP-portalen: Dina kontaktuppgifter har ändrats. Var det inte du? "
                          "Logga in och ändra dem."),
}

FOOTER = N_("Det här är ett automatiskt meddelande. Svar till den här adressen läses inte. "
            "Du når SIP-portalen på %(address)s")


def locale_for(person: Person) -> str:
    return "sv_FI" if person.country == "FI" else "sv"


def sms_enabled(db: AsyncSession) -> bool:
    """Whether this app sends SMS (create_app puts it in every session's info)."""
    return bool(db.info.get("sms_enabled"))


async def enqueue(db: AsyncSession, person: Person, template: str,
                  delay: timedelta | None = None) -> list[OutboxMessage]:
    """Queue notice `template` (one of TEMPLATES) to `person` in the caller's transaction:
    one row per channel they chose and can be reached on (see the module docstring);
    `delay` puts the first attempt later. Returns the rows (none: the person gets no
    notices). Raises ValueError for an unknown template."""
    channels = []
    if person.notify_email and person.email:
        channels.append(EMAIL)
    if person.notify_sms and person.phone and sms_enabled(db):
        channels.append(SMS)
    return [enqueue_to(db, person, template, channel, delay=delay) for channel in channels]


def enqueue_to(db: AsyncSession, person: Person, template: str, channel: str,
               to_address: str | None = None, delay: timedelta | None = None) -> OutboxMessage:
    """One row: `template` to `person` by `channel` (EMAIL or SMS), to `to_address` (an
    e-mail address or an E.164 number) instead of their current one when given."""
    if template not in TEMPLATES:
        raise ValueError(template)
    message = OutboxMessage(person_id=person.id, template=template, locale=locale_for(person),
                            channel=channel, to_address=to_address,
                            next_attempt_at=utcnow() + (delay or timedelta(0)))
    db.add(message)
    return message


async def enqueue_staff(db: AsyncSession, staff: StaffMember, template: str,
                        locale: str = "sv") -> OutboxMessage | None:
    """Queue notice `template` by e-mail to a staff member (StaffMember.email), e.g.
    follow_up_overdue to a coordinator, in `locale` ("sv" or "sv_FI": the unit's
    country). None when the staff member has no e-mail address."""
    if template not in TEMPLATES:
        raise ValueError(template)
    if not staff.email:
        return None
    message = OutboxMessage(staff_id=staff.id, template=template, locale=locale, channel=EMAIL)
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


def render_sms(message: OutboxMessage) -> str:
    """The notice as an SMS text in its locale (SMS_TEXTS)."""
    return i18n.translations(message.locale).gettext(SMS_TEXTS[message.template])


def ready_channels(settings: Settings) -> list[str]:
    """The channels this worker can send on: e-mail with an SMTP host, SMS with a provider."""
    return [channel for channel, ready in ((EMAIL, bool(settings.smtp_host)),
                                           (SMS, settings.sms_enabled)) if ready]


async def address_of(db: AsyncSession, message: OutboxMessage) -> str | None:
    """Where the row goes now: its `to_address`, else the staff member's e-mail, else the
    person's e-mail or mobile number (by channel); None when there is none any more."""
    if message.to_address:
        return message.to_address
    if message.staff_id:
        staff = await db.get(StaffMember, message.staff_id)
        return staff.email if staff and message.channel == EMAIL else None
    person = await db.get(Person, message.person_id) if message.person_id else None
    if person is None:
        return None
    return person.email if message.channel == EMAIL else person.phone


async def send_one(message: OutboxMessage, to: str, settings: Settings) -> None:
    """Send the row by its channel. Raises sms.SMSRejected when it can never be sent,
    anything else (SMTP, network, sms.SMSUnavailable) when it may be sent later."""
    if message.channel == SMS:
        await sms.send(settings, to, render_sms(message))
    else:
        await aiosmtplib.send(render(message, to, settings),
                              hostname=settings.smtp_host, port=settings.smtp_port, timeout=10)


def backoff(attempts: int) -> timedelta:
    """The wait after `attempts` failed tries: 1, 2, 4 … minutes, at most MAX_BACKOFF."""
    return min(timedelta(seconds=30 * 2 ** min(attempts, 20)), MAX_BACKOFF)


async def deliver_due(db: AsyncSession, settings: Settings, limit: int = 50) -> int:
    """Send due notices on the channels configured in `settings`, one transaction each;
    return how many were sent.

    On PostgreSQL each row is locked (SKIP LOCKED) while it is sent, so several
    workers never send the same notice; a crash mid-batch resends nothing sent
    (a crash between sending one row and committing it sends that row again).
    """
    channels = ready_channels(settings)
    if not channels:
        return 0
    sent = 0
    skipped: set[str] = set()
    for _ in range(limit):
        query = (
            select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None),
                                        OutboxMessage.next_attempt_at <= utcnow(),
                                        OutboxMessage.attempts < MAX_ATTEMPTS,
                                        col(OutboxMessage.channel).in_(channels),
                                        col(OutboxMessage.id).not_in(skipped))
            .order_by(col(OutboxMessage.created_at)).limit(1)
        )
        if db.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        message = (await db.exec(query)).first()
        if message is None:
            break
        to = await address_of(db, message)
        if not to:
            message.attempts = MAX_ATTEMPTS
            message.last_error = "no address"
            await db.commit()
            continue
        try:
            await send_one(message, to, settings)
        except sms.SMSRejected as exc:
            message.attempts = MAX_ATTEMPTS
            message.last_error = f"rejected: {exc}"[:200]
            log.warning("notice %s refused by the SMS provider: %s", message.id, exc)
            skipped.add(message.id)
            await db.commit()
            continue
        except Exception as exc:
            message.attempts += 1
            message.last_error = type(exc).__name__
            message.next_attempt_at = utcnow() + backoff(message.attempts)
            log.warning("notice %s (%s) not sent (attempt %s): %s", message.id, message.channel,
                        message.attempts, type(exc).__name__)
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
