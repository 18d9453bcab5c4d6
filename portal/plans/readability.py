"""Plain-language help: the readability index LIX, long words and long sentences.

LIX = words / sentences + 100 * long words / words, where a long word has
more than six letters (Björnsson, "Läsbarhet", 1968). Under 35 reads easily;
that is the target.

Words are runs of letters (digits are not words). A sentence ends at ".", "!",
"?", ":" or ";" (or a line break), except:

- inside a common abbreviation (ABBREVIATIONS: "t.ex.", "kl.", "fr.o.m." …),
  which also counts as one word;
- after one of ENDING_ABBREVIATIONS ("osv.", "m.m." …), which end a sentence
  only when the text ends there or a capital letter follows;
- between digits: clock times and decimals ("14.30", "8.15", "14:30", "2.5").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TARGET = 35
FLAG_WORD_LETTERS = 14
FLAG_SENTENCE_WORDS = 20

# Swedish abbreviations that never end a sentence (Språkrådet's list of common
# abbreviations, "Svenska skrivregler"), lower case, written with their dots.
# Not those that are also words ("min.", "st."): those end sentences.
ABBREVIATIONS = (
    "t.ex.", "bl.a.", "dvs.", "d.v.s.", "s.k.", "kl.", "ca.", "c:a", "fr.o.m.", "t.o.m.",
    "nr.", "tel.", "tfn.", "p.g.a.", "pga.", "resp.", "jfr.", "ang.", "enl.", "f.d.", "f.n.",
    "obs.", "o.d.", "e.d.", "t.v.", "t.h.", "ev.", "inkl.", "exkl.", "sid.", "kap.", "dr.",
)
# Abbreviations that often close a list or an amount at the end of a sentence: they end
# one when the text ends after them or the next word starts with a capital letter.
ENDING_ABBREVIATIONS = ("osv.", "o.s.v.", "etc.", "m.m.", "m.fl.", "o.dyl.", "e.dyl.",
                        "kr.", "mm.", "cm.")

# A dot inside an abbreviation is read as JOIN, which joins letters into one word.
JOIN = "\u2024"  # ONE DOT LEADER: not a letter, not a sentence end
WORD = re.compile(rf"[^\W\d_]+(?:[-'{JOIN}][^\W\d_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?:;]+|\n+")


def _abbreviation_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "o.s.v." wins over "s."; a letter may not touch either side.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


_INSIDE = _abbreviation_pattern(ABBREVIATIONS)
_ENDING = _abbreviation_pattern(ENDING_ABBREVIATIONS)
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[.:](?=\d)")
_CAPITAL_NEXT = re.compile(r"\s+[^\W\d_]")


@dataclass
class Readability:
    lix: int
    words: int
    sentences: int
    long_words: list[str] = field(default_factory=list)  # flagged as very long
    long_sentences: list[str] = field(default_factory=list)
    long_count: int = 0  # words of more than six letters, as LIX counts them

    @property
    def ok(self) -> bool:
        return self.lix < TARGET


def _masked(text: str) -> str:
    """`text` with the dots that do not end a sentence replaced by JOIN; same length,
    so positions in it are positions in `text`."""
    chars = list(text)

    def join(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] in ".:":
                chars[i] = JOIN

    for match in _INSIDE.finditer(text):
        join(*match.span())
    for match in _ENDING.finditer(text):
        start, end = match.span()
        rest = text[end:]
        ends_sentence = not rest.strip() or (
            (capital := _CAPITAL_NEXT.match(rest)) is not None and capital.group()[-1].isupper())
        join(start, end - 1 if ends_sentence and text[end - 1] == "." else end)
    for match in _BETWEEN_DIGITS.finditer(text):
        join(*match.span())
    return "".join(chars)


def _letters(word: str) -> int:
    return sum(1 for c in word if c.isalpha())


def analyse(text: str) -> Readability:
    """LIX and flags for `text` (any string). Words, sentences: see the module docstring.
    `long_words`: distinct words of FLAG_WORD_LETTERS letters or more, sorted;
    `long_sentences`: sentences (as written) of more than FLAG_SENTENCE_WORDS words."""
    masked = _masked(text)
    words = WORD.findall(masked)
    if not words:
        return Readability(0, 0, 0)
    parts, start = [], 0
    for end in SENTENCE_END.finditer(masked):
        parts.append((masked[start:end.start()], text[start:end.start()]))
        start = end.end()
    parts.append((masked[start:], text[start:]))
    parts = [(m, t) for m, t in parts if WORD.search(m)]
    sentences = max(len(parts), 1)
    long_count = sum(1 for w in words if _letters(w) > 6)
    lix = round(len(words) / sentences + 100 * long_count / len(words))
    flagged = sorted({w for w in words if _letters(w) >= FLAG_WORD_LETTERS}, key=str.lower)
    long_sentences = [t.strip() for m, t in parts if len(WORD.findall(m)) > FLAG_SENTENCE_WORDS]
    return Readability(lix, len(words), sentences, flagged, long_sentences, long_count)
