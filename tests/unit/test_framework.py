"""The command framework without Matrix: tokenizing, argument parsing, name folding, invitation rules."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.framework import (
    Arg,
    ArgError,
    Choice,
    Command,
    DurationArg,
    Feature,
    Flag,
    Int,
    Quoted,
    Text,
    UserArg,
    fold,
    parse_arguments,
    tokenize,
)
from bot.matrix import is_allowed_inviter
from bot.router import command_text


def command(*args: Arg, flags: tuple[Flag, ...] = ()) -> Command:
    return Command(feature=Feature("t"), de="x", en="x", help="x", args=list(args), flags=list(flags))


def parse(cmd: Command, raw: str) -> dict[str, Any]:
    return parse_arguments(cmd, raw, SimpleNamespace())  # type: ignore[arg-type]


def test_tokenize_keeps_quoted_phrases_and_apostrophes() -> None:
    assert [t.text for t in tokenize('neu "Open Source in der Kommune" 15.05.2027')] == [
        "neu",
        "Open Source in der Kommune",
        "15.05.2027",
    ]
    assert [t.text for t in tokenize("„Digitale Verwaltung“ geht's")] == ["Digitale Verwaltung", "geht's"]
    assert [t.text for t in tokenize('"unclosed quote here')] == ['"unclosed', "quote", "here"]


def test_text_takes_the_rest_as_typed() -> None:
    cmd = command(Arg("title", Quoted()), Arg("rest", Text()))
    assert parse(cmd, '"Mein Titel"  Beschreibung  mit   Abständen') == {
        "title": "Mein Titel",
        "rest": "Beschreibung  mit   Abständen",
    }


def test_flags_anywhere_with_umlaut_spellings() -> None:
    cmd = command(
        Arg("title", Quoted()),
        flags=(
            Flag("capacity", ("kapazität", "capacity"), Int(minimum=1), "20"),
            Flag("switch", ("wechseln", "switch")),
        ),
    )
    assert parse(cmd, "--kapazitaet 20 Titel --wechseln") == {
        "title": "Titel",
        "capacity": 20,
        "switch": True,
    }
    assert parse(cmd, "Titel --capacity=5") == {"title": "Titel", "capacity": 5, "switch": False}
    with pytest.raises(ArgError) as error:
        parse(cmd, "Titel --kapazität 0")
    assert error.value.key == "core_arg_option_too_small"
    with pytest.raises(ArgError) as error:
        parse(cmd, "Titel --farbe rot")
    assert error.value.key == "core_arg_unknown_flag"


@pytest.mark.parametrize(
    ("raw", "key"),
    [("", "core_arg_missing"), ("zwölf", "core_arg_not_a_number"), ("3 4", "core_arg_unexpected")],
)
def test_int_errors(raw: str, key: str) -> None:
    with pytest.raises(ArgError) as error:
        parse(command(Arg("n", Int())), raw)
    assert error.value.key == key
    assert error.value.show_usage


def test_choice_user_duration() -> None:
    cmd = command(
        Arg("level", Choice({"kommune": ("municipal",)})), Arg("who", UserArg()), Arg("d", DurationArg())
    )
    assert parse(cmd, "Municipal @anna:example.org 7m") == {
        "level": "kommune",
        "who": "@anna:example.org",
        "d": timedelta(minutes=7),
    }
    with pytest.raises(ArgError) as error:
        parse(cmd, "kommune anna 7m")
    assert error.value.key == "core_arg_not_a_user"


def test_optional_argument_default() -> None:
    assert parse(command(Arg("topic", Text(), required=False, default=None)), "") == {"topic": None}


@pytest.mark.parametrize("raw", ['" "', '""', '"   "'])
def test_blank_quoted_text_is_no_text(raw: str) -> None:
    assert parse(command(Arg("topic", Text(), required=False, default=None)), raw) == {"topic": None}
    with pytest.raises(ArgError) as error:
        parse(command(Arg("news", Text())), raw)
    assert error.value.key == "core_arg_missing"
    assert parse(command(Arg("month", Text(allow_empty=True))), raw) == {"month": ""}


def test_fold_matches_umlaut_spellings() -> None:
    assert fold("Löschen") == fold("loeschen") == "loeschen"
    assert fold("Kapazität") == "kapazitaet"


def test_command_text_uses_pills_and_drops_reply_fallback() -> None:
    event = SimpleNamespace(
        body="> <@x:y> old\n\n!bingo B2 Anna",
        format="org.matrix.custom.html",
        formatted_body="<mx-reply><blockquote>old</blockquote></mx-reply>!bingo B2 "
        '<a href="https://matrix.to/#/@anna:example.org">Anna</a>',
    )
    assert command_text(event) == "!bingo B2 @anna:example.org"
    plain = SimpleNamespace(body="> <@x:y> quoted\n!hilfe", format=None, formatted_body=None)
    assert command_text(plain) == "!hilfe"


@pytest.mark.parametrize(
    ("inviter", "allowed", "expected"),
    [
        ("@anna:example.org", [], True),  # a configured admin or moderator
        ("@bert:example.org", [], False),  # same server, but not trusted: empty means admins/moderators only
        ("@eve:evil.example", [], False),
        ("@eve:evil.example", ["@eve:evil.example"], True),
        ("@bob:other.org", ["other.org"], True),
        ("@bob:other.org", ["@anna:other.org"], False),
    ],
)
def test_allowed_inviters(inviter: str, allowed: list[str], expected: bool) -> None:
    assert is_allowed_inviter(inviter, allowed, {"@anna:example.org"}) is expected


PHONE_FLAGS = (
    Flag("capacity", ("kapazität", "capacity"), Int(minimum=1), "20"),
    Flag("switch", ("wechseln", "switch")),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 --wechseln", {"n": 12, "switch": True, "capacity": None}),
        ("12 —wechseln", {"n": 12, "switch": True, "capacity": None}),  # iOS: "--" becomes an em dash
        ("12 –wechseln", {"n": 12, "switch": True, "capacity": None}),  # Android: an en dash
        ("12 -wechseln", {"n": 12, "switch": True, "capacity": None}),
        ("12 wechseln", {"n": 12, "switch": True, "capacity": None}),  # no dashes at all
        ("12 Wechseln", {"n": 12, "switch": True, "capacity": None}),
        ("12 —kapazität 20", {"n": 12, "switch": False, "capacity": 20}),
        ("Nr. 12", {"n": 12, "switch": False, "capacity": None}),
        ("#12", {"n": 12, "switch": False, "capacity": None}),
        ("<12>", {"n": 12, "switch": False, "capacity": None}),
        ("12.", {"n": 12, "switch": False, "capacity": None}),
        ("Nr.12", {"n": 12, "switch": False, "capacity": None}),
    ],
)
def test_typed_on_a_phone(raw: str, expected: dict[str, Any]) -> None:
    assert parse(command(Arg("n", Int()), flags=PHONE_FLAGS), raw) == expected


def test_dashed_words_in_free_text_stay_words() -> None:
    cmd = command(Arg("title", Quoted()), Arg("rest", Text(), required=False), flags=PHONE_FLAGS)
    assert parse(cmd, '"KI" Vorstellung —Beta und -Pilot') == {
        "title": "KI",
        "rest": "Vorstellung —Beta und -Pilot",
        "capacity": None,
        "switch": False,
    }


def test_all_kinds_of_quotes_group_words() -> None:
    for opening, closing in [
        ('"', '"'),
        ("„", "“"),
        ("“", "”"),
        ("«", "»"),
        ("»", "«"),
        ("‚", "‘"),
        ("‹", "›"),
    ]:
        assert [t.text for t in tokenize(f"{opening}Offene Daten{closing} 20")] == ["Offene Daten", "20"]
