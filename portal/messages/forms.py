"""Reading the message forms: only whitelisted fields, plain-language errors.

Text is kept as typed (any Unicode, shown escaped, never as HTML); only NUL and
other control characters that cannot be stored or shown are refused. Errors are
message ids by field name, translated where they are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.consent.forms import KEY_PATTERN, new_key
from portal.core.i18n import N_
from portal.core.inputs import plain_text
from portal.messages.services import BODY_MAX, SUBJECT_MAX

# C0 controls except tab, line feed and carriage return; DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOTE_MAX = BODY_MAX
STAFF_ACTIONS = ("answer", "note", "assign", "close", "reopen")

FORM_INCOMPLETE = N_("Formuläret var ofullständigt. Kontrollera det du skrev och skicka igen.")


@dataclass
class MessageForm:
    """A new question (recipient, subject, body) or a reply (body only). The subject is
    the form field `topic`: `subject` names the person the form was shown for."""

    recipient: str = ""
    subject: str = ""
    body: str = ""
    key: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class StaffForm:
    """One of the staff actions on a thread (STAFF_ACTIONS)."""

    action: str = ""
    body: str = ""
    staff_id: str = ""
    key: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _text(form, name: str) -> str:
    return plain_text(form.get(name))


def _key(form, errors: dict[str, str]) -> str:
    key = _text(form, "idempotency_key")
    if not KEY_PATTERN.match(key):
        errors["form"] = FORM_INCOMPLETE
        return new_key()
    return key


def check_body(body: str, errors: dict[str, str], name: str = "body", *,
               empty: str = N_("Skriv ditt meddelande.")) -> None:
    """A message text: not empty, at most BODY_MAX characters, nothing that cannot be stored."""
    if not body.strip():
        errors[name] = empty
    elif len(body) > BODY_MAX:
        errors[name] = N_("Texten får vara högst 10 000 tecken. Dela upp den i två meddelanden.")
    elif _CONTROL.search(body):
        errors[name] = N_("Texten innehåller tecken som inte går att spara. Ta bort dem och "
                          "skicka igen.")


def read_new_message(form, allowed: set[str]) -> MessageForm:
    """The new-question form. `allowed` holds the recipient values offered
    (`services.Recipient.value`); anything else is an error on `recipient`."""
    data = MessageForm(recipient=_text(form, "recipient"), subject=_text(form, "topic"),
                       body=_text(form, "body"))
    data.key = _key(form, data.errors)
    if data.recipient not in allowed:
        data.recipient = ""
        data.errors["recipient"] = N_("Välj vem du vill skicka frågan till.")
    # One line: a pasted line break in the subject becomes a space.
    data.subject = " ".join(data.subject.split())
    if not data.subject.strip():
        data.errors["topic"] = N_("Skriv vad frågan gäller, med några ord.")
    elif len(data.subject) > SUBJECT_MAX:
        data.errors["topic"] = N_("Skriv vad frågan gäller med högst 120 tecken.")
    elif _CONTROL.search(data.subject):
        data.errors["topic"] = N_("Texten innehåller tecken som inte går att spara. Ta bort dem "
                                    "och skicka igen.")
    check_body(data.body, data.errors)
    return data


def read_reply(form) -> MessageForm:
    """A reply in a thread: the text and the form's key."""
    data = MessageForm(body=_text(form, "body"))
    data.key = _key(form, data.errors)
    check_body(data.body, data.errors)
    return data


def read_staff_form(form, colleague_ids: set[str]) -> StaffForm:
    """A staff action on a thread: `answer` and `note` need a text, `assign` a colleague
    among `colleague_ids`; `close` and `reopen` nothing more."""
    data = StaffForm(action=_text(form, "action"), body=_text(form, "body"),
                     staff_id=_text(form, "staff_id"))
    if data.action not in STAFF_ACTIONS:
        data.action = ""
        data.errors["action"] = N_("Välj vad du vill göra.")
        data.key = new_key()
        return data
    if data.action in ("answer", "note"):
        data.key = _key(form, data.errors)
        check_body(data.body, data.errors, "body" if data.action == "answer" else "note",
                   empty=N_("Skriv ditt svar.") if data.action == "answer"
                   else N_("Skriv anteckningen."))
    if data.action == "assign" and data.staff_id not in colleague_ids:
        data.errors["staff_id"] = N_("Välj vem som ska ha ärendet.")
    return data
