"""LIX and the plain-language flags, computed by hand for known texts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.plans.readability import FLAG_SENTENCE_WORDS, TARGET, analyse


def test_short_plain_sentence():
    # 5 words, 1 sentence, 0 words over six letters: 5/1 + 100*0/5 = 5
    result = analyse("Jag vill bo kvar hemma.")
    assert (result.words, result.sentences, result.lix) == (5, 1, 5)
    assert result.long_words == [] and result.long_sentences == []
    assert result.ok


def test_long_words_count_in_lix():
    # "Sjuksköterskan" (14), "kommer" (6), "imorgon" (7), "eftermiddag" (11):
    # 4 words, 1 sentence, 3 long (> 6 letters): 4 + 100*3/4 = 79
    result = analyse("Sjuksköterskan kommer imorgon eftermiddag.")
    assert (result.words, result.sentences, result.lix) == (4, 1, 79)
    assert result.long_words == ["Sjuksköterskan"]  # >= 14 letters is flagged
    assert not result.ok and TARGET == 35


def test_two_sentences():
    # 8 words, 2 sentences, 1 long ("hemtjänst" 9): 4 + 100*1/8 = 16.5 -> 16 or 17
    result = analyse("Du får hjälp av hemtjänst. Vi ringer dig.")
    assert (result.words, result.sentences) == (8, 2)
    assert result.lix == round(8 / 2 + 100 * 1 / 8)


def test_thirteen_letters_are_not_flagged_fourteen_are():
    assert analyse("Vårdcentralen.").long_words == []          # 13 letters
    assert analyse("Biståndsbeslut hjälper.").long_words == ["Biståndsbeslut"]  # 14 letters
    assert analyse("Behovsbedömningen.").long_words == ["Behovsbedömningen"]


def test_long_sentence_is_flagged():
    long = " ".join(["ord"] * (FLAG_SENTENCE_WORDS + 1)) + "."
    short = " ".join(["ord"] * FLAG_SENTENCE_WORDS) + "."
    assert len(analyse(long).long_sentences) == 1
    assert analyse(short).long_sentences == []
    both = analyse(short + " " + long)
    assert both.sentences == 2 and len(both.long_sentences) == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "123 456.", "...!!!", "😀😀😀"])
def test_empty_or_no_words(text):
    result = analyse(text)
    assert (result.lix, result.words, result.sentences) == (0, 0, 0)
    assert result.ok


@pytest.mark.parametrize("text", [
    "مريم تريد أن تبقى في البيت.",
    "Jag 😀 vill ❤️ bo kvar hemma 🏠.",
    "Ylva\u200f حسن\u202e gillar musik.",
    "Ünïcödé wörds ñ. Ωμέγα λέξη.",
    "a\x00b",
])
def test_unicode_emoji_and_rtl_do_not_crash(text):
    result = analyse(text)
    assert result.words >= 1 and result.sentences >= 1 and result.lix >= 0


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_a_result(text):
    result = analyse(text)
    assert result.lix >= 0 and result.words >= 0
    assert (result.words == 0) == (result.sentences == 0)
