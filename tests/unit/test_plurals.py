"""Counts in messages: "1 Person", "2 Personen" — every count goes through a ``_one``/``_other`` pair."""

from __future__ import annotations

import re

import pytest

from bot.app import build_catalog
from bot.features import discover_features
from bot.i18n import SUPPORTED_LANGUAGES, Catalog, plural, with_defaults

# A number placeholder directly before a plural noun: only an ``_other`` form may say that. Limits ({max},
# {needed}, {hours}) are never 1; "mehr als {seats}" is; "{confirmed} Personen … mehr als" is at least 2;
# "{free} von {capacity} Plätzen" reads right for every number.
_COUNTED_PLURAL = re.compile(
    r"(?<![/\w])(?<!von )(?<!of )\{(?!max\}|needed\}|hours\}|confirmed\})\w+\} "
    r"(Personen|Einträge|Räumen|Räume|Teilnehmende|Plätze|Plätzen|Fragen|Minuten|Sekunden|Stunden|"
    r"Programmpunkte|Kontakte|Erinnerungen|people|entries|rooms|seats|prompts|minutes|seconds|items|slots|"
    r"problems|contacts|reminders|participants)\b"
)


def catalog() -> Catalog:
    return build_catalog(discover_features())


def test_every_one_form_has_an_other_form_in_every_language() -> None:
    messages = catalog().messages
    for language in SUPPORTED_LANGUAGES:
        for key in messages[language]:
            if key.endswith("_one"):
                base = key.removesuffix("_one")
                assert base + "_other" in messages[language] or base in messages[language], (language, key)


def test_no_count_stands_before_a_plural_noun_outside_an_other_form() -> None:
    messages = catalog().messages
    for language in SUPPORTED_LANGUAGES:
        for key, template in messages[language].items():
            if key.endswith("_other"):
                continue
            assert not _COUNTED_PLURAL.search(template), f"{language}.{key}: {template}"


@pytest.mark.parametrize(
    ("key", "one", "three"),
    [
        ("networking_people_count", "1 Person", "3 Personen"),
        ("networking_rooms_count", "1 gemeinsamen Raum", "3 gemeinsamen Räumen"),
        ("privacy_entries_count", "1 Eintrag", "3 Einträge"),
        ("sessions_seats_count", "1 Platz", "3 Plätze"),
        ("sessions_items_count", "1 Programmpunkt", "3 Programmpunkte"),
    ],
)
def test_german_forms(key: str, one: str, three: str) -> None:
    t = catalog().translator("de")
    assert plural(t, key, 1) == one
    assert plural(t, key, 3) == three
    assert plural(t, key, 0) == three.replace("3", "0")


def test_english_forms() -> None:
    t = catalog().translator("en")
    assert plural(t, "privacy_entries_count", 1) == "1 entry"
    assert plural(t, "privacy_entries_count", 2) == "2 entries"
    assert plural(t, "networking_people_count", 1) == "1 person"


def test_a_whole_sentence_agrees_with_its_count() -> None:
    t = catalog().translator("de")
    assert plural(t, "sessions_capacity_promoted", 1).startswith("1 Person von der Warteliste ist ")
    assert plural(t, "sessions_capacity_promoted", 2).startswith("2 Personen von der Warteliste sind ")
    done = t("privacy_forget_done", entries=plural(t, "privacy_entries_count", 1))
    assert "1 Eintrag " in done


def test_defaults_fill_the_prefix_for_pure_composers() -> None:
    t = with_defaults(catalog().translator("de"), p="?")
    assert t("digest_command_signup") == "?anmelden"
    assert t.language == "de"
