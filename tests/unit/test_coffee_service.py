"""NExT-Kaffee runs and follow-ups on a real database: the claim, who is due, history and blocks, the
"paired less often" bookkeeping, answers closing a group, and the privacy hooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_catalog
from bot.features import discover_features
from commands.coffee import service
from commands.coffee.follow_up import ask, record_answer
from commands.coffee.introductions import intro_markdown, queue_intro
from commands.coffee.privacy import erase_coffee, export_coffee
from commands.coffee.runs import start_run
from commands.coffee.status import Answer, GroupStatus, RunTrigger
from storage.coffee import CoffeeBlock, CoffeeGroup, CoffeeParticipant
from storage.db import Database
from storage.models import Member, OutboxMessage
from storage.networking import Meeting
from tests.fakes import FakeApp

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ROOM = "!community:x"
A, B, C, D = "@a:x", "@b:x", "@c:x", "@d:x"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await db.upgrade()
    fake: Any = FakeApp(db, catalog=build_catalog(discover_features()))
    users = {user: SimpleNamespace(display_name=None) for user in (A, B, C, D)}
    fake.matrix = SimpleNamespace(
        client=SimpleNamespace(rooms={ROOM: SimpleNamespace(users=users)}), is_direct_room=lambda room: False
    )
    async with db.session() as session:
        for user, organisation in ((A, "Stadt Köln"), (B, "BMI"), (C, "Land Hessen"), (D, "Stadt Jena")):
            session.add(Member(user_id=user, organisation=organisation, topics=[]))
    for user in (A, B, C, D):
        await service.join(fake, user, None)
    yield fake
    await db.close()


async def paired(app: Any, when: datetime, trigger: RunTrigger = RunTrigger.SCHEDULE) -> set[frozenset[str]]:
    result = await start_run(app, when, trigger=trigger)
    assert result is not None
    return {frozenset(group.members) for group in result.groups}


async def test_a_run_is_claimed_once_and_never_repeats_a_pair(app: Any) -> None:
    first = await paired(app, T0)
    assert len(first) == 2
    assert await start_run(app, T0, trigger=RunTrigger.SCHEDULE) is None  # the same scheduled time again
    second = await paired(app, T0 + timedelta(weeks=2))
    third = await paired(app, T0 + timedelta(weeks=4))
    assert len(second) == len(third) == 2
    assert not (first & second)
    assert not (first & third)
    assert not (second & third)
    # Everyone has met everyone: the fourth run finds nobody to pair.
    assert await paired(app, T0 + timedelta(weeks=6)) == set()
    assert len(app.jobs.scheduled) == 6  # one follow-up per group


async def test_history_blocks_and_pauses_are_respected(app: Any) -> None:
    async with app.db.session() as session:
        session.add(Meeting(user_a=A, user_b=B, met_at=T0 - timedelta(days=30)))
    assert await service.block(app, C, A)
    assert not await service.block(app, C, A)
    groups = await paired(app, T0)
    assert groups == {frozenset((A, D)), frozenset((B, C))}
    await service.pause(app, D, None)
    await service.pause(app, B, date(2026, 3, 30))  # up to and including the third run
    assert await paired(app, T0 + timedelta(weeks=2)) == set()  # only A and C are left, and C blocked A
    assert await service.unblock(app, C, A)
    await service.resume(app, D)
    state = await service.state(app, D, T0)
    assert state is not None
    assert not state.paused
    assert await paired(app, T0 + timedelta(weeks=4)) == {frozenset((A, C))}  # B still paused; D met A


async def test_rhythm_applies_to_scheduled_runs_only(app: Any) -> None:
    await service.join(app, A, 4)
    await paired(app, T0)
    two_weeks = await paired(app, T0 + timedelta(weeks=2))
    assert all(A not in group for group in two_weeks)
    assert any(
        A in group for group in await paired(app, T0 + timedelta(weeks=2, hours=1), RunTrigger.COMMAND)
    )


async def test_follow_up_answers_close_the_group_and_count_for_the_rule(app: Any) -> None:
    await service.leave(app, C)
    await service.leave(app, D)
    assert await paired(app, T0) == {frozenset((A, B))}
    async with app.db.session() as session:
        group_id = (await session.scalars(select(CoffeeGroup.id))).one()
    await ask(app, group_id)
    assert not await record_answer(app, A, Answer.NO, group_id=group_id)
    assert not await record_answer(app, B, Answer.LATER)
    assert await record_answer(app, B, Answer.NO)
    async with app.db.session() as session:
        group = await session.get(CoffeeGroup, group_id)
        assert group is not None
        assert group.status == GroupStatus.CLOSED
        misses = {row.user_id: row.misses for row in (await session.scalars(select(CoffeeParticipant))).all()}
    assert misses[A] == misses[B] == 1


async def test_two_follow_ups_without_meeting_make_a_member_sit_out_every_other_run(app: Any) -> None:
    async with app.db.session() as session:
        row = await session.get(CoffeeParticipant, A)
        assert row is not None
        row.misses = 2
    first = await paired(app, T0)
    assert all(A not in group for group in first)
    second = await paired(app, T0 + timedelta(weeks=2))
    assert any(A in group for group in second)
    third = await paired(app, T0 + timedelta(weeks=4))
    assert all(A not in group for group in third)


async def test_export_and_erase(app: Any) -> None:
    await service.block(app, A, B)
    await service.block(app, C, A)  # someone else's block list is never shown to A
    await paired(app, T0)
    exported = await export_coffee(app, A)
    assert exported["coffee_participation"]["status"] == "active"
    assert exported["coffee_blocked"] == [{"user": B, "since": exported["coffee_blocked"][0]["since"]}]
    assert len(exported["coffee_pairings"]) == 1
    assert C not in str(exported["coffee_blocked"])
    assert await erase_coffee(app, A) >= 3
    async with app.db.session() as session:
        assert await session.get(CoffeeParticipant, A) is None
        blocks = (await session.scalars(select(CoffeeBlock.user_id))).all()
        groups = (await session.scalars(select(CoffeeGroup.members))).all()
    assert blocks == [C]
    assert all(A not in members for members in groups)
    assert (await export_coffee(app, A))["coffee_pairings"] == []


async def test_introduction_names_only_the_group_and_is_queued_once(app: Any) -> None:
    async with app.db.session() as session:
        member = await session.get(Member, A)
        assert member is not None
        member.level, member.topics = "kommune", ["OZG", "Open Data"]
        other = await session.get(Member, B)
        assert other is not None
        other.level, other.topics = "bund", ["ozg"]
    await service.leave(app, C)
    await service.leave(app, D)
    result = await start_run(app, T0, trigger=RunTrigger.SCHEDULE)
    assert result is not None
    (group,) = result.groups
    t = app.catalog.translator("de")
    async with app.db.session() as session:
        profiles = {m.user_id: m for m in (await session.scalars(select(Member))).all()}
    text = intro_markdown(app, t, group.members, profiles)
    assert A in text
    assert B in text
    assert C not in text
    assert D not in text
    assert t("coffee_intro_topics", topics="OZG") in text
    assert t("coffee_level_bund") in text
    for _ in range(2):
        await queue_intro(app, group.id, text, room_id="!chat:x", people=group.members)
    async with app.db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == "!chat:x"))).all()
        stored = await session.get(CoffeeGroup, group.id)
    assert len(rows) == 1
    assert stored is not None
    assert stored.introduced_at is not None


async def test_answers_before_the_question_close_the_group_early(app: Any) -> None:
    await service.leave(app, C)
    await service.leave(app, D)
    await paired(app, T0)
    assert not await record_answer(app, A, Answer.YES)
    assert await record_answer(app, B, Answer.YES)
    async with app.db.session() as session:
        group = (await session.scalars(select(CoffeeGroup))).one()
        misses = {row.user_id: row.misses for row in (await session.scalars(select(CoffeeParticipant))).all()}
    assert group.status == GroupStatus.CLOSED
    assert misses[A] == misses[B] == 0
    assert not app.jobs.exists(f"coffee:follow_up:{group.id}")
    await ask(app, group.id)  # the job, had it still run, asks nobody
    async with app.db.session() as session:
        assert (await session.get(CoffeeGroup, group.id)).asked_at is None  # type: ignore[union-attr]
