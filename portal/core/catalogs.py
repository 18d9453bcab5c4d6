"""Translation catalogs: extract, update, compile and check.

    python -m portal.core.catalogs extract|update|compile|check

(the Makefile's i18n-* targets). Swedish (Sweden) is the source language: a
msgid is the `sv` text. So `sv` holds every msgid, and a new entry's msgstr
is its msgid. `sv_FI` holds only the hand-written entries that differ in
Finland; everything else falls back to `sv` (see portal/core/i18n.py).

`check()` takes paths or Catalog objects, so tests can feed it broken
catalogs and see that each problem is reported.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
MAPPING_FILE = ROOT / "babel.cfg"
LOCALES_DIR = ROOT / "locales"
POT_FILE = LOCALES_DIR / "messages.pot"
SOURCE = "sv"
VARIANT = "sv_FI"
PROJECT = "SIP-portalen"
CONTACT = "SIP-portalen"

# The same as `pybabel extract -k _ -k N_ -k gettext -k ngettext:1,2 -k pgettext:1c,2`.
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
# `{# Translators: ... #}` or `# Translators: ...` just before a string ends up
# in the catalogs as a note for whoever writes the sv_FI text.
COMMENT_TAGS = ("Translators:",)

HEADERS = {
    None: "# Every string in SIP-portalen. Made by `make i18n-extract`: do not edit.",
    SOURCE: (
        "# Swedish (Sweden), the source language. Every msgid is here.\n"
        "# `make i18n-update` adds new strings with msgstr = msgid and drops old ones."
    ),
    VARIANT: (
        "# Finland Swedish: only the strings that differ in Finland.\n"
        "# Everything else falls back to sv. Write these by hand; keep the\n"
        "# %(placeholders)s as they are. `make i18n-update` never adds entries here."
    ),
}

# Words that only make sense in Sweden. An sv string with one of them needs a
# Finland-Swedish entry, and that entry must not use them. Each pattern also
# matches the inflected forms (personnumret, vårdcentralen, fullmakter ...).
# A word glued to a hyphen on its left is another word: "Suomi.fi-fullmakt"
# is the Finnish mandate, not a Swedish fullmakt.
SWEDEN_ONLY_TERMS: dict[str, str] = {
    "personnummer": r"personnum(?:mer|ret|ren)[\w-]*",
    "regionen": r"region(?:en|ens|erna|ernas)(?!\w)",
    "vårdcentral": r"vårdcentral[\w-]*",
    "socialtjänsten": r"socialtjänst[\w-]*",
    "1177": r"1177(?!\d)",
    "BankID": r"bankid[\w-]*",
    "Freja": r"freja[\w-]*",
    # Not the verb "brukar" (usually): only the noun.
    "brukare": r"brukar(?:e|en|es|ens|na|nas)(?!\w)",
    "god man": r"(?:god\s+man(?:nen|nens|s)?|gode\s+män(?:nen)?)(?!\w)",
    "fullmakt": r"fullmakt[\w-]*",
    "Skatteverket": r"skatteverk[\w-]*",
    "Digg": r"diggs?(?!\w)",
    "sjuksköterska": r"sjukskötersk[\w-]*",
    "samordnad individuell plan": r"samordnade?\s+individuella?\s+plan\w*",
    # Finland: the named contact is the egen kontaktperson (case manager), and
    # welfare is "vård och service" (vård- och serviceplan), not "vård och omsorg".
    "samordnare": r"samordnar(?:e|en|ens|na|nas)(?!\w)",
    "vård och omsorg": r"vård\s+och\s+omsorg(?!\w)",
    # Finland: home care is hemvård (hemservice), the welfare areas' word.
    "hemtjänst": r"hemtjänst[\w-]*",
}
_TERM_RES = {
    term: re.compile(rf"(?<![\w-]){pattern}", re.IGNORECASE) for term, pattern in SWEDEN_ONLY_TERMS.items()
}

# msgids that may keep a Sweden-only term without an sv_FI entry (or whose
# sv_FI entry may keep it). Each with the reason.
ALLOWED_SWEDEN_TERMS: dict[str, str] = {
    # portal/people/national_id.py: shown only when a Swedish personnummer is
    # checked. A Swedish number is a personnummer in Finland too; Finnish
    # numbers get their own personbeteckning messages.
    "Skriv ditt personnummer.": "validates Swedish numbers only",
    "Skriv personnumret med 12 siffror, till exempel 19121212-1212.": "validates Swedish numbers only",
    "Personnumret stämmer inte. Kontrollera siffrorna och försök igen.": "validates Swedish numbers only",
    # templates/messages/_urgent.html: the emergency numbers follow the person's country,
    # not the language variant; this one is shown only to people in Sweden.
    "Om det är bråttom: ring 1177. Vid fara för liv: ring 112.": "shown only for a person in Sweden",
    # portal/people/invitations.py: the invitation form asks for the inviter's country's
    # number; people in Finland get the personbeteckning messages.
    "Personnummer eller samordningsnummer": "shown only for a person in Sweden",
    "Skriv personnumret för den du vill bjuda in.": "shown only for a person in Sweden",
    "Det är ditt eget personnummer. Skriv numret för den du vill bjuda in.":
        "shown only for a person in Sweden",
}


def po_path(locale: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


# --- reading and writing ---------------------------------------------------------------------


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, abort_invalid=True)


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, no_location=True, sort_output=True, ignore_obsolete=True)
    return buffer.getvalue()


_DATE_LINES = re.compile(rb'^"(?:POT-Creation-Date|PO-Revision-Date): .*\n', re.MULTILINE)


def _same_apart_from_dates(old: bytes, new: bytes) -> bool:
    return _DATE_LINES.sub(b"", old) == _DATE_LINES.sub(b"", new)


def write_catalog(catalog: Catalog, path: Path) -> bool:
    """Write the catalog; leave the file alone when only the dates would change.

    Returns whether the file changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = render(catalog)
    if path.exists():
        old = path.read_bytes()
        if _same_apart_from_dates(old, data):
            return False
        if catalog.locale is not None:
            catalog.revision_date = datetime.now(UTC)
            data = render(catalog)
    path.write_bytes(data)
    return True


def _key(message: Message) -> tuple:
    return (message.id, message.context)


def _entries(catalog: Catalog) -> Iterable[Message]:
    return (message for message in catalog if message.id)


def _short(message_id) -> str:
    text = message_id[0] if isinstance(message_id, (list, tuple)) else message_id
    text = " ".join(str(text).split())
    return repr(text if len(text) <= 70 else text[:67] + "...")


# --- extract ---------------------------------------------------------------------------------


def extract_catalog(root: Path = ROOT, mapping_file: Path = MAPPING_FILE) -> Catalog:
    """Every translatable string in code and templates, as a template catalog."""
    with mapping_file.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(mapping_file))
    top_level = {pattern.split("/", 1)[0] for pattern, _ in method_map}

    def only_mapped(dirname: str) -> bool:
        # Walk only the folders babel.cfg names, not .venv or node_modules.
        relative = Path(os.path.relpath(dirname, root))
        hidden = relative.name.startswith((".", "_"))  # .git, __pycache__
        return not hidden and relative.parts[0] in top_level

    catalog = Catalog(project=PROJECT, version="1", charset="utf-8", fuzzy=False,
                      msgid_bugs_address=CONTACT)
    catalog.header_comment = HEADERS[None]
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
        strip_comment_tags=True, directory_filter=only_mapped,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def extract(pot_file: Path = POT_FILE) -> Catalog:
    catalog = extract_catalog()
    changed = write_catalog(catalog, pot_file)
    count = sum(1 for _ in _entries(catalog))
    print(f"{_rel(pot_file)}: {count} strings{'' if changed else ', unchanged'}")
    return catalog


# --- update ----------------------------------------------------------------------------------


def _source_string(message: Message, catalog: Catalog) -> str | tuple[str, ...]:
    """The sv msgstr of a new entry: the msgid itself (Swedish is the source)."""
    if message.pluralizable:
        singular, plural = message.id[0], message.id[1]
        return (singular,) + (plural,) * (catalog.num_plurals - 1)
    return message.id


def _has_text(string) -> bool:
    if isinstance(string, (list, tuple)):
        return bool(string) and all(string)
    return bool(string)


def _new_catalog(locale: str) -> Catalog:
    catalog = Catalog(locale=locale, project=PROJECT, version="1", charset="utf-8", fuzzy=False,
                      msgid_bugs_address=CONTACT, last_translator=CONTACT,
                      language_team=f"{PROJECT} <{locale}>")
    catalog.header_comment = HEADERS[locale]
    catalog.revision_date = datetime.now(UTC)
    return catalog


def _drop_missing(wanted: dict, catalog: Catalog) -> int:
    """Delete the entries whose msgid left the template; return how many."""
    dropped = 0
    for message in list(_entries(catalog)):
        if _key(message) not in wanted:
            catalog.delete(message.id, message.context)
            dropped += 1
    return dropped


def update_source(pot: Catalog, catalog: Catalog) -> tuple[int, int]:
    """Make `sv` hold exactly the msgids of the template. Returns (added, dropped)."""
    wanted = {_key(m): m for m in _entries(pot)}
    dropped = _drop_missing(wanted, catalog)
    added = 0
    for template in wanted.values():
        message = catalog.get(template.id, template.context)
        if message is not None and message.id != template.id:
            # It became (or stopped being) a plural: start again from the msgid.
            catalog.delete(message.id, message.context)
            message = None
        if message is None:
            catalog.add(template.id, _source_string(template, catalog),
                        auto_comments=template.auto_comments, flags=template.flags - {"fuzzy"},
                        context=template.context)
            added += 1
            continue
        message.flags = (message.flags & {"fuzzy"}) | (set(template.flags) - {"fuzzy"})
        message.auto_comments = list(template.auto_comments)
        if not _has_text(message.string):
            message.string = _source_string(template, catalog)
    catalog.obsolete.clear()
    return added, dropped


def update_variant(pot: Catalog, catalog: Catalog) -> int:
    """Drop the sv_FI entries whose msgid is gone. Never adds anything. Returns dropped."""
    wanted = {_key(m): m for m in _entries(pot)}
    dropped = _drop_missing(wanted, catalog)
    for message in _entries(catalog):
        template = wanted[_key(message)]
        message.flags = (message.flags & {"fuzzy"}) | (set(template.flags) - {"fuzzy"})
        message.auto_comments = list(template.auto_comments)
    catalog.obsolete.clear()
    return dropped


def _load_or_new(path: Path, locale: str) -> Catalog:
    return read_catalog(path, locale) if path.exists() else _new_catalog(locale)


def update(pot_file: Path = POT_FILE, locales_dir: Path = LOCALES_DIR) -> None:
    pot = read_catalog(pot_file)
    source_path = po_path(SOURCE, locales_dir)
    source = _load_or_new(source_path, SOURCE)
    added, dropped = update_source(pot, source)
    write_catalog(source, source_path)
    print(f"{_rel(source_path)}: {added} added, {dropped} dropped")

    variant_path = po_path(VARIANT, locales_dir)
    variant = _load_or_new(variant_path, VARIANT)
    dropped = update_variant(pot, variant)
    write_catalog(variant, variant_path)
    print(f"{_rel(variant_path)}: {dropped} dropped, {sum(1 for _ in _entries(variant))} Finland entries")


# --- compile ---------------------------------------------------------------------------------


def compile_all(locales_dir: Path = LOCALES_DIR) -> None:
    for locale in (SOURCE, VARIANT):
        path = po_path(locale, locales_dir)
        catalog = read_catalog(path, locale)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        print(f"{_rel(path.with_suffix('.mo'))}: compiled")


# --- check -----------------------------------------------------------------------------------

_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def placeholders(text: str) -> list[str]:
    """The python-format placeholders in a string, as a sorted list."""
    found = []
    for match in _FORMAT.finditer(text or ""):
        if match["conv"] == "%":
            continue
        name = match["name"]
        found.append(f"%({name}){match['conv']}" if name is not None else f"%{match['conv']}")
    return sorted(found)


def sweden_only_terms(text: str) -> list[str]:
    """The Sweden-only terms a string uses."""
    return [term for term, pattern in _TERM_RES.items() if pattern.search(text or "")]


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def _placeholder_problems(label: str, message: Message) -> list[str]:
    ids = _ids(message)
    problems = []
    for index, string in enumerate(_strings(message)):
        if not string:
            continue
        source = ids[min(index, len(ids) - 1)]
        if placeholders(source) != placeholders(string):
            problems.append(
                f"{label}: placeholders differ in {_short(message.id)}: "
                f"msgid has {placeholders(source) or 'none'}, msgstr has {placeholders(string) or 'none'}"
            )
    return problems


def _as_catalog(value: Catalog | Path | str, locale: str | None, label: str,
                problems: list[str]) -> Catalog | None:
    if isinstance(value, Catalog):
        return value
    path = Path(value)
    if not path.exists():
        problems.append(f"{label}: {_rel(path)} is missing; run make i18n-update")
        return None
    try:
        return read_catalog(path, locale)
    except Exception as exc:
        problems.append(f"{label}: {_rel(path)} cannot be read: {exc}")
        return None


def check(
    pot: Catalog | Path | str = POT_FILE,
    sv: Catalog | Path | str | None = None,
    sv_fi: Catalog | Path | str | None = None,
    *,
    extracted: Catalog | None = None,
    allowed: Mapping[str, str] = ALLOWED_SWEDEN_TERMS,
) -> list[str]:
    """Every problem with the catalogs, as plain sentences. Empty when all is well.

    `extracted` is what the code and templates contain now; by default it is
    extracted afresh, so a stale messages.pot is reported.
    """
    problems: list[str] = []
    pot_catalog = _as_catalog(pot, None, "messages.pot", problems)
    source = _as_catalog(sv if sv is not None else po_path(SOURCE), SOURCE, SOURCE, problems)
    variant = _as_catalog(sv_fi if sv_fi is not None else po_path(VARIANT), VARIANT, VARIANT, problems)
    if pot_catalog is None or source is None or variant is None:
        return problems
    if extracted is None:
        extracted = extract_catalog()

    in_code = {_key(m) for m in _entries(extracted)}
    in_pot = {_key(m): m for m in _entries(pot_catalog)}
    for key in sorted(in_code - in_pot.keys(), key=str):
        problems.append(f"messages.pot: out of date, lacks {_short(key[0])}; run make i18n-update")
    for key in sorted(in_pot.keys() - in_code, key=str):
        problems.append(f"messages.pot: out of date, {_short(key[0])} is no longer in the code; "
                        "run make i18n-update")

    # sv: complete, nothing fuzzy or empty, nothing extra.
    source_entries = {_key(m): m for m in _entries(source)}
    for key, template in in_pot.items():
        message = source_entries.get(key)
        if message is None:
            problems.append(f"sv: missing {_short(template.id)}; run make i18n-update")
        elif message.id != template.id:
            problems.append(f"sv: {_short(template.id)} has another plural form than in messages.pot")
    for key, message in source_entries.items():
        if key not in in_pot:
            problems.append(f"sv: {_short(message.id)} is not in messages.pot; run make i18n-update")
        if message.fuzzy:
            problems.append(f"sv: fuzzy entry {_short(message.id)}")
        if not _has_text(message.string):
            problems.append(f"sv: empty msgstr for {_short(message.id)}")
        problems.extend(_placeholder_problems("sv", message))
    if source.obsolete:
        problems.append(f"sv: {len(source.obsolete)} obsolete (#~) entries; run make i18n-update")

    # sv_FI: only real, finished entries for strings that exist.
    variant_entries = {_key(m): m for m in _entries(variant)}
    for key, message in variant_entries.items():
        if key not in in_pot:
            problems.append(f"sv_FI: {_short(message.id)} is not in messages.pot; remove it "
                            "(make i18n-update does)")
        if message.fuzzy:
            problems.append(f"sv_FI: fuzzy entry {_short(message.id)}")
        if not _has_text(message.string):
            problems.append(f"sv_FI: empty msgstr for {_short(message.id)}; write it or remove it")
        problems.extend(_placeholder_problems("sv_FI", message))
        if _key(message)[0] not in allowed:
            for string in _strings(message):
                for term in sweden_only_terms(string):
                    problems.append(f"sv_FI: {_short(message.id)} still says {term!r}, "
                                    "which is Sweden only")
    if variant.obsolete:
        problems.append(f"sv_FI: {len(variant.obsolete)} obsolete (#~) entries; run make i18n-update")

    # Sweden-only words need a Finland-Swedish entry.
    for key, message in source_entries.items():
        if key not in in_pot or key in variant_entries:
            continue
        msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        if msgid in allowed:
            continue
        terms = sorted({t for text in _ids(message) + _strings(message) for t in sweden_only_terms(text)})
        if terms:
            problems.append(f"sv_FI: no entry for {_short(message.id)}, which says "
                            f"{', '.join(repr(t) for t in terms)} (Sweden only)")

    known = {key[0][0] if isinstance(key[0], tuple) else key[0] for key in in_pot}
    for msgid in allowed:
        if msgid not in known:
            problems.append(f"catalogs.py: ALLOWED_SWEDEN_TERMS lists {_short(msgid)}, "
                            "which is no longer in messages.pot")
    return problems


# --- command line ----------------------------------------------------------------------------


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    commands = ("extract", "update", "compile", "check")
    if len(args) != 1 or args[0] not in commands:
        print(f"usage: python -m portal.core.catalogs {'|'.join(commands)}", file=sys.stderr)
        return 2
    command = args[0]
    if command == "extract":
        extract()
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    else:
        problems = check()
        if problems:
            print(f"{len(problems)} problem(s) with the translations:", file=sys.stderr)
            for problem in problems:
                print(f"- {problem}", file=sys.stderr)
            return 1
        print("Translations OK.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
