"""Short chat answers to a yes/no question (bot/answers.py): German and English, emoji, capitals,
punctuation, colloquial forms; unclear answers stay unclear."""

from __future__ import annotations

import pytest

from bot.answers import WORDS_READ, YesNo, classify_answer, classify_short_answer, words_of

YES = [
    "ja", "Ja", "JA", "ja.", "Ja!", "Ja, gerne!", "ja gerne", "Ja gern", "jo", "Jap", "jep", "jawohl", "ok",
    "OK!", "okay", "Okay 👍", "klar", "Na klar!", "gerne", "sicher", "einverstanden", "passt", "yes", "Yes!",
    "yeah", "yep", "sure", "Sure thing", "of course", "why not", "Warum nicht?", "kein Problem",
    "no problem", "👍", "👍🏽", "👍️", "✅", "✔️", "👌", "haben wir", "Ja, haben wir!", "yes we did",
    "we met", "Wir haben uns getroffen", "auf jeden Fall", "Hallo, ja gerne", "ja klar, warum nicht",
]  # fmt: skip
NO = [
    "nein", "Nein", "NEIN!!", "nein.", "nö", "Nö", "noe", "nee", "ne", "no", "No.", "nope", "no thanks",
    "No, thank you", "nein danke", "Nein, danke!", "lieber nicht", "Lieber nicht.", "leider nicht",
    "eher nicht", "nicht so gern", "haben wir nicht", "Nein, haben wir nicht", "we didn't", "we did not",
    "didn't work out", "never", "👎", "👎🏻", "❌", "keine Zeit",
]  # fmt: skip
NOT_YET = [
    "noch nicht", "Noch nicht!", "nein, noch nicht", "ja, aber noch nicht", "not yet", "Not yet.",
    "später", "spaeter", "bald", "demnächst", "⏳", "soon", "noch nicht getroffen", "ist geplant",
    "wir sind verabredet", "haven't met yet",
]  # fmt: skip
UNCLEAR = [
    "", "   ", "!!!", "vielleicht", "Vielleicht ja", "maybe", "jein", "Hallo", "Wer bist du?", "🤷",
    "weiß nicht", "Mittwoch um 10?", "abc", "the quick brown fox",
]  # fmt: skip


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert classify_answer(text) is YesNo.YES


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert classify_answer(text) is YesNo.NO


@pytest.mark.parametrize("text", NOT_YET)
def test_not_yet(text: str) -> None:
    assert classify_answer(text) is YesNo.NOT_YET


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear(text: str) -> None:
    assert classify_answer(text) is None


def test_words_are_folded_and_punctuation_dropped() -> None:
    assert words_of("Ja, gerne!") == ["ja", "gerne"]
    assert words_of("Nö…") == ["noe"]
    assert words_of("we didn’t") == ["we", "didn't"]
    assert words_of("ok👍🏾") == ["ok", "👍"]


def test_only_the_start_of_a_long_message_is_read() -> None:
    chat = " ".join(["bla"] * WORDS_READ) + " ja"
    assert classify_answer(chat) is None
    assert classify_answer("ja " + " ".join(["bla"] * 30)) is YesNo.YES


def test_a_message_that_is_no_reply_counts_only_when_short() -> None:
    assert classify_short_answer("Ja, gerne!") is YesNo.YES
    assert classify_short_answer("nein danke") is YesNo.NO
    assert classify_short_answer("ok 👍") is YesNo.YES
    assert classify_short_answer("Ja, ich wollte nach dem Barcamp fragen") is None
    assert classify_short_answer("Hallo") is None
