"""The catalogs are complete and the check that guards them really checks.

`make i18n-check` runs `portal.core.catalogs.check()`; so does this test.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from portal.core import catalogs
from portal.core.catalogs import check, sweden_only_terms, update_source, update_variant


def test_catalogs_have_no_problems():
    problems = check()
    assert problems == [], "run make i18n-update, then fix:\n" + "\n".join(problems)


def test_command_line_check_passes(capsys):
    assert catalogs.main(["check"]) == 0
    assert "Translations OK." in capsys.readouterr().out


def test_command_line_refuses_unknown_commands(capsys):
    assert catalogs.main(["translate"]) == 2
    assert "usage:" in capsys.readouterr().err


# --- the check on broken catalogs ------------------------------------------------------------

GREETING = "Hej %(name)s!"
LOGIN = "Logga in"
HELP_LINE = "Ring 1177 om du behöver råd om vård."
OWN_ID = "Skriv ditt personnummer."
FUZZY = "Kontakta din samordnare."
EMPTY = "Tack för att du använde tjänsten."
PLACEHOLDER = "Du är inloggad som %(title)s."


def _template(*msgids: str) -> Catalog:
    pot = Catalog(fuzzy=False)
    for msgid in msgids:
        pot.add(msgid)
    return pot


def _broken() -> dict:
    pot = _template(GREETING, LOGIN, HELP_LINE, OWN_ID, FUZZY, EMPTY, PLACEHOLDER)
    sv = Catalog(locale="sv", fuzzy=False)
    sv.add(GREETING, GREETING)
    # LOGIN is missing.
    sv.add(HELP_LINE, HELP_LINE)  # Sweden only, and sv_FI has no entry
    sv.add(OWN_ID, OWN_ID)  # Sweden only, but on the allow-list below
    sv.add(FUZZY, FUZZY, flags=["fuzzy"])
    sv.add(EMPTY, "")
    sv.add(PLACEHOLDER, "Du är inloggad som %(titel)s.")
    sv.add("Gammal text som inte finns kvar.", "Gammal text som inte finns kvar.")
    sv_fi = Catalog(locale="sv_FI", fuzzy=False)
    sv_fi.add(GREETING, "Hej %(namn)s!")
    sv_fi.add(FUZZY, "Kontakta din egen kontaktperson.", flags=["fuzzy"])
    sv_fi.add(EMPTY, "")
    sv_fi.add(PLACEHOLDER, "Du har loggat in med BankID.")
    sv_fi.add("Ett msgid som inte längre finns.", "En text som inte längre finns.")
    return {"pot": pot, "sv": sv, "sv_fi": sv_fi}


def _problems(**changes) -> list[str]:
    catalogs_ = _broken() | changes
    return check(catalogs_["pot"], catalogs_["sv"], catalogs_["sv_fi"],
                 extracted=catalogs_.get("extracted", catalogs_["pot"]),
                 allowed={OWN_ID: "validates Swedish numbers only"})


def _reported(problems: list[str], *words: str) -> bool:
    return any(all(word in problem for word in words) for problem in problems)


def test_check_reports_each_problem():
    problems = _problems()
    assert _reported(problems, "sv:", "missing", LOGIN)
    assert _reported(problems, "sv:", "fuzzy", FUZZY)
    assert _reported(problems, "sv:", "empty msgstr", EMPTY)
    assert _reported(problems, "sv:", "not in messages.pot", "Gammal text")
    assert _reported(problems, "sv:", "placeholders differ", "%(title)s", "%(titel)s")
    assert _reported(problems, "sv_FI:", "fuzzy", FUZZY)
    assert _reported(problems, "sv_FI:", "empty msgstr", EMPTY)
    assert _reported(problems, "sv_FI:", "not in messages.pot", "Ett msgid som inte")
    assert _reported(problems, "sv_FI:", "placeholders differ", "%(name)s", "%(namn)s")
    assert _reported(problems, "sv_FI:", "placeholders differ", PLACEHOLDER)
    assert _reported(problems, "sv_FI:", "no entry for", "1177")
    assert _reported(problems, "sv_FI:", "still says", "BankID")


def test_allow_listed_strings_need_no_variant():
    assert not _reported(_problems(), OWN_ID)


def test_a_stale_template_is_reported():
    fresh = _template(GREETING, LOGIN, HELP_LINE, OWN_ID, FUZZY, EMPTY, "Ny text i en mall.")
    problems = _problems(extracted=fresh)
    assert _reported(problems, "messages.pot", "out of date", "Ny text i en mall.")
    assert _reported(problems, "messages.pot", "no longer in the code", PLACEHOLDER)


def test_a_clean_set_of_catalogs_passes():
    pot = _template(GREETING, HELP_LINE)
    sv = Catalog(locale="sv", fuzzy=False)
    sv.add(GREETING, GREETING)
    sv.add(HELP_LINE, HELP_LINE)
    sv_fi = Catalog(locale="sv_FI", fuzzy=False)
    sv_fi.add(HELP_LINE, "Ring 116 117 om du behöver råd om vård.")
    assert check(pot, sv, sv_fi, extracted=pot, allowed={}) == []


def test_check_reads_files_and_reports_missing_ones(tmp_path: Path):
    broken = _broken()
    paths = {}
    for name, catalog in broken.items():
        paths[name] = tmp_path / f"{name}.po"
        with paths[name].open("wb") as handle:
            write_po(handle, catalog)
    problems = check(paths["pot"], paths["sv"], paths["sv_fi"], extracted=broken["pot"],
                     allowed={OWN_ID: "test"})
    assert _reported(problems, "sv:", "fuzzy", FUZZY)
    assert _reported(problems, "sv_FI:", "no entry for", "1177")
    missing = check(tmp_path / "nothing.pot", paths["sv"], paths["sv_fi"], extracted=broken["pot"])
    assert _reported(missing, "messages.pot", "is missing")


# --- update ----------------------------------------------------------------------------------


def test_update_fills_sv_from_the_msgid_and_drops_what_is_gone():
    pot = _template(GREETING, LOGIN)
    pot.add(("En plan", "%(num)s planer"))
    sv = Catalog(locale="sv", fuzzy=False)
    sv.add(GREETING, "Hej på dig, %(name)s!")  # kept: a hand-made fix of the Swedish text
    sv.add("Borttagen text.", "Borttagen text.")
    added, dropped = update_source(pot, sv)
    assert (added, dropped) == (2, 1)
    assert sv.get(GREETING).string == "Hej på dig, %(name)s!"
    assert sv.get(LOGIN).string == LOGIN
    assert sv.get("En plan").string == ("En plan", "%(num)s planer")
    assert sv.get("Borttagen text.") is None
    assert "python-format" in sv.get(GREETING).flags


def test_update_only_removes_from_sv_fi():
    pot = _template(GREETING, HELP_LINE)
    sv_fi = Catalog(locale="sv_FI", fuzzy=False)
    sv_fi.add(HELP_LINE, "Ring 116 117 om du behöver råd om vård.")
    sv_fi.add("Borttagen text.", "Borttagen text.")
    assert update_variant(pot, sv_fi) == 1
    assert [m.id for m in sv_fi if m.id] == [HELP_LINE]


# --- the Sweden-only words -------------------------------------------------------------------


def test_sweden_only_terms_match_words_and_their_forms():
    assert sweden_only_terms("Skriv personnumret med 12 siffror.") == ["personnummer"]
    assert sweden_only_terms("Ring Vårdcentralen i Kalmar.") == ["vårdcentral"]
    assert sweden_only_terms("Hon är sjuksköterska.") == ["sjuksköterska"]
    assert sweden_only_terms("Du är god man.") == ["god man"]
    assert sweden_only_terms("En samordnad individuell plan") == ["samordnad individuell plan"]
    assert sweden_only_terms("Logga in med Mobilt BankID") == ["BankID"]
    assert sweden_only_terms("Ring 1177.") == ["1177"]


def test_sweden_only_terms_leave_finnish_and_other_words_alone():
    assert sweden_only_terms("Du har en Suomi.fi-fullmakt.") == []
    assert sweden_only_terms("Vi brukar svara inom tre dagar.") == []
    assert sweden_only_terms("Ring 116 117 eller 0771-11 77 00.") == []
    assert sweden_only_terms("Välfärdsområdet och socialvården") == []
