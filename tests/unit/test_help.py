"""The help as a member reads it on a phone: every example it shows works, and the overview fits a screen.

Generic over the catalog and the declared commands, so commands that are added later are covered too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from bot.context import CommandContext
from bot.framework import CommandError, Permission, parse_arguments
from bot.i18n import SUPPORTED_LANGUAGES
from commands.help import find_topic, moderation_text, overview, runnable, topic_text, topics
from tests.inprocess import make_app

# A member's overview must fit one phone screen (Element X on a 6" phone shows about 20 short lines).
PHONE_LINES = 20
MODERATOR_LINES = 28

# A command in backticks inside a help text: `!anmelden 12`, but not the notation `!anmelden <Nr.>`.
_SHOWN = re.compile(r"`(![^`]+)`")
_NOTATION = re.compile(r"[<>…]|\[.*\]|\w\|\w")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(Path(tmp_path_factory.mktemp("help")))


def context(app: App, language: str, *, moderator: bool = False) -> CommandContext:
    return CommandContext(
        app=app,
        room_id="!room:example.org",
        sender="@anna:example.org",
        event_id="$help",
        language=language,
        timezone="Europe/Berlin",
        is_direct=False,
        is_moderator=moderator,
        is_admin=False,
    )


def help_texts(app: App, language: str) -> Iterator[tuple[str, str]]:
    """(key, text) of everything the help shows: examples, help lines, the overview and topic texts."""
    t = app.catalog.translator(language)
    for key in sorted(app.catalog.messages[language]):
        if key.endswith(("_example", "_help")) or key.startswith("help_"):
            yield key, t(key, p="!", topics="", example="", help="", alias="", topic="")


def shown_examples(app: App, language: str) -> Iterator[tuple[str, str]]:
    for key, text in help_texts(app, language):
        if key.endswith("_example"):
            yield key, text
        for shown in _SHOWN.findall(text):
            if not _NOTATION.search(shown) and shown != "!":
                yield key, shown


def example_cases() -> list[tuple[str, str, str]]:
    app = make_app(Path("/nonexistent"))
    return sorted(
        {
            (language, key, example)
            for language in SUPPORTED_LANGUAGES
            for key, example in shown_examples(app, language)
        }
    )


@pytest.mark.parametrize(("language", "key", "example"), example_cases())
def test_every_example_in_the_help_parses(app: App, language: str, key: str, example: str) -> None:
    ctx = context(app, language, moderator=True)
    router = app.router
    invocation = router.strip_invocation(example)
    assert invocation is not None, f"{key}: {example!r} does not start with the prefix"
    command, rest, _, fallback = router.resolve(invocation)
    assert command is not None, f"{key}: {example!r} names no command"
    if fallback is not None and router._meant_as_text(ctx, command, rest, *fallback):
        command, rest = fallback
    assert command.handler is not None, f"{key}: {example!r} names a group, not a command"
    try:
        parse_arguments(command, rest, ctx)
    except CommandError as error:
        pytest.fail(f"{key}: {example!r} is refused by the parser ({error.key}, {error.params})")
    if key.endswith("_example"):
        # A command's own example demonstrates that command (not a look-alike).
        # A group's example shows one of its subcommands.
        helps = {command.help, command.parent.help if command.parent else None}
        assert key.removesuffix("_example") in helps, f"{key}: {example!r} runs {command.help}"


def test_every_runnable_command_has_an_example() -> None:
    app = make_app(Path("/nonexistent"))
    for feature in app.features:
        for command in feature.commands:
            for cmd in ([command] if command.handler else []) + command.subcommands:
                for language in SUPPORTED_LANGUAGES:
                    assert app.catalog.has(f"{cmd.help}_example", language)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_members_overview_fits_a_phone_screen(app: App, language: str) -> None:
    text = overview(context(app, language))
    assert len(text.splitlines()) <= PHONE_LINES, text
    assert app.catalog.translator(language)("help_overview_moderator", p="!") not in text
    examples = _SHOWN.findall(text)
    assert 8 <= len([e for e in examples if not _NOTATION.search(e)]) <= 12, examples


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_moderators_see_a_second_short_block(app: App, language: str) -> None:
    text = overview(context(app, language, moderator=True))
    assert app.catalog.translator(language)("help_overview_moderator", p="!") in text
    assert len(text.splitlines()) <= MODERATOR_LINES, text


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_topic_in_the_footer_is_found(app: App, language: str) -> None:
    ctx = context(app, language)
    for feature in topics(ctx):
        word = (
            app.catalog.translator(language)(f"{feature.name}_topic")
            if app.catalog.has(f"{feature.name}_topic", language)
            else None
        )
        if word is not None:
            assert find_topic(ctx, word) is feature, word
        text = topic_text(ctx, "x", runnable(ctx, feature))
        assert all(c.permission is Permission.MEMBER for c in runnable(ctx, feature)), text


def test_the_moderation_topic_lists_only_moderator_commands(app: App) -> None:
    text = moderation_text(context(app, "de", moderator=True))
    assert "`!veranstaltung neu" in text
    assert "`!anmelden" not in text


def test_no_message_hard_codes_the_prefix(app: App) -> None:
    """Every command named in a message uses ``{p}``: a bot configured with ``?`` must never say ``!…``."""
    for language in SUPPORTED_LANGUAGES:
        for key, template in app.catalog.messages[language].items():
            assert not re.search(r"`![A-Za-zÄÖÜäöü]", template), f"{language}.{key}: {template}"
