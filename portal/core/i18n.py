"""Translations and locale formats for Sweden Swedish (sv) and Finland Swedish (sv_FI).

Catalogs are read straight from `locales/<locale>/LC_MESSAGES/messages.po`
(so a stale .mo can never be served); `sv_FI` holds only what differs in
Finland and falls back to `sv`. Dates and times go through Babel with the
per-variant patterns kept here, in one place.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
SUPPORTED = ("sv", "sv_FI")
HTML_LANG = {"sv": "sv", "sv_FI": "sv-FI"}
TIME_ZONES = {"sv": ZoneInfo("Europe/Stockholm"), "sv_FI": ZoneInfo("Europe/Helsinki")}
COUNTRY_OF = {"sv": "SE", "sv_FI": "FI"}

# Babel patterns per variant. CLDR gives the same (2026-11-23, 14:30) for both;
# Finnish practice writes 23.11.2026 and 14.30, and Swedish running text
# writes 23 november 2026 and kl. 14.30.
PATTERNS = {
    "sv": {
        "date": "d MMMM y",
        "date_short": "y-MM-dd",
        "weekday_date": "EEEE d MMMM",
        "weekday_date_year": "EEEE d MMMM y",
        "month": "LLLL y",
        "time": "HH.mm",
    },
    "sv_FI": {
        "date": "d.M.y",
        "date_short": "d.M.y",
        "weekday_date": "EEEE d.M.y",
        "weekday_date_year": "EEEE d.M.y",
        "month": "LLLL y",
        "time": "HH.mm",
    },
}

def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


current_locale: ContextVar[str] = ContextVar("current_locale", default="sv")
# The zone times are shown in: the person's whose matters the page shows (set per
# request by the access layer), else the language variant's zone; and whether to
# name it (staff in Sweden reading a Finnish person's times). A mutable holder per
# request, because Litestar may resolve dependencies in tasks of their own.
_times_shown: ContextVar[dict | None] = ContextVar("times_shown", default=None)
ZONE_NAMES = {"Europe/Stockholm": N_("svensk tid"), "Europe/Helsinki": N_("finsk tid")}


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    if value in SUPPORTED:
        return value
    if value.lower() in {"sv_se", "sv"}:
        return "sv"
    if value.lower() == "sv_fi":
        return "sv_FI"
    return None


def _load_po(locale: str) -> Translations | None:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


@lru_cache(maxsize=4)
def translations(locale: str) -> NullTranslations:
    base = _load_po("sv") or NullTranslations()
    if locale == "sv":
        return base
    variant = _load_po(locale)
    if variant is None:
        return base
    variant.add_fallback(base)
    return variant


def reload() -> None:
    translations.cache_clear()


def active() -> NullTranslations:
    return translations(current_locale.get())


def gettext(message: str, **variables) -> str:
    text = active().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = active().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def pgettext(context: str, message: str, **variables) -> str:
    text = active().pgettext(context, message)
    return text % variables if variables else text


@lru_cache(maxsize=len(SUPPORTED))
def _babel_locale(locale: str) -> Locale:
    return Locale.parse("sv_FI" if locale == "sv_FI" else "sv_SE")


def begin_request():
    """A fresh "times shown in" holder for this request; returns the token to reset."""
    return _times_shown.set({})


def end_request(token) -> None:
    _times_shown.reset(token)


def show_times_in(zone_info: ZoneInfo, name_it: bool = False) -> None:
    """Show this request's times in `zone_info`, named when `name_it` (`'14.30 (finsk tid)'`)."""
    holder = _times_shown.get()
    if holder is None:
        holder = {}
        _times_shown.set(holder)
    holder.update(zone=zone_info, named=name_it)


def zone(locale: str | None = None) -> ZoneInfo:
    """The zone times are shown in now: the person's, else the variant's."""
    holder = _times_shown.get() or {}
    return holder.get("zone") or TIME_ZONES[locale or current_locale.get()]


def local_time(value: datetime, locale: str | None = None) -> datetime:
    """`value` (aware) in the zone of the person whose matters are shown."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(zone(locale))


def _zone_suffix(locale: str) -> str:
    if not (_times_shown.get() or {}).get("named"):
        return ""
    return " (" + translations(locale).gettext(ZONE_NAMES[zone(locale).key]) + ")"


def format_date(value: date | datetime, style: str = "date", locale: str | None = None) -> str:
    locale = locale or current_locale.get()
    if isinstance(value, datetime):
        value = local_time(value, locale).date()
    return babel_format_date(value, PATTERNS[locale][style], locale=_babel_locale(locale))


def format_time(value: time | datetime, locale: str | None = None) -> str:
    """'14.30'; for a moment (aware datetime) in the person's zone, named to staff
    elsewhere: '14.30 (finsk tid)'."""
    locale = locale or current_locale.get()
    suffix = ""
    if isinstance(value, datetime):
        value = local_time(value, locale)
        suffix = _zone_suffix(locale)
    return babel_format_time(value, PATTERNS[locale]["time"], locale=_babel_locale(locale)) + suffix


def format_datetime(value: datetime, locale: str | None = None) -> str:
    """'23 november 2026 kl. 14.30' / '23.11.2026 kl. 14.30'."""
    locale = locale or current_locale.get()
    pattern = translations(locale).gettext("%(date)s kl. %(time)s")
    return pattern % {"date": format_date(value, "date", locale), "time": format_time(value, locale)}


def genitive(name: str) -> str:
    """A name in the Swedish genitive: "Viola" → "Violas", "Lars" → "Lars", "Max" → "Max"
    (no extra s after s, x or z: Språkrådet, Svenska skrivregler). Used as
    `{{ name | genitive }}` so that a representative reads "Violas plan", not "Din plan"."""
    name = name.strip()
    if not name or name[-1].lower() in "sxz":
        return name
    return name + "s"


def format_number(value: float, locale: str | None = None) -> str:
    return format_decimal(value, locale=_babel_locale(locale or current_locale.get()))
