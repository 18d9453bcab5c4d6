"""Reading the consent forms: only whitelisted fields, plain-language errors."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.core.i18n import N_
from portal.core.ids import utcnow
from portal.core.inputs import (
    INT_MAX,
    TIME_TWICE,
    BadInput,
    happens_twice,
    local_datetime,
    parse_date,
    parse_int,
    parse_time,
)
from portal.core.page_cache import one_time

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NOTE_MAX = 1000
# Staff record a consent given earlier on paper or by word of mouth: never before
# this day (nor before the person was born), never in the future.
RECORDED_EARLIEST = date(1900, 1, 1)


def new_key() -> str:
    """A form's idempotency key: new for every page view, also of a kept page
    (portal.core.page_cache.one_time)."""
    return one_time(secrets.token_urlsafe(24), new_key)


@dataclass
class ConsentForm:
    decision: str = ""
    units: list[str] = field(default_factory=list)
    key: str = ""
    seen_seq: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    # What to search for when the person pressed "Sök" (SEARCH) in the form: a search,
    # no decision. None: the form was sent to decide.
    search: str | None = None


# The name and value of the consent form's "Sök" button.
SEARCH = ("action", "search")


def read_person_form(form) -> ConsentForm:
    """The person's consent form. Sent by its "Sök" button it asks for a search: the
    ticks, the key and the sequence are read (and kept), a decision is not."""
    data = ConsentForm(
        decision=str(form.get("decision") or ""),
        units=[str(u) for u in form.getall("unit", [])] if hasattr(form, "getall") else [],
        key=str(form.get("idempotency_key") or ""),
    )
    try:
        data.seen_seq = parse_int(form.get("seen_seq") or "0", 0, INT_MAX)
    except BadInput:
        data.seen_seq = -1  # never the current sequence: a stale form, nothing saved
    if form.get(SEARCH[0]) == SEARCH[1]:
        data.decision, data.search = "", str(form.get("sok") or "")
        if not KEY_PATTERN.match(data.key):
            data.key = new_key()
        return data
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
    notices: list[str] = field(default_factory=list)  # message ids to show once saved


def read_staff_form(form, tz: ZoneInfo, deciders: set[str],
                    born: date | None = None, now: datetime | None = None) -> StaffConsentForm:
    """The staff form for a consent given on paper or by word of mouth.

    `date` ("YYYY-MM-DD") and `time` ("HH:MM", optional) are the person's local
    time in `tz`; the date is from RECORDED_EARLIEST (or `born`, the person's
    birth date, if later) up to today in `tz`, and the moment not in the future.
    `occurred_at` is that moment in UTC (noon when no time is given; "now" when
    that is today and noon has not come yet). A wall time that does not exist in
    `tz` (the hour skipped when the clocks go forward) is an error on `time`; one
    that happens twice (the hour repeated when they go back) is the first, and
    `notices` says so (core.inputs.local_datetime). `now` (aware) is the request's time
    (`portal.core.clock`); the system clock when not given. Errors go in `errors` by
    field name.
    """
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
    now = now or utcnow()
    today = now.astimezone(tz).date()
    earliest = max(RECORDED_EARLIEST, born or RECORDED_EARLIEST)
    try:
        day = parse_date(data.date, earliest, today,
                         too_early=(N_("Personen var inte född då. Kontrollera datumet.")
                                    if born and born > RECORDED_EARLIEST else
                                    N_("Datumet är för långt bak i tiden. Kontrollera året.")),
                         too_late=N_("Datumet kan inte vara i framtiden."))
    except BadInput as bad:
        data.errors["date"] = bad.message
        return data
    try:
        clock = parse_time(data.time) if data.time else time(12, 0)
    except BadInput as bad:
        data.errors["time"] = bad.message
        return data
    try:
        local = local_datetime(day, clock, tz)
    except BadInput as bad:
        data.errors["time"] = bad.message
        return data
    if happens_twice(local):
        data.notices.append(TIME_TWICE)
    # In UTC: SQLite keeps no zone, so a local time would be read back as UTC.
    data.occurred_at = local.astimezone(UTC)
    if not data.time and day == today:
        data.occurred_at = min(data.occurred_at, now)  # today, time unknown: not noon
    if data.occurred_at > now:
        data.errors["time" if data.time else "date"] = N_("Datumet kan inte vara i framtiden.")
    return data
