"""Configuration: a TOML file; every key can be overridden by ``COMMUNITY_BOT_SECTION__KEY`` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
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
    # The recovery key the bot showed at its first start; lets a new store keep the bot's identity.
    recovery_key: SecretStr | None = None
    # As Element since 2026: room keys only for devices cross-signed by their owner, and no commands
    # from other devices.
    exclude_insecure_devices: bool = True
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
    # Direct-message reminder to everyone confirmed (and the hosts) this long before a session starts.
    reminder_minutes: int = Field(default=15, ge=0)
    # The same lead time in seconds; overrides reminder_minutes when set (fine-tuning and tests).
    reminder_lead_seconds: int | None = Field(default=None, ge=0)
    # Create a Matrix room per scheduled session and invite hosts and confirmed participants.
    create_rooms: bool = False
    # Seats of a new session when the proposal names none (None: no limit until a moderator sets one).
    default_capacity: int | None = Field(default=None, ge=1)
    # Lines per agenda message before it is split into pages.
    agenda_page_lines: int = Field(default=40, ge=10, le=200)


class NetworkingConfig(_Section):
    # How long a !partner request waits for someone before the member is told nobody was found.
    wait_minutes: int = Field(default=10, ge=1)
    # Overrides wait_minutes when set (for tests and demos: a few seconds).
    wait_seconds: int | None = Field(default=None, ge=1)
    # True: every pair/group gets a new private room; false: a threaded intro in the community room.
    private_rooms: bool = True
    # Default length of a round (!runde start 5m overrides it for the block).
    round_minutes: int = Field(default=7, ge=1)
    # TOML with lists `de = [...]` and `en = [...]`, or a text file with one starter per line.
    conversation_starters_file: Path | None = None

    @property
    def wait_seconds_effective(self) -> int:
        return self.wait_seconds if self.wait_seconds is not None else self.wait_minutes * 60


class BingoConfig(_Section):
    # A TOML ([[prompt]] de/en) or text file (one German prompt a line) that replaces or extends the
    # default prompt pool, as prompts_mode says.
    prompts_file: Path | None = None
    prompts_mode: Literal["replace", "extend"] = "extend"
    # How long the named person has to confirm a field; fractions are allowed (tests use seconds).
    confirmation_minutes: float = Field(default=30, gt=0)
    # Card size of `!bingo start` without a size.
    default_size: int = Field(default=4, ge=3, le=5)


class DigestConfig(_Section):
    # When the monthly digest is posted, in the bot's time zone: "minute hour day month day_of_week"
    # (optionally with a seconds field first). All fields must match (APScheduler semantics, not Vixie
    # cron's "day OR weekday"): the default "0 9 1-7 * mon" is the first Monday of the month at 09:00.
    # Numeric weekdays count like crontab (0/7 = Sunday); "1st_mon" / "last_fri" work in the day field.
    schedule: str = "0 9 1-7 * mon"
    # Rooms the digest is posted to (room IDs); empty: no scheduled digest.
    rooms: list[str] = Field(default_factory=list)
    # "room": each room gets the digest of that room; "network": every room gets the network-wide digest.
    scope: Literal["room", "network"] = "network"

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from commands.digest.timing import cron_fields

        cron_fields(value)
        return value

    @field_validator("rooms")
    @classmethod
    def _room_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            # Since room version 12 room IDs have no server part: "!abc" is as valid as "!abc:example.org".
            if not value.startswith("!") or len(value) < 2:
                raise ValueError(f"{value!r} is not a room ID like !abc:example.org (no aliases)")
        return values


class WebConfig(_Section):
    """The bot's small HTTP server: health, readiness, metrics, calendar feeds, agenda pages (docs/web.md)."""

    enabled: bool = False
    bind: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # The address members' links use (behind a reverse proxy with TLS), e.g. https://bot.example.org.
    public_url: str = "http://127.0.0.1:8080"
    # When set, /metrics wants "Authorization: Bearer <token>".
    metrics_token: SecretStr | None = None
    # /readyz fails when the last successful sync is older than this (2 × the 30 s sync timeout).
    ready_sync_age_seconds: int = Field(default=60, ge=1)

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


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
    web: WebConfig = Field(default_factory=WebConfig)

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
        return _FromFile()  # type: ignore[call-arg]  # values come from the file and the environment
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
