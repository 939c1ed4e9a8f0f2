"""The networking feature's transactions on blocks and rounds: open, participation, plan and start a round,
finish it, close the block; the meeting history the matcher needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from bot.framework import CommandError
from commands.networking.logic import (
    PastMeeting,
    StartOptions,
    build_history,
    new_contacts,
    ordered_pair,
    warning_offset,
)
from storage.db import claimed
from storage.networking import BlockParticipant, Meeting, NetworkingBlock, NetworkingRound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
    from commands.networking.matching import Participant
from .feature import end_job, warn_job
from .introductions import load_profiles, participant
from .status import BlockStatus, ParticipantStatus, RoundStatus


async def open_block(session: AsyncSession, room_id: str) -> NetworkingBlock | None:
    block: NetworkingBlock | None = await session.scalar(
        select(NetworkingBlock)
        .where(NetworkingBlock.room_id == room_id, NetworkingBlock.status == BlockStatus.OPEN)
        .order_by(NetworkingBlock.id.desc())
    )
    return block


async def require_open_block(session: AsyncSession, room_id: str) -> NetworkingBlock:
    block = await open_block(session, room_id)
    if block is None:
        raise CommandError("networking_error_no_block")
    return block


async def running_round(session: AsyncSession, block_id: int) -> NetworkingRound | None:
    running: NetworkingRound | None = await session.scalar(
        select(NetworkingRound).where(
            NetworkingRound.block_id == block_id, NetworkingRound.status == RoundStatus.RUNNING
        )
    )
    return running


async def set_participation(app: App, block_id: int, user_id: str, status: str) -> str | None:
    """Join or pause; returns the previous status (None: was not registered)."""
    async with app.db.session() as session:
        row = await session.scalar(
            select(BlockParticipant).where(
                BlockParticipant.block_id == block_id, BlockParticipant.user_id == user_id
            )
        )
        previous = row.status if row else None
        if row is None:
            if status == ParticipantStatus.JOINED:
                session.add(
                    BlockParticipant(block_id=block_id, user_id=user_id, status=ParticipantStatus.JOINED)
                )
        elif row.status != status:
            row.status = status
            if status == ParticipantStatus.JOINED:
                row.joined_at = datetime.now(UTC)
    return previous


def pairs(group: Sequence[str]) -> list[tuple[str, str]]:
    return [ordered_pair(a, b) for i, a in enumerate(group) for b in group[i + 1 :]]


async def past_meetings(session: AsyncSession, people: Sequence[str]) -> list[PastMeeting]:
    """Every earlier meeting among ``people`` (with the round number for meetings of a block)."""
    rows = (
        await session.execute(
            select(Meeting.user_a, Meeting.user_b, Meeting.met_at, Meeting.block_id, NetworkingRound.number)
            .outerjoin(NetworkingRound, NetworkingRound.id == Meeting.round_id)
            .where(Meeting.user_a.in_(list(people)), Meeting.user_b.in_(list(people)))
        )
    ).all()
    return [PastMeeting(a, b, met_at, block_id, number) for a, b, met_at, block_id, number in rows]


async def intro_rooms(session: AsyncSession, round_id: int) -> list[str]:
    rooms = (
        await session.scalars(
            select(Meeting.intro_room_id)
            .where(Meeting.round_id == round_id, Meeting.intro_room_id.is_not(None))
            .distinct()
        )
    ).all()
    return sorted(room for room in rooms if room)


async def queue_round_messages(
    app: App, session: AsyncSession, round_: NetworkingRound, room_id: str, in_room: str, in_intro_rooms: str
) -> None:
    """Queue ``in_room`` for the block's room (mentioning the round's people) and ``in_intro_rooms`` for each
    of the round's private rooms; sent on ``sender.wake()`` after the transaction commits."""
    people = await round_people(session, round_.id)
    session.add(app.sender.prepare(in_room, room_id=room_id, mentions=tuple(people)))
    for room in await intro_rooms(session, round_.id):
        session.add(app.sender.prepare(in_intro_rooms, room_id=room))


async def round_people(session: AsyncSession, round_id: int) -> list[str]:
    rows = (
        await session.execute(select(Meeting.user_a, Meeting.user_b).where(Meeting.round_id == round_id))
    ).all()
    return sorted({user for row in rows for user in row})


async def finish_round(app: App, round_id: int, *, announce: bool) -> bool:
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(NetworkingRound)
            .where(NetworkingRound.id == round_id, NetworkingRound.status == RoundStatus.RUNNING)
            .values(status=RoundStatus.ENDED, ended_at=datetime.now(UTC)),
        ):
            return False
        round_ = await session.get(NetworkingRound, round_id)
        block = await session.get(NetworkingBlock, round_.block_id) if round_ else None
        if announce and round_ is not None and block is not None:
            t = app.catalog.translator(block.language)
            p = app.settings.bot.command_prefix
            next_hint = t("networking_next_hint", p=p) if block.status == BlockStatus.OPEN else ""
            await queue_round_messages(
                app,
                session,
                round_,
                block.room_id,
                t("networking_round_over", number=round_.number, hint=next_hint),
                t("networking_round_over_intro", number=round_.number, p=p),
            )
    app.jobs.cancel(warn_job(round_id))
    app.jobs.cancel(end_job(round_id))
    if announce:
        app.sender.wake()
    return True


@dataclass(frozen=True)
class RoundPlan:
    """What the matcher needs for the next round of a block, read in one transaction."""

    block_id: int
    language: str
    duration: timedelta
    group_size: int
    running_round_id: int | None
    people: list[Participant]
    history: dict[frozenset[str], int]  # how recently each pair met (see logic.build_history)


async def prepare_round(app: App, room_id: str, options: StartOptions, *, end_running: bool) -> RoundPlan:
    """The room's open block, who joined it and who met whom; refuses a second running round unless
    ``end_running`` (``!runde weiter``)."""
    async with app.db.session() as session:
        block = await require_open_block(session, room_id)
        running = await running_round(session, block.id)
        if running is not None and not end_running:
            raise CommandError("networking_error_round_running", number=running.number)
        joined = (
            await session.scalars(
                select(BlockParticipant.user_id)
                .where(
                    BlockParticipant.block_id == block.id, BlockParticipant.status == ParticipantStatus.JOINED
                )
                .order_by(BlockParticipant.joined_at, BlockParticipant.id)
            )
        ).all()
        if len(joined) < 2:
            raise CommandError("networking_error_too_few", count=len(joined))
        profiles = await load_profiles(session, list(joined))
        past = await past_meetings(session, list(joined))
    return RoundPlan(
        block_id=block.id,
        language=block.language,
        duration=options.duration or timedelta(seconds=block.duration_seconds),
        group_size=options.group_size or block.group_size,
        running_round_id=running.id if running is not None else None,
        people=[participant(user, profiles.get(user)) for user in joined],
        history=build_history(past, block.id),
    )


@dataclass(frozen=True)
class StartedRound:
    round_: NetworkingRound
    meetings: list[list[Meeting]]  # per group, in the order of the groups


async def start_round(
    app: App, room_id: str, plan: RoundPlan, groups: Sequence[Sequence[str]]
) -> StartedRound:
    """End the running round (silently), then store the new round and its meetings; refuses if the block
    changed while the groups were planned."""
    if plan.running_round_id is not None:
        await finish_round(app, plan.running_round_id, announce=False)
    now = datetime.now(UTC)
    seconds = int(plan.duration.total_seconds())
    async with app.db.session() as session:
        stored = await session.get(NetworkingBlock, plan.block_id)
        if (
            stored is None
            or stored.status != BlockStatus.OPEN
            or await running_round(session, plan.block_id) is not None
        ):
            raise CommandError("networking_error_changed")
        stored.round_number += 1
        stored.duration_seconds = seconds
        stored.group_size = plan.group_size
        round_ = NetworkingRound(
            block_id=plan.block_id,
            number=stored.round_number,
            group_size=plan.group_size,
            duration_seconds=seconds,
            started_at=now,
            warn_at=now + warning_offset(plan.duration),
            ends_at=now + plan.duration,
            status=RoundStatus.RUNNING,
        )
        session.add(round_)
        await session.flush()
        meetings: list[list[Meeting]] = []
        for number, group in enumerate(groups, start=1):
            rows = [
                Meeting(
                    user_a=first_id,
                    user_b=second_id,
                    met_at=now,
                    room_id=room_id,
                    group_no=number,
                    block_id=plan.block_id,
                    round_id=round_.id,
                )
                for first_id, second_id in pairs(group)
            ]
            session.add_all(rows)
            meetings.append(rows)
    return StartedRound(round_, meetings)


async def remember_intro_rooms(
    app: App, meetings: Sequence[Sequence[Meeting]], intro_rooms: Sequence[str | None]
) -> None:
    """Store each group's private room on its meetings (``!partner`` in such a room is not a community
    room)."""
    if not any(intro_rooms):
        return
    async with app.db.session() as session:
        for rows, intro_room in zip(meetings, intro_rooms, strict=True):
            if intro_room is None:
                continue
            ids = [row.id for row in rows]
            await session.execute(update(Meeting).where(Meeting.id.in_(ids)).values(intro_room_id=intro_room))


@dataclass(frozen=True)
class BlockSummary:
    rounds: int
    new_contacts: int
    people: int


async def close_block(app: App, room_id: str) -> BlockSummary:
    """End the running round (silently) and close the room's block; counts the contacts that are new."""
    async with app.db.session() as session:
        block = await require_open_block(session, room_id)
        running = await running_round(session, block.id)
    if running is not None:
        await finish_round(app, running.id, announce=False)
    async with app.db.session() as session:
        stored = await session.get(NetworkingBlock, block.id)
        if stored is None or stored.status != BlockStatus.OPEN:
            raise CommandError("networking_error_no_block")
        stored.status = BlockStatus.CLOSED
        stored.closed_at = datetime.now(UTC)
        rows = (
            await session.execute(select(Meeting.user_a, Meeting.user_b).where(Meeting.block_id == block.id))
        ).all()
        block_pairs = [(a, b) for a, b in rows]
        people = sorted({user for pair in block_pairs for user in pair})
        earlier = (
            await session.execute(
                select(Meeting.user_a, Meeting.user_b).where(
                    or_(Meeting.block_id.is_(None), Meeting.block_id != block.id),
                    Meeting.met_at < stored.created_at,
                    Meeting.user_a.in_(people),
                    Meeting.user_b.in_(people),
                )
            )
        ).all()
        round_count = stored.round_number
    return BlockSummary(round_count, new_contacts(block_pairs, [(a, b) for a, b in earlier]), len(people))
