"""How a person wants notices: by e-mail, by SMS, both or none, and to which address
and number. Personal: only the signed-in person changes their own (never someone
they act for).

A changed address or number is confirmed to the OLD one (notice `contact_changed`,
OutboxMessage.to_address) and to the new one, in the transaction that saves it. The
form carries the revision it was shown with (`revision`): a form from another tab,
shown before a change, is refused (`StaleForm`); sending the same choices again
changes nothing and queues nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from portal.audit.service import Actor, record
from portal.core.i18n import N_
from portal.core.inputs import BadInput
from portal.notices import outbox, sms
from portal.people.models import Person

EMAIL_MAX = 254
# One @, something before it, a domain with a dot after it; no spaces or line breaks.
_EMAIL = re.compile(r"[^@\s\"<>,;:()\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,63}")
_REVISION = re.compile(r"[0-9a-f]{16}", re.ASCII)

EMAIL_FORMAT = N_("Skriv e-postadressen som namn@exempel.se.")
EMAIL_NEEDED = N_("Skriv din e-postadress, eller välj bort e-post.")
PHONE_NEEDED = N_("Skriv ditt mobilnummer, eller välj bort sms.")
NO_SMS = N_("Det går inte att få sms från SIP-portalen än. Välj e-post eller inget.")


class StaleForm(Exception):
    """The settings changed after the form was shown (another tab): nothing saved;
    `person` holds the settings as they are now."""

    def __init__(self, person: Person) -> None:
        super().__init__("stale settings form")
        self.person = person


@dataclass
class SettingsForm:
    """The settings form as typed: `email` and `phone` as written, `channels` a subset of
    {"email", "sms"}, `revision` the state it was shown for; `errors` field -> msgid."""

    channels: list[str] = field(default_factory=list)
    email: str = ""
    phone: str = ""
    revision: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    # Filled by read_form when valid: the e-mail as stored (None: none) and the number in E.164.
    clean_email: str | None = None
    clean_phone: str | None = None


@dataclass(frozen=True)
class Saved:
    """What `save` changed: whether anything did, and which contact details."""

    changed: bool
    email_changed: bool = False
    phone_changed: bool = False
    told_old: bool = False  # a notice went to the old address or number


def revision_of(person: Person) -> str:
    """A short digest of the person's notice settings (16 hex characters): it changes
    whenever any of them changes."""
    state = "\n".join([person.email or "", person.phone or "", str(person.notify_email),
                       str(person.notify_sms)])
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def form_for(person: Person) -> SettingsForm:
    """The form filled with the person's settings now."""
    channels = [c for c, on in (("email", person.notify_email), ("sms", person.notify_sms)) if on]
    return SettingsForm(channels=channels, email=person.email or "",
                        phone=sms.shown_number(person.phone) if person.phone else "",
                        revision=revision_of(person))


def read_form(form, person: Person, sms_enabled: bool) -> SettingsForm:
    """Read only the whitelisted fields (channel, email, phone, revision) and check them;
    `person.country` decides how a number without a country code is read."""
    channels = [str(c) for c in form.getall("channel", [])] if hasattr(form, "getall") else []
    data = SettingsForm(channels=[c for c in ("email", "sms") if c in channels],
                        email=str(form.get("email") or "")[:EMAIL_MAX * 2],
                        phone=str(form.get("phone") or "")[:sms.PHONE_MAX * 2],
                        revision=str(form.get("revision") or ""))
    email = data.email.strip()
    if email:
        if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
            data.errors["email"] = EMAIL_FORMAT
        else:
            data.clean_email = email
    elif "email" in data.channels:
        data.errors["email"] = EMAIL_NEEDED
    phone = data.phone.strip()
    if phone:
        try:
            data.clean_phone = sms.normalise_mobile(phone, person.country)
        except BadInput as exc:
            data.errors["phone"] = exc.message
    elif "sms" in data.channels and sms_enabled:
        data.errors["phone"] = PHONE_NEEDED
    if "sms" in data.channels and not sms_enabled:
        data.errors["channel"] = NO_SMS
    return data


async def save(db: AsyncSession, person: Person, data: SettingsForm, sms_enabled: bool) -> Saved:
    """Store a valid form's choices for `person` (the signed-in person themself) in the
    caller's transaction, audit it (which settings changed, never the addresses) and
    queue `contact_changed` to the old and the new address or number.

    Returns Saved(changed=False) when the form asks for what is already stored (a double
    submit); raises StaleForm when the form was shown for other settings."""
    # The row as stored now, locked on PostgreSQL: of two posts at once the second waits
    # here and then sees the first one's result. (`person` may be the viewer's detached copy.)
    locked = db.bind.dialect.name == "postgresql"
    person = await db.get(Person, person.id, populate_existing=True,
                          with_for_update=True if locked else None)
    wanted_email, wanted_sms = "email" in data.channels, "sms" in data.channels
    wanted = (data.clean_email, data.clean_phone, wanted_email, wanted_sms)
    if wanted == (person.email, person.phone, person.notify_email, person.notify_sms):
        return Saved(changed=False)
    if not _REVISION.fullmatch(data.revision) or data.revision != revision_of(person):
        raise StaleForm(person)
    old_email, old_phone = person.email, person.phone
    email_changed, phone_changed = data.clean_email != old_email, data.clean_phone != old_phone
    person.email, person.phone = data.clean_email, data.clean_phone
    person.notify_email, person.notify_sms = wanted_email, wanted_sms
    db.add(person)
    await record(db, "notice_settings.changed", Actor("person", person.id, "self"),
                 subject_person_id=person.id, object_type="person", object_id=person.id,
                 detail={"email": wanted_email, "sms": wanted_sms,
                         "email_changed": email_changed, "phone_changed": phone_changed})
    told_old = False
    if email_changed and old_email:
        outbox.enqueue_to(db, person, "contact_changed", outbox.EMAIL, to_address=old_email)
        told_old = True
    if phone_changed and old_phone and sms_enabled:
        outbox.enqueue_to(db, person, "contact_changed", outbox.SMS, to_address=old_phone)
        told_old = True
    if email_changed and data.clean_email:
        outbox.enqueue_to(db, person, "contact_changed", outbox.EMAIL)
    if phone_changed and data.clean_phone and sms_enabled and wanted_sms:
        outbox.enqueue_to(db, person, "contact_changed", outbox.SMS)
    return Saved(changed=True, email_changed=email_changed, phone_changed=phone_changed,
                 told_old=told_old)
