"""``!partner``: find a partner now or wait for one; ``!partner abbrechen``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.context import CommandContext
from bot.framework import CommandError
from bot.sender import pill
from storage.networking import Meeting, PartnerRequest

from .feature import describe_wait, feature, networking_settings, plural, request_job
from .introductions import introduce
from .jobs import request_expired
from .partner_service import PartnerMatch, add_waiting_request, find_partner
from .status import RequestStatus

# --- partner requests ---------------------------------------------------------------------------------------


async def _shared_rooms(ctx: CommandContext) -> list[str]:
    """Community rooms the member shares with the bot (not direct chats, not networking intro rooms)."""
    matrix = ctx.app.matrix
    candidates = [
        room_id
        for room_id, room in matrix.client.rooms.items()
        if ctx.sender in room.users
        and ctx.sender not in room.invited_users
        and not matrix.is_direct_room(room)
    ]
    if not candidates:
        return []
    async with ctx.app.db.session() as session:
        intro_rooms = set(
            (
                await session.scalars(
                    select(Meeting.intro_room_id).where(Meeting.intro_room_id.in_(candidates)).distinct()
                )
            ).all()
        )
    return sorted(room for room in candidates if room not in intro_rooms)


@feature.command(
    de="partner", en="partner", aliases=("speeddating", "speed-dating"), help="networking_partner"
)
async def partner(ctx: CommandContext) -> None:
    app = ctx.app
    rooms = await _shared_rooms(ctx) if ctx.is_direct else [ctx.room_id]
    if not rooms:
        raise CommandError("networking_error_no_rooms")
    now = datetime.now(UTC)
    # One decision at a time: the router runs rooms concurrently, and two requests at the same moment must
    # find each other instead of both waiting (and one member must not wait twice from two rooms). Only the
    # database work is inside; creating the intro room is not.
    async with app.locks.for_key("partner-requests"):
        match = await find_partner(ctx, rooms, now)
        if match is None:
            request = await add_waiting_request(ctx, rooms, now)
    if match is None:
        await _announce_waiting(ctx, request, rooms)
    else:
        await _introduce_partners(ctx, match)


async def _announce_waiting(ctx: CommandContext, request: PartnerRequest, rooms: list[str]) -> None:
    ctx.app.jobs.at(request_job(request.id), request_expired, request.expires_at, request.id)
    seconds = networking_settings(ctx.app).wait_seconds_effective
    key = "networking_waiting_rooms" if ctx.is_direct else "networking_waiting"
    await ctx.answer(
        key, wait=describe_wait(ctx.t, seconds), rooms=plural(ctx.t, "networking_rooms_count", len(rooms))
    )


async def _introduce_partners(ctx: CommandContext, match: PartnerMatch) -> None:
    app = ctx.app
    other, community_room = match.other, match.community_room
    app.jobs.cancel(request_job(other.id))
    group = (ctx.sender, other.user_id)
    t = ctx.t
    threaded_root = None if ctx.is_direct else (ctx.thread_root or ctx.event_id)
    if community_room is not None and community_room != ctx.room_id and other.room_id == community_room:
        threaded_root = other.event_id
    intro_rooms = await introduce(
        app,
        [group],
        language=ctx.language,
        community_room=community_room,
        thread_root=threaded_root,
        headings=[t("networking_intro_heading_partner")],
        room_names=[t("networking_room_name_partner")],
    )
    intro_room = intro_rooms[0]
    if intro_room is not None:
        async with app.db.session() as session:
            stored = await session.get(Meeting, match.meeting_id)
            if stored is not None:
                stored.intro_room_id = intro_room
    where_key = "networking_found_room" if intro_room else "networking_found_thread"
    await ctx.reply(t("networking_found", partner=pill(other.user_id), where=t(where_key)))
    # The partner hears it where they asked (unless the threaded intro is right there already).
    if intro_room is not None or other.room_id != community_room:
        other_t = app.catalog.translator(other.language)
        await app.sender.send(
            other_t(
                "networking_found_other",
                user=pill(other.user_id),
                partner=pill(ctx.sender),
                where=other_t(where_key),
            ),
            room_id=other.room_id,
            reply_to=other.event_id,
            mentions=(other.user_id,),
        )


@partner.subcommand(
    de="abbrechen", en="cancel", aliases=("stopp", "stop", "stornieren"), help="networking_partner_cancel"
)
async def partner_cancel(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        waiting = (
            await session.scalars(
                select(PartnerRequest).where(
                    PartnerRequest.user_id == ctx.sender, PartnerRequest.status == RequestStatus.WAITING
                )
            )
        ).all()
        for request in waiting:
            request.status = RequestStatus.CANCELLED
            request.finished_at = datetime.now(UTC)
    if not waiting:
        raise CommandError("networking_error_not_waiting")
    for request in waiting:
        ctx.app.jobs.cancel(request_job(request.id))
    await ctx.answer("networking_cancelled")
