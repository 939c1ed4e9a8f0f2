"""Configuration: a TOML file, every key overridable by ``COMMUNITY_BOT_SECTION__KEY`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("config.toml")
CONFIG_PATH_ENV = "COMMUNITY_BOT_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _valid_user_id(value: str) -> str:
    if not (value.startswith("@") and ":" in value and len(value) > 3):
        raise ValueError(f"{value!r} is not a Matrix user ID like @name:example.org")
    return value


class MatrixConfig(_Section):
    homeserver: str = Field(description="Client-server API base URL, e.g. https://matrix.example.org")
    user_id: str
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "community-bot"
    store_path: Path = Path("data/store")
    encryption: bool = True
    allowed_inviters: list[str] = Field(default_factory=list)
    rooms: list[str] = Field(default_factory=list)

    @field_validator("homeserver")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str) -> str:
        return _valid_user_id(value)

    @model_validator(mode="after")
    def _credentials(self) -> MatrixConfig:
        if self.password is None and self.access_token is None:
            raise ValueError("set matrix.password or matrix.access_token")
        return self

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]


class BotConfig(_Section):
    command_prefix: str = "!"
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    moderators: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    moderator_power_level: int = 50
    # Commands sent while the bot was briefly down are still answered if they are at most this old.
    command_max_age_minutes: int = Field(default=10, ge=0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from exc
        return value

    @field_validator("moderators", "admins")
    @classmethod
    def _users(cls, values: list[str]) -> list[str]:
        return [_valid_user_id(v) for v in values]

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or value.isspace():
            raise ValueError("must not be empty")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class StorageConfig(_Section):
    database_url: str = "sqlite+aiosqlite:///data/bot.db"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pw@host/db")
        return value


class SchedulerConfig(_Section):
    # A job missed while the bot was down still runs at start if it is at most this late; otherwise the
    # people it was for are told that it was missed.
    misfire_grace_minutes: int = Field(default=60, ge=0)


class SessionsConfig(_Section):
    reminder_minutes: int = Field(default=15, ge=0)
    create_rooms: bool = False


class NetworkingConfig(_Section):
    wait_minutes: int = Field(default=10, ge=1)
    private_rooms: bool = True
    round_minutes: int = Field(default=7, ge=1)
    conversation_starters_file: Path | None = None


class BingoConfig(_Section):
    prompts_file: Path | None = None
    confirmation_minutes: int = Field(default=30, ge=1)


class DigestConfig(_Section):
    # Cron expression in the bot's time zone: minute hour day month day_of_week (APScheduler syntax).
    schedule: str = "0 9 1-7 * mon"
    rooms: list[str] = Field(default_factory=list)
    scope: Literal["room", "network"] = "network"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMMUNITY_BOT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    matrix: MatrixConfig
    bot: BotConfig = Field(default_factory=BotConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
    networking: NetworkingConfig = Field(default_factory=NetworkingConfig)
    bingo: BingoConfig = Field(default_factory=BingoConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file; no .env files (secrets come from the service manager's environment).
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason in readable form."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def resolve_config_path(path: Path | str | None) -> Path:
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH))


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the configuration, raising :class:`ConfigError` with every problem at once."""
    config_path = resolve_config_path(path)
    if not config_path.is_file():
        has_env = any(key.startswith("COMMUNITY_BOT_MATRIX__") for key in os.environ)
        if not has_env:
            raise ConfigError(
                [f"config file {config_path} not found (copy config.example.toml to config.toml and edit it)"]
            )

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=config_path if config_path.is_file() else None)

    try:
        return _FromFile()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except (OSError, ValueError) as exc:  # TOML syntax errors arrive as ValueError
        raise ConfigError([f"{config_path}: {exc}"]) from None


def _describe(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        if error["type"] == "extra_forbidden":
            message = "is not a known setting (typo?)"
        problems.append(f"{location}: {message}")
    return problems


def redacted(settings: Settings) -> dict[str, Any]:
    """The settings as a dict with secrets masked, for logs and ``check-config`` output."""
    return settings.model_dump(mode="json")
