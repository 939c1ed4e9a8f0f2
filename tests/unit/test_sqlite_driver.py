"""The one-hop aiosqlite connection (storage/sqlite_driver.py) under SQLAlchemy, on real SQLite files:
results, row counts, generated keys, bulk inserts, streaming, errors, transactions and concurrent writers
behave as with plain aiosqlite. The whole suite runs on it too; these tests pin the DBAPI details it
re-implements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import CursorResult, ForeignKey, String, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage import sqlite_driver
from storage.db import Database


class Base(DeclarativeBase):
    pass


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Colleague(Base):
    __tablename__ = "colleagues"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(80))


async def open_database(url: str) -> Database:
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    yield database
    await database.close()


async def test_the_engine_connects_through_the_one_hop_connection(db: Database) -> None:
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite_driver.PrefetchingConnection)


async def test_orm_round_trip_with_generated_keys_and_row_counts(db: Database) -> None:
    async with db.session() as session:
        agency = Agency(name="Bundesamt für Verwaltungsdienstleistungen")
        session.add(agency)
        await session.flush()
        assert agency.id == 1  # the generated key came back from the worker thread
        session.add_all([Colleague(agency_id=agency.id, name=n) for n in ("Anna", "Bernd", "Cem")])
    async with db.session() as session:
        changed = await session.execute(update(Colleague).where(Colleague.name != "Anna").values(agency_id=1))
        assert isinstance(changed, CursorResult)
        assert changed.rowcount == 2
        names = (await session.scalars(select(Colleague.name).order_by(Colleague.name))).all()
        assert names == ["Anna", "Bernd", "Cem"]
        row = (await session.execute(select(Agency.id, Agency.name))).one()
        assert row._fields == ("id", "name")  # column names come from the prefetched description


async def test_bulk_insert_uses_executemany(db: Database) -> None:
    async with db.session() as session:
        await session.execute(insert(Agency), [{"name": f"Kommune {i}"} for i in range(50)])
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Agency)) == 50


async def test_streaming_fetches_in_chunks(db: Database) -> None:
    async with db.session() as session:
        await session.execute(insert(Agency), [{"name": f"Land {i:02d}"} for i in range(16)])
    async with db.engine.connect() as connection:
        result = await connection.stream(select(Agency.name).order_by(Agency.name))
        chunks = [chunk async for chunk in result.partitions(5)]
    assert [len(c) for c in chunks] == [5, 5, 5, 1]
    assert chunks[0][0].name == "Land 00"
    assert chunks[-1][0].name == "Land 15"


async def test_a_failed_unit_of_work_is_rolled_back_and_the_connection_stays_usable(db: Database) -> None:
    async with db.session() as session:
        session.add(Agency(name="Landesamt"))

    async def add_two() -> None:
        async with db.session() as session:
            session.add(Agency(name="Stadt Musterstadt"))
            await session.flush()
            session.add(Agency(name="Landesamt"))  # unique name taken
            await session.flush()

    with pytest.raises(IntegrityError):
        await add_two()
    async with db.session() as session:
        names = (await session.scalars(select(Agency.name))).all()
    assert names == ["Landesamt"]  # the first insert of the failed unit is gone too


async def test_an_explicit_rollback_discards_writes(db: Database) -> None:
    async with db.sessions() as session:
        session.add(Agency(name="Wissenschaft"))
        await session.flush()
        await session.rollback()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Agency)) == 0


async def test_concurrent_writers_wait_for_each_other_instead_of_failing(db: Database) -> None:
    async def add(name: str) -> None:
        async with db.session() as session:
            session.add(Agency(name=name))
            await session.flush()
            await asyncio.sleep(0.01)  # hold the write lock while the others try

    await asyncio.gather(*(add(f"Behörde {i}") for i in range(8)))
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Agency)) == 8


async def test_sql_errors_reach_the_caller_as_sqlalchemy_errors(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(Exception, match="no such table"):
            await session.execute(text("SELECT * FROM not_there"))


async def test_in_memory_databases_work_too() -> None:
    database = await open_database("sqlite+aiosqlite://")
    try:
        async with database.session() as session:
            session.add(Agency(name="Bund"))
        async with database.session() as session:
            assert (await session.scalars(select(Agency.name))).all() == ["Bund"]
    finally:
        await database.close()
