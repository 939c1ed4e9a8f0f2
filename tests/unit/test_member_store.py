"""Setting one profile field (storage/members.py) both ways — one round trip to SQLite's thread and a
transaction of the engine (as on PostgreSQL): a new member's row is created with empty fields, an existing
member keeps every other field, the change time moves and the creation time does not. PostgreSQL itself:
tests/e2e/test_postgres.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.members import PROFILE_FIELDS, ProfileField, set_profile_field
from storage.models import Member
from tests.unit.databases import BOTH_WAYS, open_database

ANNA, BEN = "@anna:example.org", "@ben:example.org"


@pytest.fixture(params=BOTH_WAYS)
async def db(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = await open_database(tmp_path, request.param, ("members",))
    yield database
    await database.close()


async def members(db: Database) -> dict[str, Member]:
    async with db.session() as session:
        return {m.user_id: m for m in (await session.scalars(select(Member))).all()}


async def test_a_new_member_gets_a_row_with_only_that_field(db: Database) -> None:
    await set_profile_field(db, ANNA, "topics", ["OZG", "E-Akte"])
    await set_profile_field(db, BEN, "level", "kommune")
    found = await members(db)
    assert found[ANNA].topics == ["OZG", "E-Akte"]
    assert (found[ANNA].level, found[ANNA].organisation, found[ANNA].language, found[ANNA].timezone) == (
        None, None, None, None,
    )  # fmt: skip
    assert (found[BEN].level, found[BEN].topics) == ("kommune", [])
    assert found[ANNA].created_at == found[ANNA].updated_at


async def test_every_field_changes_alone_and_the_change_time_moves(db: Database) -> None:
    values: dict[ProfileField, Any] = {
        "organisation": "Stadt Musterstadt",
        "level": "land",
        "topics": ["KI"],
        "language": "en",
        "timezone": "Europe/Vienna",
    }
    assert set(values) == set(PROFILE_FIELDS)
    for field, value in values.items():
        await set_profile_field(db, ANNA, field, value)
    first = (await members(db))[ANNA]
    assert {field: getattr(first, field) for field in PROFILE_FIELDS} == values
    await set_profile_field(db, ANNA, "topics", ["Registermodernisierung"])
    again = (await members(db))[ANNA]
    assert again.topics == ["Registermodernisierung"]
    assert {f: getattr(again, f) for f in PROFILE_FIELDS if f != "topics"} == {
        f: v for f, v in values.items() if f != "topics"
    }
    assert again.created_at == first.created_at
    assert again.updated_at > first.updated_at
    assert list(await members(db)) == [ANNA]
