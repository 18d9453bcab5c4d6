"""Reading the steps of "Be om samordning": only whitelisted fields, plain-language errors.

Each `read_*` function takes the posted form (a multi-dict) and returns a `Step`:
`answers` (what goes into the draft, JSON-able) and `typed` (what to show again),
and `errors` by field name (message ids, translated where shown). Free text is any
Unicode up to a stated length, without NUL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.core.i18n import N_
from portal.core.inputs import plain_text

HARD_MAX = 4000  # characters, "what is hard right now"
OTHER_MAX = 300  # characters, "someone else" (a name of an actor)
TIMES_MAX = 200  # characters, "good times to call"
# A phone number as people write it: digits with spaces, dashes, parentheses and a
# leading + (070-123 45 67, +358 40 123 4567); 7 to 15 digits (ITU-T E.164 allows 15).
PHONE_SEPARATORS = re.compile(r"[\s().-]")
PHONE = re.compile(r"\+?[0-9]{7,15}", re.ASCII)
UNKNOWN = "unknown"  # the "Jag vet inte" box among the units
CONTACT_WAYS = ("phone", "portal")
CONSENT_CHOICES = ("now", "later")
BAD_CHARACTERS = N_("Texten innehåller tecken som inte går att spara. Ta bort dem och försök igen.")


@dataclass
class Step:
    answers: dict = field(default_factory=dict)
    typed: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _text(form, name: str) -> str:
    return plain_text(form.get(name))


def _check_text(text: str, limit: int, too_long: str) -> str | None:
    """The error for a free text (a message id), or None."""
    if "\x00" in text:
        return BAD_CHARACTERS
    if len(text) > limit:
        return too_long
    return None


def read_hard(form) -> Step:
    """Step 2: `hard`, what is hard right now in the person's own words (1..HARD_MAX)."""
    text = _text(form, "hard")
    step = Step(typed={"hard": text})
    error = _check_text(text, HARD_MAX, N_("Texten får vara högst 4000 tecken. Korta den lite."))
    if error is None and not text.strip():
        error = N_("Skriv med egna ord vad som är svårt just nu.")
    if error:
        step.errors["hard"] = error
    else:
        step.answers = {"hard": text.strip()}
    return step


def read_units(form, offered: set[str]) -> Step:
    """Step 3: `unit` (ids among `offered`, the units near the person, or "unknown" for
    "Jag vet inte") and `other` (a name in free text, up to OTHER_MAX). At least one."""
    chosen = [str(u) for u in form.getall("unit", [])] if hasattr(form, "getall") else []
    unknown = UNKNOWN in chosen
    picked = [u for u in dict.fromkeys(chosen) if u != UNKNOWN]
    units = [u for u in picked if u in offered]
    other = _text(form, "other")
    step = Step(typed={"units": units + ([UNKNOWN] if unknown else []), "other": other})
    error = _check_text(other, OTHER_MAX, N_("Namnet får vara högst 300 tecken."))
    if error:
        step.errors["other"] = error
    elif len(units) != len(picked):
        step.errors["unit"] = N_("Välj bland verksamheterna i listan.")
    elif not units and not other.strip() and not unknown:
        step.errors["unit"] = N_("Välj minst en verksamhet, skriv ett namn eller välj Jag vet inte.")
    elif unknown and (units or other.strip()):
        step.errors["unit"] = N_("Välj Jag vet inte bara om du inte har valt någon verksamhet.")
    if not step.errors:
        step.answers = {"units": units, "other": other.strip(), "unknown": unknown,
                        "units_answered": True}
    return step


def normalise_phone(value: str) -> str | None:
    """`value` without separators when it is a phone number (7-15 digits, optional +), else None."""
    compact = PHONE_SEPARATORS.sub("", value.strip())
    return compact if PHONE.fullmatch(compact) else None


def read_contact(form) -> Step:
    """Step 4: `contact` ("phone" or "portal"); for phone a valid `phone` and optional `times`."""
    way, phone, times = _text(form, "contact"), _text(form, "phone"), _text(form, "times")
    step = Step(typed={"contact": way, "phone": phone, "times": times})
    if way not in CONTACT_WAYS:
        step.errors["contact"] = N_("Välj hur du vill att vi kontaktar dig.")
        return step
    if way == "phone":
        if not phone.strip():
            step.errors["phone"] = N_("Skriv ditt telefonnummer.")
        elif "\x00" in phone or normalise_phone(phone) is None:
            step.errors["phone"] = N_("Skriv telefonnumret med siffror, till exempel 070-123 45 67.")
        error = _check_text(times, TIMES_MAX, N_("Tiderna får vara högst 200 tecken."))
        if error:
            step.errors["times"] = error
    if not step.errors:
        step.answers = {"contact": way,
                        "phone": phone.strip() if way == "phone" else "",
                        "times": times.strip() if way == "phone" else ""}
    return step


def read_consent(form, already_given: bool) -> Step:
    """Step 5: `consent` "now" or "later"; "given" when the person has already consented."""
    if already_given:
        return Step(answers={"consent": "given"})
    choice = _text(form, "consent")
    step = Step(typed={"consent": choice})
    if choice not in CONSENT_CHOICES:
        step.errors["consent"] = N_("Välj om du vill svara om samtycke nu eller senare.")
    else:
        step.answers = {"consent": choice}
    return step


def complete(answers: dict) -> str | None:
    """The first step (its path part) that still needs an answer, or None when all are given."""
    if not answers.get("hard"):
        return "vad"
    if not answers.get("units_answered"):
        return "vilka"
    if answers.get("contact") not in CONTACT_WAYS:
        return "kontakt"
    if answers.get("consent") not in (*CONSENT_CHOICES, "given"):
        return "samtycke"
    return None
