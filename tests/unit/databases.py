"""SQLite databases for unit tests of the statements that run two ways (storage/one_hop.py): in one round trip
to SQLite's thread, and as a transaction of the engine (the PostgreSQL path, ``Database.one_hop`` None)."""

from __future__ import annotations

from pathlib import Path

from storage.base import Base
from storage.db import Database

BOTH_WAYS = ["one hop", "engine"]


async def open_database(tmp_path: Path, way: str = "one hop", tables: tuple[str, ...] = ()) -> Database:
    """A database file in ``tmp_path`` with ``tables`` (all of them when none are named)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    if way == "engine":
        database.one_hop = None
    else:
        assert database.one_hop is not None  # SQLite through storage/sqlite_driver.py
    chosen = [Base.metadata.tables[name] for name in tables] or None
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=chosen))
    return database
