"""Notices by e-mail through an outbox.

`enqueue` writes a row in the caller's transaction, so a notice exists if
and only if the event it tells of was stored. `deliver_due` sends what is
due over SMTP and retries with back-off; an SMTP outage loses nothing.
Notices never contain what happened: only that something changed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage

import aiosmtplib
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.config import Settings
from portal.core import i18n
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
           "har hänt.\n\nDet här meddelandet går inte att svara på."),
    ),
    "consent_reminder": (
        N_("Påminnelse från SIP-portalen"),
        N_("Hej!\n\nFör en vecka sedan ville du tänka på en fråga om samtycke i SIP-portalen. "
           "Du kan svara när du vill. Logga in för att se frågan.\n\n"
           "Det här meddelandet går inte att svara på."),
    ),
    "plan_published": (
        N_("Det finns en ny version av planen"),
        N_("Hej!\n\nDet finns en ny version av en plan i SIP-portalen. Logga in för att läsa "
           "den.\n\nDet här meddelandet går inte att svara på."),
    ),
    "consent_waiting": (
        N_("Du behöver svara i SIP-portalen"),
        N_("Hej!\n\nDet finns en fråga om samtycke som väntar på ditt svar i SIP-portalen. "
           "Logga in för att se den.\n\nDet här meddelandet går inte att svara på."),
    ),
}


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


def render(message: OutboxMessage, to: str, settings: Settings) -> EmailMessage:
    subject, body = TEMPLATES[message.template]
    translations = i18n.translations(message.locale)
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = to
    email["Subject"] = translations.gettext(subject)
    email["Message-ID"] = f"<{message.id}@sip-portal>"
    link = settings.base_url + "/"
    email.set_content(translations.gettext(body) + "\n\n" + link + "\n")
    return email


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
        person = await db.get(Person, message.person_id)
        if person is None or not person.email:
            message.attempts = MAX_ATTEMPTS
            message.last_error = "no address"
            await db.commit()
            continue
        try:
            await aiosmtplib.send(render(message, person.email, settings),
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
                await deliver_due(db, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("outbox round failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
