"""Jobs are stored by stable names; jobs stored by Python path (release 0.1.0) are rewritten to them."""

from __future__ import annotations

import pickle
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from bot.features import discover_features
from bot.framework import Feature
from bot.scheduler import JobRegistry, migrate_job_store
from commands.reminders import fire_reminder
from storage.db import upgrade_database
from storage.job_references import DISPATCHER, LEGACY_JOB_PATHS

RELEASE_0_1_0 = Path(__file__).parents[1] / "fixtures" / "release-0.1.0"


def stored_args(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT job_state FROM apscheduler_jobs ORDER BY id").fetchall()
    return [tuple(pickle.loads(state)["args"]) for (state,) in rows]


def test_every_legacy_path_has_a_registered_job() -> None:
    registry = JobRegistry(discover_features())
    for name in LEGACY_JOB_PATHS.values():
        registry.resolve(name)


def test_registry_knows_the_name_of_a_job_function() -> None:
    registry = JobRegistry(discover_features())
    assert registry.name_of(fire_reminder) == "reminders.fire"
    assert registry.resolve("reminders.fire") is fire_reminder


def test_unregistered_jobs_are_refused() -> None:
    registry = JobRegistry(discover_features())

    async def stray(app: Any, *, scheduled_for: datetime) -> None:
        return None

    with pytest.raises(LookupError):
        registry.name_of(stray)
    with pytest.raises(LookupError):
        registry.resolve("commands.reminders:fire_reminder")


def test_job_names_carry_the_feature_name_and_are_unique() -> None:
    feature = Feature("demo")

    async def job(app: Any, *, scheduled_for: datetime) -> None:
        return None

    with pytest.raises(ValueError, match=r"start with 'demo\.'"):
        feature.job("other.job")
    feature.job("demo.job")(job)
    with pytest.raises(ValueError, match="twice"):
        feature.job("demo.job")(job)


def test_sibling_job_store_of_release_0_1_0_is_rewritten_once(tmp_path: Path) -> None:
    jobs_file = tmp_path / "bot-jobs.db"
    shutil.copy(RELEASE_0_1_0 / "bot-jobs.db", jobs_file)
    assert stored_args(jobs_file) == [("commands.reminders:fire_reminder", 1)]
    engine = create_engine(f"sqlite:///{jobs_file}")
    try:
        assert migrate_job_store(engine) == 1
        assert migrate_job_store(engine) == 0
    finally:
        engine.dispose()
    assert stored_args(jobs_file) == [("reminders.fire", 1)]
    with sqlite3.connect(jobs_file) as connection:
        (state,) = connection.execute("SELECT job_state FROM apscheduler_jobs").fetchone()
    assert pickle.loads(state)["func"] == DISPATCHER


def test_job_store_in_the_bot_database_is_rewritten_by_the_migration(tmp_path: Path) -> None:
    """PostgreSQL keeps the job store in the bot's database; migration 0003 rewrites it there."""
    database = tmp_path / "bot.db"
    shutil.copy(RELEASE_0_1_0 / "bot.db", database)
    with sqlite3.connect(database) as connection:
        connection.execute("ATTACH DATABASE ? AS jobs", (str(RELEASE_0_1_0 / "bot-jobs.db"),))
        connection.execute("CREATE TABLE apscheduler_jobs AS SELECT * FROM jobs.apscheduler_jobs")
    upgrade_database(f"sqlite+aiosqlite:///{database}")
    assert stored_args(database) == [("reminders.fire", 1)]
    with sqlite3.connect(database) as connection:
        versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    # The foundation branch is at 0003_stable_job_names or a later revision (numbered in order).
    assert any(version[:4].isdigit() and version >= "0003_stable_job_names" for version in versions)
