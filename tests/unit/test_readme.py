"""The README's command reference names every command in German and English."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_catalog
from bot.features import discover_features

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_lists_every_command_in_both_languages() -> None:
    features = discover_features()
    catalog = build_catalog(features)
    for feature in features:
        for command in feature.commands:
            for cmd in ([command] if command.handler else []) + command.subcommands:
                for language in ("de", "en"):
                    usage = catalog.translator(language)(f"{cmd.help}_usage", p="!").replace("|", "\\|")
                    assert f"`{usage}`" in README, f"README lacks {usage}"


def test_readme_quick_start_names_the_two_commands() -> None:
    assert "make run" in README
    assert "make test" in README
