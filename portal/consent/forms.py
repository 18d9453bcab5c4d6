"""Reading the consent forms: only whitelisted fields, plain-language errors."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from portal.core.i18n import N_

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NOTE_MAX = 1000


def new_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class ConsentForm:
    decision: str = ""
    units: list[str] = field(default_factory=list)
    key: str = ""
    seen_seq: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def read_person_form(form) -> ConsentForm:
    data = ConsentForm(
        decision=str(form.get("decision") or ""),
        units=[str(u) for u in form.getall("unit", [])] if hasattr(form, "getall") else [],
        key=str(form.get("idempotency_key") or ""),
    )
    try:
        data.seen_seq = int(form.get("seen_seq") or 0)
    except ValueError:
        data.seen_seq = -1
    if data.decision not in ("give", "think", "withdraw"):
        data.errors["decision"] = N_("Välj vad du vill svara.")
    if not KEY_PATTERN.match(data.key):
        data.key = new_key()
        data.errors["form"] = N_("Formuläret var ofullständigt. Kontrollera ditt val och skicka igen.")
    return data


@dataclass
class StaffConsentForm(ConsentForm):
    method: str = ""
    given_by: str = ""
    date: str = ""
    time: str = ""
    note: str = ""
    occurred_at: datetime | None = None


def read_staff_form(form, tz: ZoneInfo, deciders: set[str]) -> StaffConsentForm:
    base = read_person_form(form)
    data = StaffConsentForm(decision=base.decision, units=base.units, key=base.key,
                            seen_seq=base.seen_seq, errors=dict(base.errors))
    data.method = str(form.get("method") or "")
    data.given_by = str(form.get("given_by") or "")
    data.date = str(form.get("date") or "").strip()
    data.time = str(form.get("time") or "").strip()
    data.note = str(form.get("note") or "")
    if data.decision not in ("give", "withdraw"):
        data.errors.pop("decision", None)
        data.errors["decision"] = N_("Välj om personen sa ja eller tog tillbaka sitt samtycke.")
    if not data.units:
        data.errors["unit"] = N_("Välj minst en verksamhet.")
    if data.method not in ("oral", "paper"):
        data.errors["method"] = N_("Välj hur personen lämnade sitt besked.")
    if data.given_by not in deciders:
        data.errors["given_by"] = N_("Välj vem som lämnade beskedet.")
    if not data.note.strip():
        data.errors["note"] = N_("Skriv hur och var beskedet lämnades.")
    elif len(data.note) > NOTE_MAX:
        data.errors["note"] = N_("Anteckningen får vara högst 1000 tecken.")
    elif "\x00" in data.note:
        data.errors["note"] = N_("Anteckningen innehåller tecken som inte går att spara.")
    try:
        day = datetime.strptime(data.date, "%Y-%m-%d").date()
        clock = datetime.strptime(data.time, "%H:%M").time() if data.time else time(12, 0)
        # In UTC: SQLite keeps no zone, so a local time would be read back as UTC.
        data.occurred_at = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
        from portal.core.ids import utcnow

        if not data.time and day == utcnow().astimezone(tz).date():
            data.occurred_at = min(data.occurred_at, utcnow())  # today, time unknown: not noon
        if data.occurred_at > utcnow():
            data.errors["date"] = N_("Datumet kan inte vara i framtiden.")
    except ValueError:
        data.errors["date"] = N_("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-11-23.")
    return data
