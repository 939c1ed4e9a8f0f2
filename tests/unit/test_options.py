"""Options as members type them on a phone: without dashes, with any dash, with smart quotes — and the rule
that keeps an option's word inside a free-text description a word (docs/wording.md, "Options")."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.framework import ArgError, Command, Flag, Int, parse_arguments
from commands.sessions.session_commands import session_cmd
from tests.catalog import catalog


def propose_command() -> Command:
    found = session_cmd.find_subcommand("vorschlagen")
    assert found is not None
    return found


def parse(raw: str) -> dict[str, Any]:
    return parse_arguments(propose_command(), raw, SimpleNamespace())  # type: ignore[arg-type]


def proposal(
    title: str, description: str = "", capacity: int | None = None, theme: str | None = None
) -> dict[str, Any]:
    return {"title": title, "description": description, "capacity": capacity, "theme": theme}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # The example, and its English twin.
        ('"Titel" plätze 20 thema KI', proposal("Titel", capacity=20, theme="KI")),
        ('"Title" seats 20 theme AI', proposal("Title", capacity=20, theme="AI")),
        # Every spelling of the seats option, capitalised too (phones capitalise after a full stop).
        ('"Titel" kapazität 20', proposal("Titel", capacity=20)),
        ('"Titel" Kapazität 20', proposal("Titel", capacity=20)),
        ('"Titel" kapazitaet 20', proposal("Titel", capacity=20)),
        ('"Titel" plaetze 20', proposal("Titel", capacity=20)),
        ('"Titel" Plätze 20', proposal("Titel", capacity=20)),
        ('"Titel" capacity 20', proposal("Titel", capacity=20)),
        ('"Titel" säule KI', proposal("Titel", theme="KI")),
        # Every dash a keyboard makes of "--" still works, anywhere.
        ('"Titel" --plätze 20 --thema KI', proposal("Titel", capacity=20, theme="KI")),
        ('"Titel" —plätze 20 —thema KI', proposal("Titel", capacity=20, theme="KI")),
        ('"Titel" –plätze 20 –thema KI', proposal("Titel", capacity=20, theme="KI")),
        ('"Titel" -plätze 20 -thema KI', proposal("Titel", capacity=20, theme="KI")),
        ('"Titel" −plätze 20', proposal("Titel", capacity=20)),
        ('"Titel" --plätze=20', proposal("Titel", capacity=20)),
        (
            '"Titel" Erfahrungen aus drei Ämtern --plätze 20',
            proposal("Titel", "Erfahrungen aus drei Ämtern", 20),
        ),
        # Mixed: one with a dash, one without.
        ('"Titel" plätze 20 —thema KI', proposal("Titel", capacity=20, theme="KI")),
        # Options, then the description.
        (
            '"KI in der Verwaltung" plätze 20 thema KI Erfahrungen aus drei Ämtern',
            proposal("KI in der Verwaltung", "Erfahrungen aus drei Ämtern", 20, "KI"),
        ),
        # Options before the title, and a one-word title.
        ('plätze 20 "Titel" Text', proposal("Titel", "Text", 20)),
        ("KI plätze 20", proposal("KI", capacity=20)),
        # Smart quotes around the title and a theme of several words.
        (
            "„KI in der Verwaltung“ plätze 20 thema „Digitale Verwaltung“ Erfahrungen",
            proposal("KI in der Verwaltung", "Erfahrungen", 20, "Digitale Verwaltung"),
        ),
        ("“Title” seats 12 theme «Open data»", proposal("Title", capacity=12, theme="Open data")),
        ("«Titel» thema ‚Offene Daten‘", proposal("Titel", theme="Offene Daten")),
        ("„Titel“ Nr. 3 plätze 20", proposal("Titel", "Nr. 3 plätze 20")),
    ],
)
def test_options_without_and_with_dashes(raw: str, expected: dict[str, Any]) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Inside the description an option's word is a word: the description has begun.
        ('"Titel" Eine Session zum Thema KI', proposal("Titel", "Eine Session zum Thema KI")),
        ('"Titel" Erfahrungen, plätze 20 und mehr', proposal("Titel", "Erfahrungen, plätze 20 und mehr")),
        ('"Titel" Wir reden über das thema Daten', proposal("Titel", "Wir reden über das thema Daten")),
        # An option's word alone at the end has no value: it is text.
        ('"Titel" Plätze', proposal("Titel", "Plätze")),
        # A quoted description or title is never an option.
        ('"Titel" "Thema ist KI"', proposal("Titel", "Thema ist KI")),
        ('"Thema" plätze 5', proposal("Thema", capacity=5)),
        # An option already given with a dash leaves the word to the text.
        ('"Titel" --thema KI thema ist spannend', proposal("Titel", "thema ist spannend", theme="KI")),
        # Only the command's own options: other words stay text.
        ('"Titel" raum 12 und mehr', proposal("Titel", "raum 12 und mehr")),
        # The free text starts after the options: "thema" in it is a word again.
        ('"Titel" thema KI Mehr zum Thema Daten', proposal("Titel", "Mehr zum Thema Daten", theme="KI")),
    ],
)
def test_an_option_word_inside_the_description_stays_text(raw: str, expected: dict[str, Any]) -> None:
    assert parse(raw) == expected


def test_a_description_starting_with_an_option_word_needs_quotes() -> None:
    """The ambiguous case the rule decides: right after the title, "thema X" is the theme. Quotes keep it
    text (the test above), and the refusal for a seats value that is no number says so."""
    assert parse('"Titel" Thema Verwaltung im Wandel') == proposal("Titel", "im Wandel", theme="Verwaltung")
    with pytest.raises(ArgError) as error:
        parse('"Titel" Plätze sind begrenzt')
    assert error.value.key == "core_arg_option_not_a_number"
    assert error.value.params["option"] == "Plätze"


@pytest.mark.parametrize(
    ("raw", "key", "option", "params"),
    [
        ('"Titel" plätze zwanzig', "core_arg_option_not_a_number", "plätze", {"value": "zwanzig"}),
        ('"Titel" —plätze zwanzig', "core_arg_option_not_a_number", "plätze", {"value": "zwanzig"}),
        ('"Titel" seats twenty', "core_arg_option_not_a_number", "seats", {"value": "twenty"}),
        ('"Titel" plätze 0', "core_arg_option_too_small", "plätze", {"value": 0, "minimum": 1}),
        ('"Titel" --kapazität=-3', "core_arg_option_too_small", "kapazität", {"value": -3, "minimum": 1}),
        ('"Titel" --plätze', "core_arg_option_missing", "plätze", {}),
        ('"Titel" --thema', "core_arg_option_missing", "thema", {}),
        ('"Titel" thema ' + "x" * 101, "core_arg_option_too_long", "thema", {"length": 101}),
    ],
)
def test_a_wrong_value_is_refused_with_what_to_type(
    raw: str, key: str, option: str, params: dict[str, Any]
) -> None:
    with pytest.raises(ArgError) as error:
        parse(raw)
    assert error.value.key == key
    assert error.value.show_usage
    assert error.value.params["option"] == option
    # The example is the option as typed with a value that works.
    example = error.value.params["example"]
    assert example.startswith(option + " ")
    flag = next(f for f in propose_command().flags if f.spelled(option))
    assert parse(f'"Titel" {example}')[flag.name] is not None
    for name, value in params.items():
        assert error.value.params[name] == value


OPTION_KEYS = (
    "core_arg_option_missing",
    "core_arg_option_not_a_number",
    "core_arg_option_too_small",
    "core_arg_option_too_large",
    "core_arg_option_too_long",
    "core_arg_option_invalid",
)


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("key", OPTION_KEYS)
def test_every_option_refusal_shows_what_to_type(key: str, language: str) -> None:
    template = catalog().template(key, language)
    assert "`{example}`" in template
    assert "{option}" in template


def test_an_unknown_wrong_value_gets_the_general_option_refusal() -> None:
    class Odd(Int):
        def parse(self, state: Any) -> int:
            raise ArgError("core_arg_not_a_time", value="x")

    cmd = Command(
        feature=propose_command().feature, de="x", en="x", help="x", flags=[Flag("n", ("n",), Odd(), "5")]
    )
    with pytest.raises(ArgError) as error:
        parse_arguments(cmd, "n 7", SimpleNamespace())  # type: ignore[arg-type]
    assert error.value.key == "core_arg_option_invalid"
    assert error.value.params["example"] == "n 5"


def test_an_option_with_a_value_declares_an_example() -> None:
    with pytest.raises(ValueError, match="example"):
        Flag("capacity", ("plätze",), Int())
    assert Flag("switch", ("wechseln",)).example == ""


def test_every_declared_option_example_works() -> None:
    """Each option's example value parses with the option's own type (refusals show it)."""
    from bot.features import discover_features

    def walk(commands: list[Command]) -> list[Command]:
        return [c for command in commands for c in (command, *walk(command.subcommands))]

    checked = 0
    for feature in discover_features():
        for command in walk(feature.commands):
            for flag in command.flags:
                if flag.type is None:
                    continue
                cmd = Command(feature=feature, de="x", en="x", help="x", flags=[flag])
                values = parse_arguments(cmd, f"{flag.spellings[0]} {flag.example}", SimpleNamespace())  # type: ignore[arg-type]
                assert values[flag.name] is not None, (command.de, flag.name)
                checked += 1
    assert checked >= 3
