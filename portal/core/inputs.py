"""Reading dates, times, numbers and ids from forms, queries and paths: allow-lists only.

Everything a visitor types is checked here, at the boundary, so that nothing odd
reaches the database, a calendar file or date arithmetic. The parse_* functions
return plain Python values or raise `BadInput`, whose `message` is a message id
(marked with N_) for the field's error, translated where it is shown.

Only ASCII digits count as digits: `int()` and `date.fromisoformat()` accept
more (Arabic-Indic digits, "1_000", "2026W47", "+5") than a form ever sends.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.core.i18n import N_

# Database integers (PostgreSQL `integer`, and what SQLite's driver can bind) and
# the path ids made by portal.core.ids.new_id (22 characters) with room to spare.
INT_MAX = 2**31 - 1
OPAQUE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})", re.ASCII)
_INT = re.compile(r"-?\d{1,12}", re.ASCII)

DATE_FORMAT = N_("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-11-23.")
DATE_TOO_EARLY = N_("Datumet är för långt bak i tiden. Kontrollera året.")
DATE_TOO_LATE = N_("Datumet är för långt fram i tiden. Kontrollera året.")
TIME_FORMAT = N_("Skriv klockslaget som TT:MM, till exempel 14:30.")
TIME_SKIPPED = N_("Den tiden finns inte den dagen, eftersom klockan ställs fram en timme. "
                  "Välj en annan tid.")
TIME_TWICE = N_("Klockslaget finns två gånger den dagen, eftersom klockan ställs tillbaka en "
                "timme. Vi räknar med den första gången, före omställningen.")
NUMBER_FORMAT = N_("Skriv ett heltal, till exempel 3.")
NUMBER_RANGE = N_("Talet är för stort eller för litet.")


class BadInput(ValueError):
    """A value outside the allow-list; `message` is the field's plain error (a msgid)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_date(value: object, earliest: date, latest: date, *,
               too_early: str = DATE_TOO_EARLY, too_late: str = DATE_TOO_LATE) -> date:
    """`value` as "YYYY-MM-DD" (surrounding spaces ignored), within earliest..latest inclusive.

    A calendar date without a time zone. Raises BadInput with DATE_FORMAT for
    anything else (other formats, impossible days such as 2026-02-30), and with
    `too_early` / `too_late` outside the range.
    """
    match = _DATE.fullmatch(str(value).strip())
    if match is None:
        raise BadInput(DATE_FORMAT)
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadInput(DATE_FORMAT) from None
    if day < earliest:
        raise BadInput(too_early)
    if day > latest:
        raise BadInput(too_late)
    return day


def parse_time(value: object) -> time:
    """`value` as "HH:MM" or "HH.MM" (Swedish and Finnish writing), 00:00..23:59.

    A wall-clock time without a zone (the caller knows whose zone it is).
    Seconds are not accepted; raises BadInput with TIME_FORMAT otherwise.
    """
    match = _TIME.fullmatch(str(value).strip())
    if match is None:
        raise BadInput(TIME_FORMAT)
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise BadInput(TIME_FORMAT)
    return time(hour, minute)


def local_datetime(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The moment `day` at wall-clock `clock` in `zone` (e.g. Europe/Stockholm), aware, in `zone`.

    Daylight saving time (EU rule: the last Sunday of March and of October at
    01:00 UTC) makes some wall times not exist and some happen twice:

    - A time in the hour the clocks jump over (2027-03-28 02:00..02:59 in
      Stockholm, 03:00..03:59 in Helsinki) does not exist: raises BadInput with
      TIME_SKIPPED. Found by a round trip through UTC, which a wall time that
      does not exist does not survive.
    - A time in the hour that is repeated (the last Sunday of October,
      02:00..02:59 in Stockholm) is taken as its first occurrence, still on summer
      time (fold=0, PEP 495); `happens_twice` tells the caller to say so (TIME_TWICE).
    """
    moment = datetime.combine(day, clock, tzinfo=zone)  # fold=0: the first occurrence
    back = moment.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise BadInput(TIME_SKIPPED)
    return moment


def happens_twice(moment: datetime) -> bool:
    """True when the wall time of `moment` (aware, with a ZoneInfo) occurs twice in its zone:
    the hour repeated when the clocks go back. See local_datetime."""
    return moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset()


def parse_int(value: object, lo: int, hi: int) -> int:
    """`value` as a whole number in lo..hi inclusive (ASCII digits, optional minus).

    Raises BadInput with NUMBER_FORMAT for non-numbers and NUMBER_RANGE outside
    the range. Keep `hi` at most INT_MAX for anything that reaches the database.
    """
    text = str(value).strip()
    if _INT.fullmatch(text) is None:
        raise BadInput(NUMBER_RANGE if text.lstrip("-").isascii() and
                       text.lstrip("-").isdigit() else NUMBER_FORMAT)
    number = int(text)
    if not lo <= number <= hi:
        raise BadInput(NUMBER_RANGE)
    return number


def is_opaque_id(value: object) -> bool:
    """True for a str that can be an id from portal.core.ids.new_id: 1-64 of [A-Za-z0-9_-]."""
    return isinstance(value, str) and OPAQUE_ID.fullmatch(value) is not None


# Unicode bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in typed
# text they make what staff or the person read differ from what was written ("Trojan
# Source", CVE-2021-42574). Marks (U+200E, U+200F) are kept: they only hint a direction.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def plain_text(value: object) -> str:
    """A form field's text as typed, minus bidi embedding, override and isolate controls
    (BIDI_CONTROLS); "" for a missing field. Every other character is kept."""
    return str(value if value is not None else "").translate(BIDI_CONTROLS)
