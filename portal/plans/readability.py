"""Plain-language help: the readability index LIX, long words and long sentences.

LIX = words / sentences + 100 * long words / words, where a long word has
more than six letters. Under 35 reads easily; that is the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TARGET = 35
WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?:;]+|\n+")
FLAG_WORD_LETTERS = 14
FLAG_SENTENCE_WORDS = 20


@dataclass
class Readability:
    lix: int
    words: int
    sentences: int
    long_words: list[str] = field(default_factory=list)  # flagged as very long
    long_sentences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lix < TARGET


def analyse(text: str) -> Readability:
    words = WORD.findall(text)
    if not words:
        return Readability(0, 0, 0)
    parts = [p for p in SENTENCE_END.split(text) if WORD.search(p)]
    sentences = max(len(parts), 1)
    long_count = sum(1 for w in words if len(w) > 6)
    lix = round(len(words) / sentences + 100 * long_count / len(words))
    flagged = sorted({w for w in words if len(w) >= FLAG_WORD_LETTERS}, key=str.lower)
    long_sentences = [p.strip() for p in parts if len(WORD.findall(p)) > FLAG_SENTENCE_WORDS]
    return Readability(lix, len(words), sentences, flagged, long_sentences)
