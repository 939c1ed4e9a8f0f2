"""Property-based fuzzing of the command parser and of every command's arguments (issue: robustness).

Over 10,000 generated inputs in total: unicode, quotes, HTML, very long strings, control characters. No input
may crash a handler (an internal-error reply counts as a crash), every command invocation is answered, no
formatted body contains the injected HTML, and no message can mention the whole room."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.framework import ArgError, CommandError, parse_arguments, tokenize
from tests.inprocess import all_commands, invoke, make_app, prepare

MARKER_TAGS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="y">',
    "<b>fett</b>",
    "<a href='https://e.x'>l</a>",
)

pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            *MARKER_TAGS,
            "@room",
            "@ROOM",
            '"',
            "„",
            "“",
            "'",
            "--",
            "--kapazität",
            "--wechseln",
            "--seed",
            "\x00",
            "\u202e",
            "\n",
            "\t",
            "  ",
            "10",
            "-1",
            "0",
            "999999999999",
            "B2",
            "A1",
            "@anna:example.org",
            "morgen 9 Uhr",
            "in 10 Minuten",
            "15.12.",
            "11:15-12:00",
            "7m",
            "alle",
            "bestätigen",
            "x" * 300,
            "**",
            "[x](javascript:alert(1))",
            "`",
            "#",
            "\\",
            "💥",
            "ä",
            "ß",
        ]
    ),
)
argument_text = st.lists(pieces, max_size=8).map(" ".join)


@pytest.fixture(scope="module")
def event_loop_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, App]]:
    loop = asyncio.new_event_loop()
    app = make_app(tmp_path_factory.mktemp("fuzz"))
    loop.run_until_complete(prepare(app))
    yield loop, app
    loop.run_until_complete(app.db.close())
    loop.close()


def check_safe(contents: list[dict[str, Any]], text: str) -> None:
    for content in contents:
        formatted = content.get("formatted_body", "")
        for tag in ("<script", "<img", "<b>fett", "<a href='https://e.x'"):
            assert tag not in formatted, (text, formatted)
        assert "@room" not in content.get("body", "").lower(), (text, content.get("body"))
        assert content.get("m.mentions", {}).get("room") is not True
        assert "Fehlernummer" not in content.get("body", ""), (text, content.get("body"))


@settings(max_examples=6000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=argument_text)
def test_tokenizer_and_argument_parsers_never_crash(event_loop_app, text: str) -> None:
    _, app = event_loop_app
    tokenize(text)
    ctx = SimpleNamespace(now_local=lambda: __import__("datetime").datetime.now(), tz=None)
    for command in all_commands(app):
        try:
            parse_arguments(command, text, ctx)  # type: ignore[arg-type]
        except (ArgError, CommandError):
            pass


@settings(max_examples=4500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), text=argument_text, moderator=st.booleans(), language=st.sampled_from(["de", "en"]))
def test_every_command_answers_safely(
    event_loop_app, data: st.DataObject, text: str, moderator: bool, language: str
) -> None:
    loop, app = event_loop_app
    command = data.draw(st.sampled_from(all_commands(app)))
    contents = loop.run_until_complete(invoke(app, command, text, moderator=moderator, language=language))
    assert contents, f"no answer to {command.name_in('de')} {text!r}"
    check_safe(contents, f"{command.name_in('de')} {text!r}")


@pytest.mark.parametrize("topic", ['" "', "!", '""', '" ! "'])
def test_help_with_a_blank_topic_shows_the_overview(event_loop_app, topic: str) -> None:
    """Found by the fuzzer: `!hilfe " "` crashed the handler (an error reply with an error id)."""
    loop, app = event_loop_app
    help_command = next(c for c in all_commands(app) if c.de == "hilfe")
    overview = loop.run_until_complete(invoke(app, help_command, ""))
    answer = loop.run_until_complete(invoke(app, help_command, topic))
    check_safe(answer, topic)
    assert [c["body"] for c in answer] == [c["body"] for c in overview]
