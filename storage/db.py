"""The async database: engine, sessions, SQLite tuning and migrations."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Update, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import storage
from storage import sqlite_driver
from storage.one_hop import Prepared, Work, as_transaction

SQLITE_BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


def sync_url(async_url: str) -> str:
    """The same database for synchronous users (APScheduler's job store, Alembic)."""
    url = make_url(async_url)
    driver = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}.get(url.drivername)
    if driver is None:
        raise ValueError(f"unsupported database driver {url.drivername}")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and synchronous=NORMAL: readers never wait for the writer, and a commit does not fsync (a crash of
    the process loses nothing; a power cut can lose the last transactions, never consistency)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_aiosqlite(url: str) -> bool:
    return make_url(url).drivername == "sqlite+aiosqlite"


def load_all_models() -> None:
    """Import every module of the storage package so that all tables are on the metadata."""
    for module in pkgutil.iter_modules(storage.__path__):
        if module.name != "migrations":
            importlib.import_module(f"storage.{module.name}")


async def claimed(session: AsyncSession, statement: Update) -> bool:
    """Run a conditional UPDATE that claims a row (``… WHERE status = 'pending'``, ``… WHERE sent_at IS
    NULL``); True when this call changed it. A job or a decision that only goes on when it claimed its row
    acts once, also when two run at the same moment."""
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 1)) == 1


async def read_together(
    session: AsyncSession, *steps: tuple[Prepared, Mapping[str, Any]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of several SELECTs, read in the session's transaction (its pending changes flushed first, so
    they are seen): on SQLite through our driver in one round trip into the database thread, elsewhere one
    statement after the other."""
    await session.flush()
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not isinstance(driver, sqlite_driver.PrefetchingConnection):
        return [[tuple(row) for row in await session.execute(p.statement, v)] for p, v in steps]

    def work(raw: sqlite3.Connection) -> list[list[tuple[Any, ...]]]:
        return [prepared.sqlite.rows(raw, values) for prepared, values in steps]

    return await driver.call_in_thread(work)


class OneHop:
    """Runs a unit of work on a pooled SQLite connection, statements and commit, as one call into the
    connection's worker thread (storage/one_hop.py). Errors are sqlite3's own (``sqlite3.IntegrityError``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def transaction(self, work: Work[T]) -> T:
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, sqlite_driver.PrefetchingConnection)
            return await driver.call_in_thread(as_transaction(work))


class Database:
    def __init__(self, url: str) -> None:
        ensure_sqlite_directory(url)
        self.url = url
        is_sqlite = make_url(url).get_backend_name() == "sqlite"
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} if is_sqlite else {}
        self._connect_args = connect_args
        # SQLite through aiosqlite: one thread hop per statement instead of four (storage/sqlite_driver.py).
        self.engine: AsyncEngine = create_async_engine(
            url, connect_args=connect_args, async_creator=self._connect_sqlite if is_aiosqlite(url) else None
        )
        if is_sqlite:
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The few statements around every command in one round trip (storage/one_hop.py); SQLite only.
        self.one_hop: OneHop | None = OneHop(self.engine) if is_aiosqlite(url) else None

    async def run_together(self, *steps: tuple[Prepared, Mapping[str, Any]]) -> tuple[Any, ...] | None:
        """Run the statements in one transaction; the first row of the last one, with Python values (None if
        it returns none).
        On SQLite through our driver the statements and the commit are one round trip into the database
        thread (storage/one_hop.py), elsewhere a transaction of the engine. A unique-key violation raises
        SQLAlchemy's ``IntegrityError`` either way."""
        if self.one_hop is None:
            last: tuple[Any, ...] | None = None
            async with self.transaction() as connection:
                for prepared, values in steps:
                    result = await connection.execute(prepared.statement, values)
                    first = result.first() if result.returns_rows else None
                    last = tuple(first) if first is not None else None
            return last

        def work(connection: sqlite3.Connection) -> tuple[Any, ...] | None:
            cursor = None
            for prepared, values in steps:
                cursor = prepared.sqlite.run(connection, values)
            row = cursor.fetchone() if cursor is not None and cursor.description else None
            return steps[-1][0].sqlite.converted(row) if row is not None else None

        try:
            return await self.one_hop.transaction(work)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(None, None, exc) from exc

    async def _connect_sqlite(self) -> sqlite_driver.PrefetchingConnection:
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        return await sqlite_driver.connect(*args, **{**kwargs, **self._connect_args})

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A unit of work in SQL expressions only (no ORM objects, no identity map, no flush): for the few
        statements that run around every command."""
        async with self.engine.begin() as connection:
            yield connection

    async def upgrade(self) -> None:
        await asyncio.to_thread(upgrade_database, self.url)

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(async_url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.set_main_option("sqlalchemy.url", sync_url(async_url).replace("%", "%%"))
    return config


def upgrade_database(async_url: str) -> None:
    from alembic import command

    ensure_sqlite_directory(async_url)
    command.upgrade(alembic_config(async_url), "heads")
