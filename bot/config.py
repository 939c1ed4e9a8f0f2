"""Configuration: a TOML file; every key can be overridden by ``COMMUNITY_BOT_SECTION__KEY`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
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
SectionT = TypeVar("SectionT", bound=BaseModel)
CONFIG_PATH_ENV = "COMMUNITY_BOT_CONFIG"


def check_room_ids(values: list[str]) -> list[str]:
    """Room IDs, not aliases. Since room version 12 room IDs have no server part: "!abc" is as valid as
    "!abc:example.org"."""
    for value in values:
        if not value.startswith("!") or len(value) < 2:
            raise ValueError(f"{value!r} is not a room ID like !abc:example.org (no aliases)")
    return values


# A list of room IDs in a settings section (``rooms = ["!abc:example.org"]``).
RoomIds = Annotated[list[str], AfterValidator(check_room_ids)]


class Section(BaseModel):
    """A section of the configuration file; unknown keys are errors (typos)."""

    model_config = ConfigDict(extra="forbid")


def _valid_user_id(value: str) -> str:
    if not (value.startswith("@") and ":" in value and len(value) > 3):
        raise ValueError(f"{value!r} is not a Matrix user ID like @name:example.org")
    return value


class MatrixConfig(Section):
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


class BotConfig(Section):
    command_prefix: str = "!"
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    moderators: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    moderator_power_level: int = 50
    # Commands sent while the bot was briefly down are still answered if they are at most this old.
    command_max_age_minutes: int = Field(default=10, ge=0)
    # Per member: a burst of this many commands, then this many per minute (a person typing never notices;
    # a script or a flood does). Over the limit one polite notice, then silence until it recovers.
    command_burst: int = Field(default=10, ge=1)
    commands_per_minute: float = Field(default=60.0, gt=0)
    # Files members send the bot (program imports, bingo prompts): larger ones are refused unread.
    max_file_kb: int = Field(default=1024, ge=1)
    # Commands waiting in one room's queue; beyond this a command is refused with a notice ("send it again in
    # a moment") and logged — never accepted and then dropped.
    max_queued_commands_per_room: int = Field(default=500, ge=1)
    # Rooms the bot created for particular people (intro and partner rooms; session rooms counted from the
    # event's day) are left this long after they were made for.
    leave_created_rooms_after_hours: float = Field(default=14 * 24, ge=0)
    # How often the housekeeping jobs run (leaving rooms whose purpose is over, pruning old records).
    housekeeping_minutes: float = Field(default=60, gt=0)

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


class StorageConfig(Section):
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    # Retention (docs/operations.md "Pruning"). Handled commands are remembered at least as long as a command
    # can still be answered after a restart ([bot] command_max_age_minutes) plus a day: older events are never
    # acted on anyway, so forgetting them cannot make a command run twice.
    keep_processed_events_days: float = Field(default=7, ge=1)
    # Sent messages (files that erasure must redact are kept), and messages the homeserver refused for good.
    keep_sent_messages_days: float = Field(default=7, ge=1)
    keep_failed_messages_days: float = Field(default=30, ge=1)
    # The bot's messages that take reactions (✅ sign-ups, 👍 reminders), with the reactions to them.
    keep_bot_messages_days: float = Field(default=180, ge=1)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pw@host/db")
        return value


class SchedulerConfig(Section):
    # A job missed while the bot was down still runs at start if it is at most this late; otherwise the
    # people it was for are told that it was missed.
    misfire_grace_minutes: int = Field(default=60, ge=0)


class WebConfig(Section):
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
    web: WebConfig = Field(default_factory=WebConfig)
    # Features add their own sections (Feature.settings): see settings_model().

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


def settings_model(sections: Mapping[str, type[BaseModel]]) -> type[Settings]:
    """The settings with every feature's own section (``[sessions]``, ``[bingo]`` …) as a nested model, so
    that the file, the environment (``COMMUNITY_BOT_BINGO__DEFAULT_SIZE``) and the checks work for them as for
    the bot's own sections."""
    if not sections:
        return Settings
    fields: dict[str, Any] = {name: (model, Field(default_factory=model)) for name, model in sections.items()}
    return create_model("FeatureSettings", __base__=Settings, **fields)


def with_sections(settings: Settings, sections: Mapping[str, type[BaseModel]]) -> Settings:
    """``settings`` with the defaults of the sections it lacks (settings built in code name only some)."""
    missing = {
        name: model
        for name, model in sections.items()
        if not isinstance(getattr(settings, name, None), model)
    }
    if not missing:
        return settings
    present = {name: getattr(settings, name) for name in type(settings).model_fields}
    return settings_model(sections).model_validate(
        {**present, **{name: model() for name, model in missing.items()}}
    )


def section(settings: object, name: str, model: type[SectionT]) -> SectionT:
    """A feature's section, typed: ``section(app.settings, "bingo", BingoConfig)``."""
    value = getattr(settings, name, None)
    if not isinstance(value, model):
        raise LookupError(f"the settings have no [{name}] section of type {model.__name__}")
    return value


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason in readable form."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def resolve_config_path(path: Path | str | None) -> Path:
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH))


def load_settings(
    path: Path | str | None = None, sections: Mapping[str, type[BaseModel]] | None = None
) -> Settings:
    """Read and validate the configuration, raising :class:`ConfigError` with every problem at once.
    ``sections``: the features' sections (default: those of every discovered feature)."""
    if sections is None:
        from bot.features import feature_sections  # discovery: bot/ names no feature

        sections = feature_sections()
    model = settings_model(sections)
    config_path = resolve_config_path(path)
    if not config_path.is_file():
        has_env = any(key.startswith("COMMUNITY_BOT_MATRIX__") for key in os.environ)
        if not has_env:
            raise ConfigError(
                [f"config file {config_path} not found (copy config.example.toml to config.toml and edit it)"]
            )

    class _FromFile(model):  # type: ignore[valid-type,misc]  # a class built at run time
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
