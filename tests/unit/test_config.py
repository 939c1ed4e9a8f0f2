"""Configuration: TOML plus environment overrides, and readable problem lists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

GOOD = '[matrix]\nhomeserver = "https://matrix.example.org"\nuser_id = "@bot:example.org"\npassword = "pw"\n'


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD + '[bot]\nlanguage = "en"\n')
    monkeypatch.setenv("COMMUNITY_BOT_MATRIX__PASSWORD", "from-env")
    monkeypatch.setenv("COMMUNITY_BOT_BOT__MODERATOR_POWER_LEVEL", "75")
    settings = load_settings(path)
    assert settings.matrix.password is not None
    assert settings.matrix.password.get_secret_value() == "from-env"
    assert settings.bot.language == "en"
    assert settings.bot.moderator_power_level == 75
    assert settings.bot.timezone == "Europe/Berlin"
    assert settings.storage.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert "from-env" not in repr(settings)


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[matrix]\nhomeserver = "matrix.example.org"\nuser_id = "bot"\n'
        '[bot]\ntimezone = "Europe/Bärlin"\nlangauge = "de"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    problems = "\n".join(error.value.problems)
    assert "matrix.homeserver" in problems
    assert "matrix.user_id" in problems
    assert "bot.timezone" in problems
    assert "bot.langauge: is not a known setting" in problems


def test_check_config_cli_prints_a_list_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[matrix]\nhomeserver = "ftp://x"\nuser_id = "@bot:x"\npassword = "geheim"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "matrix.homeserver: must start with http:// or https://" in result.stderr
    assert "Traceback" not in result.stderr
    assert "geheim" not in result.stderr + result.stdout
    path.write_text(GOOD)
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "Configuration OK" in ok.stdout


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path / "nope.toml")
    assert "config.example.toml" in error.value.problems[0]


def test_feature_sections_are_read_checked_and_overridable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Features declare their own sections; the file, the environment and the checks work for them too."""
    from bot.config import section
    from commands.bingo.config import BingoConfig
    from commands.sessions.config import SessionsConfig

    path = tmp_path / "config.toml"
    path.write_text(GOOD + "[sessions]\nreminder_minutes = 5\n")
    monkeypatch.setenv("COMMUNITY_BOT_BINGO__DEFAULT_SIZE", "5")
    settings = load_settings(path)
    assert section(settings, "sessions", SessionsConfig).reminder_minutes == 5
    assert section(settings, "bingo", BingoConfig).default_size == 5
    path.write_text(GOOD + '[sessions]\nreminder_minutez = 5\n[digest]\nschedule = "0 9 * *"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    problems = "\n".join(error.value.problems)
    assert "sessions.reminder_minutez: is not a known setting" in problems
    assert "digest.schedule" in problems


def test_bot_package_names_no_feature() -> None:
    """bot/ learns about features only through discovery (bot/features.py)."""
    bot_sources = (Path(__file__).resolve().parents[2] / "bot").glob("*.py")
    offenders = [
        p.name
        for p in bot_sources
        if "from commands." in p.read_text() or "import commands." in p.read_text()
    ]
    assert offenders == []
