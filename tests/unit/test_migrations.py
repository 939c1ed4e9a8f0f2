"""The Alembic migrations create exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from storage.base import Base
from storage.db import load_all_models, upgrade_database


def test_migrations_match_models(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    upgrade_database(f"sqlite+aiosqlite:///{database}")
    load_all_models()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = [d for d in compare_metadata(context, Base.metadata) if "apscheduler" not in str(d)]
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    upgrade_database(url)
    upgrade_database(url)
