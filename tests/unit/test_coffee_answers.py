"""Plain replies to "Habt ihr euch getroffen?" through the real router (no homeserver), and the question
asked once more after a "noch nicht": at most once, only while someone's answer is still "noch nicht", and
never after the group closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from commands.coffee.feature import FOLLOW_UP_KIND, ask_again_job, coffee_settings, follow_up_job
from commands.coffee.follow_up import (
    ask,
    ask_again,
    record_answer,
    reschedule_ask_again,
    schedule_ask_again,
)
from commands.coffee.status import Answer, GroupStatus
from storage.coffee import CoffeeAnswer, CoffeeGroup, CoffeeRun
from storage.models import OutboxMessage
from tests.catalog import says
from tests.fakes import FakeJobs
from tests.inprocess import make_app, prepare, reply_to_tracked

PAIR_ROOM = "!pair:example.org"
ANNA, BEN, OTTO = "@anna:example.org", "@ben:example.org", "@otto:example.org"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    app.jobs = FakeJobs()  # type: ignore[assignment]
    async with app.db.session() as session:
        run = CoffeeRun(scheduled_for=datetime.now(UTC), trigger="command")
        session.add(run)
        await session.flush()
        session.add(
            CoffeeGroup(
                run_id=run.id,
                members=[ANNA, BEN],
                room_id=PAIR_ROOM,
                language="de",
                introduced_at=datetime.now(UTC),
                follow_up_at=datetime.now(UTC),
            )
        )
    await ask(app, 1)
    yield app
    await app.db.close()


async def group(app: App) -> CoffeeGroup:
    async with app.db.session() as session:
        found = await session.get(CoffeeGroup, 1)
    assert found is not None
    return found


async def answers(app: App) -> dict[str, str]:
    async with app.db.session() as session:
        rows = (await session.scalars(select(CoffeeAnswer))).all()
    return {row.user_id: row.answer for row in rows}


async def pair_messages(app: App) -> list[str]:
    async with app.db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == PAIR_ROOM))).all()
    return [str(row.content["content"]["body"]) for row in rows]


def said(replies: list[dict[str, Any]], key: str) -> bool:
    return any(says(str(reply.get("body", "")), key) for reply in replies)


async def reply(app: App, text: str, sender: str) -> list[dict[str, Any]]:
    return await reply_to_tracked(app, FOLLOW_UP_KIND, 1, text, sender=sender, room_id=PAIR_ROOM)


async def test_plain_replies_are_answers_and_the_last_one_counts(app: App) -> None:
    assert said(await reply(app, "Mittwoch?", ANNA), "coffee_reply_unclear")
    assert await answers(app) == {}
    assert said(await reply(app, "noch nicht", ANNA), "coffee_answer_saved")
    assert await answers(app) == {ANNA: "later"}
    assert said(await reply(app, "Ja, haben wir!", ANNA), "coffee_answer_saved")
    assert await answers(app) == {ANNA: "yes"}
    assert said(await reply(app, "ja", OTTO), "coffee_error_no_group")  # not in the pair
    assert await answers(app) == {ANNA: "yes"}
    assert said(await reply(app, "no", BEN), "coffee_answer_saved_closed")
    assert (await group(app)).status == GroupStatus.CLOSED


async def test_not_yet_asks_the_group_once_more_exactly_once(app: App) -> None:
    jobs: FakeJobs = app.jobs  # type: ignore[assignment]
    before = datetime.now(UTC)
    await reply(app, "not yet", BEN)
    job, when, args = jobs.scheduled[ask_again_job(1)]
    assert (job, args) == (ask_again, (1,))
    days = coffee_settings(app).ask_again_days
    assert before + timedelta(days=days) <= when <= datetime.now(UTC) + timedelta(days=days)
    await reply(app, "⏳", ANNA)  # a second "not yet" plans nothing more
    assert jobs.scheduled[ask_again_job(1)][1] == when
    await ask_again(app, 1, scheduled_for=when)
    await ask_again(app, 1, scheduled_for=when)  # a repeated job does nothing
    assert (await group(app)).status == GroupStatus.REASKED
    asked_again = [body for body in await pair_messages(app) if says(body, "coffee_ask_again")]
    assert len(asked_again) == 1
    # Answers to the second question count like the first; the group still closes by its follow-up job.
    assert said(await reply(app, "ja", BEN), "coffee_answer_saved")
    assert follow_up_job(1) in jobs.scheduled
    await jobs.scheduled[follow_up_job(1)][0](app, 1, scheduled_for=datetime.now(UTC))
    assert (await group(app)).status == GroupStatus.CLOSED


async def test_no_second_question_when_the_not_yet_was_taken_back_or_it_would_be_too_late(app: App) -> None:
    jobs: FakeJobs = app.jobs  # type: ignore[assignment]
    await record_answer(app, ANNA, Answer.LATER, group_id=1)
    await record_answer(app, ANNA, Answer.YES, group_id=1)
    await ask_again(app, 1, scheduled_for=datetime.now(UTC))
    assert (await group(app)).status == GroupStatus.ASKED
    assert not [body for body in await pair_messages(app) if says(body, "coffee_ask_again")]
    jobs.cancel(ask_again_job(1))
    close_after = timedelta(seconds=coffee_settings(app).close_after_seconds)
    schedule_ask_again(app, await group(app), datetime.now(UTC) + close_after)
    assert ask_again_job(1) not in jobs.scheduled


async def test_a_lost_ask_again_job_is_recreated_at_start_from_the_first_not_yet(app: App) -> None:
    jobs: FakeJobs = app.jobs  # type: ignore[assignment]
    await reschedule_ask_again(app)
    assert ask_again_job(1) not in jobs.scheduled  # nobody said "noch nicht"
    await record_answer(app, BEN, Answer.LATER, group_id=1)
    first_when = jobs.scheduled[ask_again_job(1)][1]
    await record_answer(app, ANNA, Answer.LATER, group_id=1)
    async with app.db.session() as session:  # Anna's "noch nicht" came a day after Ben's
        row = await session.scalar(select(CoffeeAnswer).where(CoffeeAnswer.user_id == ANNA))
        assert row is not None
        row.answered_at = datetime.now(UTC) + timedelta(days=1)
    jobs.scheduled.clear()  # the crash
    await reschedule_ask_again(app)
    _, when, args = jobs.scheduled[ask_again_job(1)]
    assert args == (1,)
    assert abs(when - first_when) < timedelta(minutes=5)  # from Ben's (the first) answer
    await ask_again(app, 1, scheduled_for=when)
    jobs.scheduled.clear()
    await reschedule_ask_again(app)  # asked once more already: nothing to re-create
    assert ask_again_job(1) not in jobs.scheduled
