"""The digest's NExT-Kaffee numbers: pairings made and meetings held in the month (network-wide only)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from commands.digest.compose import compose_digest
from commands.digest.gather import gather_digest_data
from storage.base import Base
from storage.coffee import CoffeeAnswer, CoffeeGroup, CoffeeRun
from storage.db import Database, load_all_models
from tests.unit.test_digest_compose import empty_data, fake_format_datetime, translator

BERLIN = ZoneInfo("Europe/Berlin")


def test_numbers_line_only_when_there_were_pairings() -> None:
    t = translator("de")
    quiet = compose_digest(empty_data(), t, format_datetime=fake_format_datetime)
    busy = compose_digest(
        empty_data(coffee_pairings=3, coffee_meetings=1), t, format_datetime=fake_format_datetime
    )
    line = t(
        "digest_numbers_coffee",
        pairings=t("digest_count_coffee_pairings_other", count=3),
        meetings=t("digest_count_coffee_meetings_one", count=1),
    )
    assert line not in quiet
    assert f"- {line}\n" in busy


async def test_gather_counts_groups_of_the_month_and_those_that_met(tmp_path: Path) -> None:
    load_all_models()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'coffee.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    november = datetime(2026, 11, 9, 8, tzinfo=UTC)
    october = datetime(2026, 10, 26, 8, tzinfo=UTC)
    async with database.session() as session:
        runs = [CoffeeRun(scheduled_for=moment, trigger="schedule") for moment in (october, november)]
        session.add_all(runs)
        await session.flush()
        groups = [
            CoffeeGroup(
                run_id=runs[0].id, members=["@a:x", "@b:x"], follow_up_at=october, created_at=october
            ),
            CoffeeGroup(
                run_id=runs[1].id, members=["@a:x", "@c:x"], follow_up_at=november, created_at=november
            ),
            CoffeeGroup(
                run_id=runs[1].id, members=["@b:x", "@d:x"], follow_up_at=november, created_at=november
            ),
        ]
        session.add_all(groups)
        await session.flush()
        session.add_all(
            [
                CoffeeAnswer(group_id=groups[0].id, user_id="@a:x", answer="yes"),
                CoffeeAnswer(group_id=groups[1].id, user_id="@a:x", answer="yes"),
                CoffeeAnswer(group_id=groups[1].id, user_id="@c:x", answer="yes"),
                CoffeeAnswer(group_id=groups[2].id, user_id="@d:x", answer="later"),
            ]
        )
    async with database.session() as session:
        network = await gather_digest_data(
            session, month=date(2026, 11, 1), tz=BERLIN, room_id=None, scope_name="NExT"
        )
        room = await gather_digest_data(
            session, month=date(2026, 11, 1), tz=BERLIN, room_id="!r:x", scope_name="Raum"
        )
    await database.close()
    assert (network.coffee_pairings, network.coffee_meetings) == (2, 1)
    assert (room.coffee_pairings, room.coffee_meetings) == (0, 0)
