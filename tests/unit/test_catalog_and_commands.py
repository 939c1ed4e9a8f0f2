"""Every feature's catalog is complete in German and English, and every command is documented."""

from __future__ import annotations

import pytest

from bot.app import build_catalog
from bot.features import discover_features
from bot.framework import Command
from bot.i18n import SUPPORTED_LANGUAGES


def all_commands() -> list[Command]:
    result = []
    for feature in discover_features():
        for command in feature.commands:
            result.append(command)
            result.extend(command.subcommands)
    return result


def test_catalogs_have_the_same_keys_in_every_language() -> None:
    missing = build_catalog(discover_features()).missing_keys()
    assert missing == {language: set() for language in SUPPORTED_LANGUAGES}


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: c.name_in("de"))
def test_every_command_has_help_usage_and_example(command: Command) -> None:
    catalog = build_catalog(discover_features())
    for language in SUPPORTED_LANGUAGES:
        for suffix in ("help", "usage", "example"):
            assert catalog.has(f"{command.help}_{suffix}", language), f"{command.help}_{suffix} [{language}]"


def test_command_names_are_unique() -> None:
    seen: dict[str, str] = {}
    from bot.framework import fold

    for feature in discover_features():
        for command in feature.commands:
            for name in set(map(fold, command.names)):
                assert name not in seen, f"{name} used by {seen.get(name)} and {command.de}"
                seen[name] = command.de
