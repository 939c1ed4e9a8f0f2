"""config.example.toml is valid and documents every setting the bot has."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.config import load_settings, section, settings_model
from bot.features import feature_sections
from commands.digest.config import DigestConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.bot.language == "de"
    assert section(settings, "digest", DigestConfig).schedule == "0 9 1-7 * mon"


def test_every_setting_is_documented_in_the_example() -> None:
    text = EXAMPLE.read_text()
    data = tomllib.loads(text)
    for name, field in settings_model(feature_sections()).model_fields.items():
        assert name in data, f"[{name}] missing in config.example.toml"
        model = field.annotation
        for key in model.model_fields:  # type: ignore[union-attr]
            assert f"{key} =" in text, f"{name}.{key} is not documented in config.example.toml"
