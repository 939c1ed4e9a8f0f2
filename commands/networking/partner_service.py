"""``!partner``'s transactions: find the best waiting member and claim their request, or wait."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

from bot.context import CommandContext
from bot.framework import CommandError
from commands.networking.logic import (
    PastMeeting,
    build_history,
    ordered_pair,
    rooms_overlap,
)
from storage.db import claimed
from storage.networking import Meeting, PartnerRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

from .feature import networking_settings
from .introductions import load_profiles, participant
from .status import RequestStatus


def _not_expired(request: PartnerRequest, now: datetime) -> bool:
    return request.status == RequestStatus.WAITING and request.expires_at > now


@dataclass(frozen=True)
class PartnerMatch:
    other: PartnerRequest
    community_room: str | None
    meeting_id: int


async def find_partner(ctx: CommandContext, rooms: list[str], now: datetime) -> PartnerMatch | None:
    """Pick the best waiting member and claim their request; None if nobody (or the request just expired)."""
    async with ctx.app.db.session() as session:
        own = await session.scalar(
            select(PartnerRequest).where(
                PartnerRequest.user_id == ctx.sender,
                PartnerRequest.status == RequestStatus.WAITING,
                PartnerRequest.expires_at > now,
            )
        )
        if own is not None:
            raise CommandError("networking_error_already_waiting")
        waiting = [
            request
            for request in (
                await session.scalars(
                    select(PartnerRequest)
                    .where(
                        PartnerRequest.status == RequestStatus.WAITING, PartnerRequest.user_id != ctx.sender
                    )
                    .order_by(PartnerRequest.created_at, PartnerRequest.id)
                )
            ).all()
            if _not_expired(request, now) and rooms_overlap(rooms, request.rooms)
        ]
        if not waiting:
            return None
        candidates = {request.user_id: request for request in reversed(waiting)}  # oldest request per user
        people = list(dict.fromkeys(request.user_id for request in waiting))
        profiles = await load_profiles(session, [ctx.sender, *people])
        history = await _history_between(session, ctx.sender, people)
    from commands.networking.matching import pick_partner

    chosen = pick_partner(
        participant(ctx.sender, profiles.get(ctx.sender)),
        [participant(user, profiles.get(user)) for user in people],
        history,
    )
    return None if chosen is None else await _claim_request(ctx, rooms, candidates[chosen], now)


async def _history_between(
    session: AsyncSession, user_id: str, others: Sequence[str]
) -> dict[frozenset[str], int]:
    if not others:
        return {}
    rows = (
        await session.execute(
            select(Meeting.user_a, Meeting.user_b, Meeting.met_at).where(
                or_(
                    (Meeting.user_a == user_id) & Meeting.user_b.in_(list(others)),
                    (Meeting.user_b == user_id) & Meeting.user_a.in_(list(others)),
                )
            )
        )
    ).all()
    return build_history(PastMeeting(a, b, met_at) for a, b, met_at in rows)


def _request_of(ctx: CommandContext, rooms: list[str], now: datetime, **state: Any) -> PartnerRequest:
    """The sender's request as asked in this room (or direct chat); ``state``: status, expiry, partner."""
    return PartnerRequest(
        user_id=ctx.sender,
        room_id=ctx.room_id,
        is_direct=ctx.is_direct,
        rooms=rooms,
        event_id=ctx.event_id,
        language=ctx.language,
        created_at=now,
        **state,
    )


async def add_waiting_request(ctx: CommandContext, rooms: list[str], now: datetime) -> PartnerRequest:
    seconds = networking_settings(ctx.app).wait_seconds_effective
    async with ctx.app.db.session() as session:
        request = _request_of(
            ctx, rooms, now, status=RequestStatus.WAITING, expires_at=now + timedelta(seconds=seconds)
        )
        session.add(request)
    return request


async def _claim_request(
    ctx: CommandContext, rooms: list[str], other: PartnerRequest, now: datetime
) -> PartnerMatch | None:
    """Claim the waiting request and record the meeting; None if it expired meanwhile."""
    shared = rooms_overlap(rooms, other.rooms)
    community_room = ctx.room_id if not ctx.is_direct else (shared[0] if shared else None)
    async with ctx.app.db.session() as session:
        if not await claimed(
            session,
            update(PartnerRequest)
            .where(PartnerRequest.id == other.id, PartnerRequest.status == RequestStatus.WAITING)
            .values(status=RequestStatus.MATCHED, partner_id=ctx.sender, finished_at=now),
        ):
            return None
        own = _request_of(
            ctx,
            rooms,
            now,
            status=RequestStatus.MATCHED,
            partner_id=other.user_id,
            expires_at=now,
            finished_at=now,
        )
        session.add(own)
        await session.flush()
        first, second = ordered_pair(ctx.sender, other.user_id)
        meeting = Meeting(user_a=first, user_b=second, met_at=now, room_id=community_room, request_id=own.id)
        session.add(meeting)
    return PartnerMatch(other, community_room, meeting.id)
