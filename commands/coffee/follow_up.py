"""After the follow-up delay: "Habt ihr euch getroffen?" in the pair's chat; answers (👍 / 👎 / ⏳, a plain
reply, or ``!kaffee getroffen …``); once more ``ask_again_days`` after a "noch nicht"; closing the group
(answered by everyone, or after ``close_days``), leaving the chat.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.framework import CommandError
from bot.sender import pill
from commands.coffee.rules import misses_after
from commands.coffee.status import Answer, GroupStatus
from storage.coffee import CoffeeAnswer, CoffeeGroup, CoffeeParticipant
from storage.db import claimed
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.app import App
from .feature import FOLLOW_UP_KIND, ask_again_job, coffee_settings, feature, follow_up_job, log

LEAVE_WAIT_SECONDS = 60.0


@feature.job("coffee.follow_up")
async def follow_up(app: App, group_id: int, *, scheduled_for: datetime) -> None:
    """First call: ask the group; second call (``close_days`` later): close it if still open."""
    async with app.db.session() as session:
        group = await session.get(CoffeeGroup, group_id)
        status = group.status if group else None
    if status == GroupStatus.OPEN:
        await ask(app, group_id)
    elif status in (GroupStatus.ASKED, GroupStatus.REASKED):
        await close(app, group_id)


async def ask(app: App, group_id: int) -> None:
    now = datetime.now(UTC)
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(CoffeeGroup)
            .where(CoffeeGroup.id == group_id, CoffeeGroup.status == GroupStatus.OPEN)
            .values(status=GroupStatus.ASKED, asked_at=now),
        ):
            return
        group = await session.get(CoffeeGroup, group_id)
        assert group is not None
        _queue_question(app, session, group, "coffee_follow_up", "coffee_follow_up_direct")
    app.sender.wake()
    close_at = now + timedelta(seconds=coffee_settings(app).close_after_seconds)
    app.jobs.at(follow_up_job(group_id), follow_up, close_at, group_id)


def _queue_question(app: App, session: AsyncSession, group: CoffeeGroup, key: str, direct_key: str) -> None:
    """The question in the group's chat (or, without one, to each member by direct message), tracked so that
    reactions and plain replies to it are answers."""
    t = app.catalog.translator(group.language)
    people = tuple(group.members)
    prefix = app.settings.bot.command_prefix
    if group.room_id:
        text = t(key, p=prefix)
        session.add(
            app.sender.prepare(text, room_id=group.room_id, mentions=people, track=(FOLLOW_UP_KIND, group.id))
        )
        return
    for user in people:
        others = ", ".join(pill(u) for u in people if u != user)
        message = t(direct_key, people=others, p=prefix)
        session.add(app.sender.prepare(message, to_user=user, track=(FOLLOW_UP_KIND, group.id)))


@feature.job("coffee.ask_again")
async def ask_again(app: App, group_id: int, *, scheduled_for: datetime) -> None:
    """Once, ``ask_again_days`` after a "noch nicht": the question again, if someone's last answer is still
    "noch nicht" and the group is open. The status flip (asked → reasked) makes it happen at most once."""
    async with app.db.session() as session:
        answers = (
            await session.scalars(select(CoffeeAnswer.answer).where(CoffeeAnswer.group_id == group_id))
        ).all()
        if Answer.LATER not in answers:
            return
        if not await claimed(
            session,
            update(CoffeeGroup)
            .where(CoffeeGroup.id == group_id, CoffeeGroup.status == GroupStatus.ASKED)
            .values(status=GroupStatus.REASKED),
        ):
            return
        group = await session.get(CoffeeGroup, group_id)
        assert group is not None
        _queue_question(app, session, group, "coffee_ask_again", "coffee_ask_again_direct")
    app.sender.wake()
    log.info("NExT-Kaffee group %s: asked once more", group_id)


def schedule_ask_again(app: App, group: CoffeeGroup, answered_at: datetime) -> None:
    """After a "noch nicht" to the first question: the second question, unless one is planned already or it
    would come after the group closes."""
    if (
        group.status != GroupStatus.ASKED
        or group.asked_at is None
        or app.jobs.exists(ask_again_job(group.id))
    ):
        return
    config = coffee_settings(app)
    when = answered_at + timedelta(seconds=config.ask_again_after_seconds)
    asked_at = group.asked_at if group.asked_at.tzinfo else group.asked_at.replace(tzinfo=UTC)
    if when < asked_at + timedelta(seconds=config.close_after_seconds):
        app.jobs.at(ask_again_job(group.id), ask_again, max(when, datetime.now(UTC)), group.id)


async def reschedule_ask_again(app: App) -> None:
    """At start: the second question for groups asked once whose first "noch nicht" has no job (lost in a
    crash); due at once if its time has passed, never after the group closes."""
    async with app.db.session() as session:
        rows = (
            await session.execute(
                select(CoffeeGroup, CoffeeAnswer.answered_at)
                .join(CoffeeAnswer, CoffeeAnswer.group_id == CoffeeGroup.id)
                .where(CoffeeGroup.status == GroupStatus.ASKED, CoffeeAnswer.answer == Answer.LATER)
                .order_by(CoffeeAnswer.answered_at)
            )
        ).all()
    first: dict[int, tuple[CoffeeGroup, datetime]] = {}
    for group, answered_at in rows:
        first.setdefault(group.id, (group, answered_at))
    for group, answered_at in first.values():
        schedule_ask_again(app, group, answered_at if answered_at.tzinfo else answered_at.replace(tzinfo=UTC))


async def _group_of(app: App, user_id: str, *, group_id: int | None, room_id: str | None) -> int:
    """The group an answer is about: the reacted-to follow-up, the chat it is typed in, or the latest one."""
    async with app.db.session() as session:
        rows = (
            await session.scalars(
                select(CoffeeGroup)
                .where(CoffeeGroup.status != GroupStatus.CLOSED)
                .order_by(CoffeeGroup.id.desc())
            )
        ).all()
    mine = [g for g in rows if user_id in g.members]
    for group in mine:
        if group.id == group_id or (group_id is None and group.room_id == room_id):
            return group.id
    if group_id is None and mine:
        return mine[0].id
    raise CommandError("coffee_error_no_group")


async def record_answer(
    app: App, user_id: str, answer: Answer, *, group_id: int | None = None, room_id: str | None = None
) -> bool:
    """Store the member's answer (the last one counts); True when it closed the group."""
    found = await _group_of(app, user_id, group_id=group_id, room_id=room_id)
    async with app.db.session() as session:
        row = await session.scalar(
            select(CoffeeAnswer).where(CoffeeAnswer.group_id == found, CoffeeAnswer.user_id == user_id)
        )
        if row is None:
            session.add(CoffeeAnswer(group_id=found, user_id=user_id, answer=answer))
        else:
            row.answer, row.answered_at = answer, datetime.now(UTC)
        await session.flush()
        group = await session.get(CoffeeGroup, found)
        answers = (await session.scalars(select(CoffeeAnswer).where(CoffeeAnswer.group_id == found))).all()
        final = {a.user_id for a in answers if a.answer != Answer.LATER}
        everyone = group is not None and final >= set(group.members)
    log.info("NExT-Kaffee group %s: an answer was recorded", found)
    if everyone:
        await close(app, found)
    elif answer is Answer.LATER and group is not None:
        schedule_ask_again(app, group, datetime.now(UTC))
    return everyone


async def close(app: App, group_id: int) -> None:
    """Count the follow-up for the "paired less often" rule, thank the group and leave its chat."""
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(CoffeeGroup)
            .where(CoffeeGroup.id == group_id, CoffeeGroup.status != GroupStatus.CLOSED)
            .values(status=GroupStatus.CLOSED, closed_at=datetime.now(UTC)),
        ):
            return
        group = await session.get(CoffeeGroup, group_id)
        assert group is not None
        answers = {
            a.user_id: Answer(a.answer)
            for a in (
                await session.scalars(select(CoffeeAnswer).where(CoffeeAnswer.group_id == group_id))
            ).all()
        }
        met = any(answer is Answer.YES for answer in answers.values())
        for user in group.members:
            participant = await session.get(CoffeeParticipant, user)
            if participant is not None:
                participant.misses = misses_after(
                    participant.misses, Answer.YES if met else answers.get(user)
                )
        outbox: OutboxMessage | None = None
        if group.room_id:
            t = app.catalog.translator(group.language)
            outbox = app.sender.prepare(
                t("coffee_closed" if met else "coffee_closed_unmet"), room_id=group.room_id
            )
            session.add(outbox)
        room_id = group.room_id
    app.sender.wake()
    app.jobs.cancel(follow_up_job(group_id))
    app.jobs.cancel(ask_again_job(group_id))
    if room_id and outbox is not None:
        app.in_background(_leave_after_sent(app, room_id, outbox.id), name=f"coffee leave {room_id}")


async def _leave_after_sent(app: App, room_id: str, outbox_id: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LEAVE_WAIT_SECONDS
    while loop.time() < deadline:
        async with app.db.session() as session:
            row = await session.get(OutboxMessage, outbox_id)
        if row is None or row.sent_at is not None or row.failed_at is not None:
            break
        await asyncio.sleep(0.5)
    await app.matrix.client.room_leave(room_id)
    log.info("left the NExT-Kaffee chat %s", room_id)
