"""Dates, times and numbers per variant, and the sv_FI -> sv fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from portal.core import i18n
from portal.core.catalogs import po_path, read_catalog

NOON_UTC = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # winter: UTC+1 / UTC+2
SUMMER_UTC = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)  # summer: UTC+2 / UTC+3


@pytest.fixture(params=["sv", "sv_FI"])
def locale(request):
    token = i18n.current_locale.set(request.param)
    yield request.param
    i18n.current_locale.reset(token)


def expected(locale: str, sweden: str, finland: str) -> str:
    return sweden if locale == "sv" else finland


def test_date_in_running_text(locale):
    assert i18n.format_date(date(2026, 11, 23)) == expected(locale, "23 november 2026", "23.11.2026")


def test_single_digit_day_and_month(locale):
    assert i18n.format_date(date(2026, 3, 5)) == expected(locale, "5 mars 2026", "5.3.2026")


def test_time_with_a_dot(locale):
    assert i18n.format_time(time(14, 30)) == "14.30"
    assert i18n.format_time(time(8, 5)) == "08.05"


def test_utc_comes_out_in_local_time(locale):
    assert i18n.format_time(NOON_UTC) == expected(locale, "13.30", "14.30")
    assert i18n.format_time(SUMMER_UTC) == expected(locale, "14.30", "15.30")


def test_local_date_can_differ_from_the_utc_date(locale):
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert i18n.format_date(late) == expected(locale, "23 november 2026", "23.11.2026")


def test_date_and_time(locale):
    assert i18n.format_datetime(NOON_UTC) == expected(
        locale, "23 november 2026 kl. 13.30", "23.11.2026 kl. 14.30")


def test_weekday(locale):
    assert i18n.format_date(date(2026, 11, 23), "weekday_date") == expected(
        locale, "måndag 23 november", "måndag 23.11.2026")


def test_naive_datetimes_are_refused(locale):
    with pytest.raises(ValueError):
        i18n.format_time(datetime(2026, 11, 23, 12, 30))


def test_numbers_as_babel_gives_them(locale):
    # CLDR: a no-break space (U+00A0) groups thousands, a comma for decimals,
    # in Sweden and in Finland alike.
    assert i18n.format_number(1234.5) == "1\u00a0234,5"
    assert i18n.format_number(1234567) == "1\u00a0234\u00a0567"


def test_an_explicit_locale_wins_over_the_current_one():
    assert i18n.format_date(date(2026, 11, 23), locale="sv_FI") == "23.11.2026"
    assert i18n.format_date(date(2026, 11, 23), locale="sv") == "23 november 2026"


# --- the sv_FI catalog falls back to sv ------------------------------------------------------

OVERRIDDEN = "Ring 112 om det är akut. Ring 1177 om du behöver råd om vård."
NOT_OVERRIDDEN = "Logga in"


def test_the_real_catalogs_have_the_entries_these_tests_use():
    sv = read_catalog(po_path("sv"), "sv")
    sv_fi = read_catalog(po_path("sv_FI"), "sv_FI")
    assert sv.get(OVERRIDDEN) is not None and sv.get(NOT_OVERRIDDEN) is not None
    assert sv_fi.get(OVERRIDDEN) is not None
    assert sv_fi.get(NOT_OVERRIDDEN) is None


def test_sv_fi_overrides_what_differs_in_finland():
    i18n.reload()
    assert "116 117" in i18n.translations("sv_FI").gettext(OVERRIDDEN)
    assert "1177" in i18n.translations("sv").gettext(OVERRIDDEN)


def test_sv_fi_falls_back_to_sv_for_the_rest():
    i18n.reload()
    sv_fi = i18n.translations("sv_FI")
    sv = i18n.translations("sv")
    assert NOT_OVERRIDDEN not in sv_fi._catalog  # not in the Finland catalog itself ...
    assert NOT_OVERRIDDEN in sv._catalog
    assert sv_fi.gettext(NOT_OVERRIDDEN) == sv.gettext(NOT_OVERRIDDEN) == "Logga in"  # ... but found


def test_gettext_follows_the_current_locale(locale):
    text = i18n.gettext("Du är god man eller förvaltare.")
    assert text == expected(locale, "Du är god man eller förvaltare.", "Du är intressebevakare.")


def test_placeholders_are_filled_in_both_variants(locale):
    text = i18n.gettext("%(name)s har gett dig fullmakt.", name="Annika")
    assert text == expected(locale, "Annika har gett dig fullmakt.", "Du får sköta ärenden för Annika.")
