"""Opt-in, rhythm, pause, leaving and the private block list: one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.framework import CommandError
from commands.coffee.rules import is_paused, scheduled_runs
from commands.coffee.status import ParticipantStatus
from storage.coffee import CoffeeBlock, CoffeeGroup, CoffeeParticipant

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
from .feature import coffee_settings


@dataclass(frozen=True)
class CoffeeState:
    """What ``!kaffee`` shows a member about themselves."""

    active: bool
    weeks: int
    paused: bool
    paused_until: date | None
    next_run: datetime | None
    blocked: tuple[str, ...]


async def eligible_rooms(app: App) -> list[str]:
    """The ``[coffee] rooms``, or every room the bot is in except direct chats and the chats the bot made
    for pairs (NExT-Kaffee's and the networking rounds')."""
    configured = coffee_settings(app).rooms
    if configured:
        return configured
    async with app.db.session() as session:
        own = set(
            (await session.scalars(select(CoffeeGroup.room_id).where(CoffeeGroup.room_id.is_not(None)))).all()
        )
        try:
            from storage.networking import Meeting
        except ImportError:  # the networking feature is not installed
            pass
        else:
            own.update((await session.scalars(select(Meeting.intro_room_id).distinct())).all())
    return [
        room_id
        for room_id, room in app.matrix.client.rooms.items()
        if room_id not in own and not app.matrix.is_direct_room(room)
    ]


async def may_take_part(app: App, user_id: str) -> bool:
    rooms = app.matrix.client.rooms
    return any(room_id in rooms and user_id in rooms[room_id].users for room_id in await eligible_rooms(app))


def next_run(app: App, after: datetime) -> datetime | None:
    config = coffee_settings(app)
    tz = app.settings.bot.tz
    runs = scheduled_runs(
        config.schedule, tz, config.every_weeks, config.anchor, after, after + timedelta(weeks=9)
    )
    return runs[0] if runs else None


async def join(app: App, user_id: str, weeks: int | None) -> int:
    """Opt in (again), optionally with a rhythm; returns the rhythm in weeks."""
    if not await may_take_part(app, user_id):
        raise CommandError("coffee_error_no_room")
    async with app.db.session() as session:
        row = await session.get(CoffeeParticipant, user_id)
        if row is None:
            row = CoffeeParticipant(user_id=user_id, weeks=weeks or 2, status=ParticipantStatus.ACTIVE)
            session.add(row)
        else:
            row.status = ParticipantStatus.ACTIVE
            row.weeks = weeks or row.weeks
        return row.weeks


async def _active(session: AsyncSession, user_id: str) -> CoffeeParticipant:
    row = await session.get(CoffeeParticipant, user_id)
    if row is None or row.status != ParticipantStatus.ACTIVE:
        raise CommandError("coffee_error_not_joined")
    return row


async def pause(app: App, user_id: str, until: date | None) -> None:
    async with app.db.session() as session:
        row = await _active(session, user_id)
        row.paused, row.paused_until = until is None, until


async def resume(app: App, user_id: str) -> None:
    async with app.db.session() as session:
        row = await _active(session, user_id)
        row.paused, row.paused_until = False, None


async def leave(app: App, user_id: str) -> None:
    async with app.db.session() as session:
        row = await _active(session, user_id)
        row.status = ParticipantStatus.LEFT
        row.paused, row.paused_until = False, None


async def block(app: App, user_id: str, other: str) -> bool:
    """Never pair ``user_id`` with ``other``; False when that was already so."""
    if other == user_id:
        raise CommandError("coffee_error_block_self")
    try:
        async with app.db.session() as session:
            session.add(CoffeeBlock(user_id=user_id, blocked_id=other))
    except IntegrityError:
        return False
    return True


async def unblock(app: App, user_id: str, other: str) -> bool:
    async with app.db.session() as session:
        result = await session.execute(
            delete(CoffeeBlock).where(CoffeeBlock.user_id == user_id, CoffeeBlock.blocked_id == other)
        )
    return int(getattr(result, "rowcount", 0) or 0) > 0


async def state(app: App, user_id: str, now: datetime) -> CoffeeState | None:
    async with app.db.session() as session:
        row = await session.get(CoffeeParticipant, user_id)
        blocked = (
            await session.scalars(
                select(CoffeeBlock.blocked_id).where(CoffeeBlock.user_id == user_id).order_by(CoffeeBlock.id)
            )
        ).all()
    if row is None:
        return None
    today = now.astimezone(app.settings.bot.tz).date()
    return CoffeeState(
        active=row.status == ParticipantStatus.ACTIVE,
        weeks=row.weeks,
        paused=is_paused(row.paused, row.paused_until, today),
        paused_until=row.paused_until if row.paused_until and row.paused_until >= today else None,
        next_run=next_run(app, now),
        blocked=tuple(blocked),
    )
