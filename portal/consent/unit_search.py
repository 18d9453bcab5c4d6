"""Finding a unit to add to one's consent: by its name, organisation or place.

The consent page offers the units near the person (care relations, and those with a
decision) straight away. Any other unit of the person's country is found on request,
by a search: a country has hundreds of units, and a list of all of them is neither
readable nor quick (issue 12: 400 checkboxes, 34 ms at 100 000 persons).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.people.models import Unit

QUERY_MIN = 2  # characters: one letter matches most of the country
QUERY_MAX = 100  # characters kept of what was typed
MATCHES_MAX = 10  # shown at most; more means "type more of the name"
ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # Unit.id (portal.core.ids.new_id, 32 at most)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
WORDS_MAX = 6  # words of a query matched, at most (each one is a few LIKEs)
# Words that say nothing about a unit ("vårdcentralen i Kalmar"): left out of the match.
FILLER = frozenset({"i", "och", "på", "av", "för", "vid", "med", "till", "en", "ett"})
# Definite endings tried off a word ("vårdcentralen" finds "Vårdcentral"), the longest first.
ENDINGS = ("en", "et", "n")
STEM_MIN = 3  # characters a word keeps once an ending is taken off


def plausible_ids(ids: Collection[str]) -> list[str]:
    """The ids that can be a unit's, once each, in order: anything else (e.g. a NUL, which
    PostgreSQL refuses in text) is no unit, and is never sent to the database."""
    return [i for i in dict.fromkeys(ids) if ID_SHAPE.match(i)]


@dataclass
class UnitSearch:
    """What was asked and what was found.

    `query` is the text as typed (stripped, at most QUERY_MAX characters); `asked` is
    False when no search was made (the page was opened plainly). `matches` holds at
    most MATCHES_MAX units, by name; `more` is True when more units matched."""

    query: str = ""
    asked: bool = False
    matches: list[Unit] = field(default_factory=list)
    more: bool = False

    @property
    def too_short(self) -> bool:
        return self.asked and len(self.query) < QUERY_MIN


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def words_of(text: str) -> list[str]:
    """The words of `text` that are matched, each on its own: not the fillers nor words
    shorter than QUERY_MIN, at most WORDS_MAX. The whole text when no word is left."""
    words = [w for w in dict.fromkeys(text.split())
             if len(w) >= QUERY_MIN and w.lower() not in FILLER]
    return words[:WORDS_MAX] or [text]


def _forms(word: str) -> set[str]:
    """`word` as typed, in lower case and with a capital first letter (SQLite folds only
    ASCII letters), and the same without one definite ending ("-en", "-et", "-n")."""
    stems = {word}
    for ending in ENDINGS:
        if word.lower().endswith(ending) and len(word) - len(ending) >= STEM_MIN:
            stems.add(word[:-len(ending)])
            break
    return {v for s in stems for v in (s, s.lower(), s[:1].upper() + s[1:].lower())}


async def find_units(db: AsyncSession, country: str, query: str | None, *,
                     exclude: Collection[str] = ()) -> UnitSearch:
    """The units of `country` ("SE"/"FI") where every word of `query` (words_of) is in the
    name, the organisation or the address (the place), case-insensitively, in any order
    ("vårdcentralen i Kalmar" finds "Kalmar vårdcentral"); not those in `exclude` (ids
    already shown).

    `query=None` means no search was asked for: nothing is read. A query shorter than
    QUERY_MIN reads nothing either (`too_short`). One statement otherwise, at most
    MATCHES_MAX + 1 rows."""
    if query is None:
        return UnitSearch()
    text = " ".join(CONTROL.sub(" ", query).split())[:QUERY_MAX]
    search = UnitSearch(query=text, asked=True)
    if search.too_short:
        return search
    fields = (col(Unit.name), col(Unit.organisation), col(Unit.address))
    each_word = [or_(*(f.ilike(_like(form), escape="\\") for f in fields for form in sorted(_forms(w))))
                 for w in words_of(text)]
    statement = (select(Unit)
                 .where(Unit.country == country, and_(*each_word))
                 .order_by(col(Unit.name), col(Unit.id)).limit(MATCHES_MAX + 1 + len(exclude)))
    rows = [u for u in (await db.exec(statement)).all() if u.id not in exclude]
    search.matches, search.more = rows[:MATCHES_MAX], len(rows) > MATCHES_MAX
    return search


async def units_by_id(db: AsyncSession, country: str, ids: Collection[str]) -> list[Unit]:
    """The units of `country` among `ids` (anything else, e.g. another country's unit or
    an unknown id, is left out), by name. One statement; none when no id is plausible."""
    wanted = plausible_ids(ids)
    if not wanted:
        return []
    return list((await db.exec(select(Unit).where(
        Unit.country == country, col(Unit.id).in_(wanted)).order_by(col(Unit.name)))).all())
