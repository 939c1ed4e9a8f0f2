"""Stand-ins shared by the unit tests: the scheduler and the application context, without Matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from bot.app import Facts, Locks
from bot.config import MatrixConfig, Settings, with_sections
from bot.features import feature_sections
from bot.i18n import Catalog
from bot.sender import Sender
from storage.db import Database


@dataclass
class FakeJobs:
    """``bot.scheduler.Jobs`` without APScheduler: remembers what was scheduled and cancelled."""

    scheduled: dict[str, tuple[Any, datetime, tuple[Any, ...]]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    late: bool = False  # what is_late() answers

    def at(self, job_id: str, func: Any, when: datetime, *args: Any) -> None:
        self.scheduled[job_id] = (func, when, args)

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)
        self.scheduled.pop(job_id, None)

    def exists(self, job_id: str) -> bool:
        return job_id in self.scheduled

    def is_late(self, scheduled_for: datetime) -> bool:
        return self.late


def settings_for_tests(**sections: BaseModel) -> Settings:
    """Settings with a made-up account, the features' default sections and the given ones."""
    settings = Settings(
        matrix=MatrixConfig(homeserver="http://localhost", user_id="@bot:localhost", password=SecretStr("x"))
    )
    full = with_sections(settings, feature_sections())
    return full.model_copy(update=sections)


class FakeApp:
    """What features use of ``bot.app.App`` when no Matrix client is involved: settings, catalog, database,
    jobs, locks and the outbox (its rows are written; nothing is sent)."""

    def __init__(
        self, db: Database, *, catalog: Catalog | None = None, settings: Settings | None = None
    ) -> None:
        self.db = db
        self.catalog = catalog if catalog is not None else Catalog()
        self.settings = settings if settings is not None else settings_for_tests()
        self.jobs = FakeJobs()
        self.locks = Locks()
        self.facts = Facts()
        self.sender = Sender(self)  # type: ignore[arg-type]


def sqlite_url(directory: Path, name: str = "bot.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"
