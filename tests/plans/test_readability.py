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


# Real sentences of the kind coordinators write, counted by hand. A word is a run of
# letters ("8", "14.30" and "0480-123" are not words); an abbreviation is one word.
# LIX = words / sentences + 100 * long words (more than six letters) / words, rounded.
HAND_COUNTED = [
    # Ring sjuksköterskan på vårdcentralen t.ex. kl. 8 om du får biverkningar.
    # words: Ring, sjuksköterskan, på, vårdcentralen, t.ex., kl., om, du, får, biverkningar = 10
    # sentences 1; long: sjuksköterskan, vårdcentralen, biverkningar = 3
    # LIX = 10/1 + 100*3/10 = 10 + 30 = 40 (not 4 sentences and 30: over the target)
    ("Ring sjuksköterskan på vårdcentralen t.ex. kl. 8 om du får biverkningar.", 10, 1, 3, 40),
    # Vi ses kl. 14.30 på mottagningen. | Ta med dina mediciner.
    # words 5 + 4 = 9; sentences 2; long: mottagningen, mediciner = 2
    # LIX = 9/2 + 100*2/9 = 4.5 + 22.2 = 26.7 -> 27
    ("Vi ses kl. 14.30 på mottagningen. Ta med dina mediciner.", 9, 2, 2, 27),
    # Mötet börjar 8.15 och slutar ca. 9.30.
    # words: Mötet, börjar, och, slutar, ca. = 5; sentences 1; long 0 (börjar, slutar: 6)
    # LIX = 5/1 + 0 = 5
    ("Mötet börjar 8.15 och slutar ca. 9.30.", 5, 1, 0, 5),
    # Du får hjälp med bl.a. städning, tvätt och inköp. | Hemtjänsten kommer två gånger i veckan.
    # words 9 + 6 = 15; sentences 2; long: städning, Hemtjänsten = 2 (kommer, gånger, veckan: 6)
    # LIX = 15/2 + 100*2/15 = 7.5 + 13.3 = 20.8 -> 21
    ("Du får hjälp med bl.a. städning, tvätt och inköp. Hemtjänsten kommer två gånger i veckan.",
     15, 2, 2, 21),
    # Planen gäller fr.o.m. 1 mars t.o.m. 31 augusti.
    # words: Planen, gäller, fr.o.m., mars, t.o.m., augusti = 6; sentences 1; long: augusti = 1
    # LIX = 6/1 + 100*1/6 = 6 + 16.7 = 22.7 -> 23
    ("Planen gäller fr.o.m. 1 mars t.o.m. 31 augusti.", 6, 1, 1, 23),
    # Ta med legitimation, recept, glasögon osv. | Vi bjuder på kaffe.
    # ("osv." before a capital ends the sentence.) words 6 + 4 = 10; sentences 2;
    # long: legitimation, glasögon = 2 (recept: 6). LIX = 10/2 + 100*2/10 = 5 + 20 = 25
    ("Ta med legitimation, recept, glasögon osv. Vi bjuder på kaffe.", 10, 2, 2, 25),
    # Kalle ska få en s.k. kontaktperson, dvs. en person som hjälper honom att komma ut.
    # words 15; sentences 1; long: kontaktperson, hjälper = 2 (person: 6)
    # LIX = 15/1 + 100*2/15 = 15 + 13.3 = 28.3 -> 28
    ("Kalle ska få en s.k. kontaktperson, dvs. en person som hjälper honom att komma ut.",
     15, 1, 2, 28),
    # Dosen är 2.5 mg. | Ring tel. 0480-123 45 om du har frågor om medicinen.
    # words: Dosen, är, mg = 3; Ring, tel., om, du, har, frågor, om, medicinen = 8; total 11
    # sentences 2; long: medicinen = 1. LIX = 11/2 + 100*1/11 = 5.5 + 9.1 = 14.6 -> 15
    ("Dosen är 2.5 mg. Ring tel. 0480-123 45 om du har frågor om medicinen.", 11, 2, 1, 15),
    # Samordnaren ringer dig. | Sedan bokar vi ett möte m.m. | Vi hörs!
    # words 3 + 6 + 2 = 11; sentences 3; long: Samordnaren = 1
    # LIX = 11/3 + 100*1/11 = 3.7 + 9.1 = 12.8 -> 13
    ("Samordnaren ringer dig. Sedan bokar vi ett möte m.m. Vi hörs!", 11, 3, 1, 13),
    # Mötet är den 3 april kl. 10:00 i Kalmar, rum 12.
    # words: Mötet, är, den, april, kl., i, Kalmar, rum = 8; sentences 1; long 0 (Kalmar: 6)
    # LIX = 8/1 + 0 = 8
    ("Mötet är den 3 april kl. 10:00 i Kalmar, rum 12.", 8, 1, 0, 8),
    # T.ex. kan du ringa oss. (capital abbreviation first)
    # words: T.ex., kan, du, ringa, oss = 5; sentences 1; long 0. LIX = 5
    ("T.ex. kan du ringa oss.", 5, 1, 0, 5),
    # Ta med kläder, skor o.s.v. och lite mat. ("o.s.v." before a small letter: one sentence)
    # words: Ta, med, kläder, skor, o.s.v., och, lite, mat = 8; sentences 1; long 0
    # (kläder: 6). LIX = 8
    ("Ta med kläder, skor o.s.v. och lite mat.", 8, 1, 0, 8),
]


@pytest.mark.parametrize(("text", "words", "sentences", "long_count", "lix"), HAND_COUNTED)
def test_hand_counted_sentences_with_abbreviations_times_and_decimals(
        text, words, sentences, long_count, lix):
    result = analyse(text)
    assert (result.words, result.sentences, result.long_count, result.lix) == \
        (words, sentences, long_count, lix)
    assert lix == round(words / sentences + 100 * long_count / words)  # the table adds up


def test_a_long_sentence_is_shown_as_written_with_its_abbreviations():
    text = ("Du kan t.ex. ringa oss kl. 8.15 varje dag om du vill prata om hur det går, "
            "om du undrar över något eller om du vill ändra något i planen.")
    [sentence] = analyse(text).long_sentences
    assert sentence == text[:-1]  # as written, without the full stop that ends it
