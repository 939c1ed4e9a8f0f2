"""Networking: ``!partner`` requests and moderator-timed speed-dating rounds (``!runde …``), ``!kontakte``.

Who meets whom is decided by :mod:`commands.networking.matching` (pure logic); this module stores requests,
blocks, rounds and meetings, introduces the people (a private room per group, or a threaded message) and keeps
the time with scheduler jobs that survive restarts (the rows carry the state, the jobs only ids).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update

from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import Arg, CommandError, Feature, Permission, Text
from bot.i18n import Translate
from bot.sender import pill
from commands.networking.logic import (
    OptionError,
    PastMeeting,
    build_history,
    contacts_of,
    load_starters,
    new_contacts,
    ordered_pair,
    parse_start_options,
    pick_starter,
    rooms_overlap,
    warning_offset,
)
from storage.models import Member
from storage.networking import BlockParticipant, Meeting, NetworkingBlock, NetworkingRound, PartnerRequest
from timephrases import format_date

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
    from commands.networking.matching import Participant

log = logging.getLogger(__name__)

feature = Feature(
    "networking", messages=Path(__file__).with_name("messages.toml"), title_key="networking_title", order=40
)

BLOCK_KIND = "networking_block"
# 🙋 and its gendered variants (the router strips variation selectors before matching).
JOIN_KEYS = ("🙋", "🙋\u200d♀️", "🙋\u200d♂️", "🙋🏻", "🙋🏼", "🙋🏽", "🙋🏾", "🙋🏿")
MAX_CONTACTS_SHOWN = 200
# Rooms are created a few at a time: many at once would hit the homeserver's rate limits.
ROOM_CREATION_PARALLEL = 4
# How long an introduction waits for the invited people to join their new room before it is sent anyway.
INTRO_JOIN_WAIT_SECONDS = 60.0


def warn_job(round_id: int) -> str:
    return f"networking:warn:{round_id}"


def end_job(round_id: int) -> str:
    return f"networking:end:{round_id}"


def request_job(request_id: int) -> str:
    return f"networking:request:{request_id}"


@lru_cache(maxsize=4)
def _starters(path: str | None) -> dict[str, list[str]]:
    return load_starters(Path(path) if path else None)


def starters(app: App) -> dict[str, list[str]]:
    configured = app.settings.networking.conversation_starters_file
    return _starters(str(configured) if configured else None)


# --- profiles and introductions -----------------------------------------------------------------------------


async def _profiles(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, Member]:
    if not user_ids:
        return {}
    rows = (await session.scalars(select(Member).where(Member.user_id.in_(list(user_ids))))).all()
    return {row.user_id: row for row in rows}


def _participant(user_id: str, member: Member | None) -> Participant:
    # numpy and rustworkx are imported on first use, not at start-up.
    from commands.networking.matching import Participant

    return Participant(user_id, member.organisation if member else None, member.level if member else None)


def _person_line(t: Translate, user_id: str, member: Member | None) -> str:
    dash = t("networking_not_set")
    organisation = esc(member.organisation) if member and member.organisation else dash
    level = t(f"networking_level_{member.level}") if member and member.level else dash
    topics = ", ".join(esc(topic) for topic in member.topics) if member and member.topics else dash
    return t(
        "networking_intro_person", user=pill(user_id), organisation=organisation, level=level, topics=topics
    )


def intro_markdown(
    app: App, t: Translate, group: Sequence[str], profiles: dict[str, Member], *, heading: str, threaded: bool
) -> str:
    people = "\n".join(_person_line(t, user_id, profiles.get(user_id)) for user_id in group)
    starter = pick_starter(starters(app), t.language)
    key = "networking_intro_threaded" if threaded else "networking_intro"
    return t(key, heading=heading, people=people, starter=esc(starter))


async def introduce(
    app: App,
    groups: Sequence[Sequence[str]],
    *,
    language: str,
    community_room: str | None,
    thread_root: str | None,
    headings: Sequence[str],
    room_names: Sequence[str],
) -> list[str | None]:
    """Send one introduction per group; returns the private room of each group (None: intro in the community
    room, as a thread under ``thread_root`` when given)."""
    t = app.catalog.translator(language)
    async with app.db.session() as session:
        profiles = await _profiles(session, sorted({user for group in groups for user in group}))
    private = app.settings.networking.private_rooms or community_room is None
    limit = asyncio.Semaphore(ROOM_CREATION_PARALLEL)

    async def one(index: int, group: Sequence[str]) -> str | None:
        room_id: str | None = None
        if private:
            try:
                async with limit:
                    room_id = await app.matrix.create_room(room_names[index], list(group))
            except Exception:
                log.exception("could not create an intro room; introducing in the community room instead")
        if room_id is not None:
            text = intro_markdown(app, t, group, profiles, heading=headings[index], threaded=False)
            app.in_background(_send_when_joined(app, room_id, tuple(group), text), name=f"intro {room_id}")
            return room_id
        if community_room is None:
            return None
        text = intro_markdown(app, t, group, profiles, heading=headings[index], threaded=True)
        await app.sender.send(
            text,
            room_id=community_room,
            mentions=tuple(group),
            thread_root=thread_root,
            reply_to=None,
        )
        return None

    return list(await asyncio.gather(*(one(i, group) for i, group in enumerate(groups))))


async def _send_when_joined(app: App, room_id: str, people: tuple[str, ...], text: str) -> None:
    """Send the intro once the invited people are in the room (or after a while anyway).

    The bot's Matrix client shares the key of an encrypted room only with members it sees at the first
    message; invitees who join later could not read an intro sent at once."""
    deadline = asyncio.get_running_loop().time() + INTRO_JOIN_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        room = app.matrix.client.rooms.get(room_id)
        if room is not None and all(user in room.users and user not in room.invited_users for user in people):
            break
        await asyncio.sleep(0.25)
    try:
        await app.sender.send(text, room_id=room_id, mentions=people)
    except Exception:
        log.exception("could not queue the introduction for %s", room_id)


def _group_list(t: Translate, groups: Sequence[Sequence[str]]) -> str:
    return "\n".join(
        t("networking_group_line", number=index, people=t("networking_and").join(pill(u) for u in group))
        for index, group in enumerate(groups, start=1)
    )


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


def _not_expired(request: PartnerRequest, now: datetime) -> bool:
    return request.status == "waiting" and request.expires_at > now


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
        match = await _find_partner(ctx, rooms, now)
        if match is None:
            request = await _add_waiting_request(ctx, rooms, now)
    if match is None:
        await _announce_waiting(ctx, request, rooms)
    else:
        await _introduce_partners(ctx, match)


@dataclass(frozen=True)
class PartnerMatch:
    other: PartnerRequest
    community_room: str | None
    meeting_id: int


async def _find_partner(ctx: CommandContext, rooms: list[str], now: datetime) -> PartnerMatch | None:
    """Pick the best waiting member and claim their request; None if nobody (or the request just expired)."""
    async with ctx.app.db.session() as session:
        own = await session.scalar(
            select(PartnerRequest).where(
                PartnerRequest.user_id == ctx.sender,
                PartnerRequest.status == "waiting",
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
                    .where(PartnerRequest.status == "waiting", PartnerRequest.user_id != ctx.sender)
                    .order_by(PartnerRequest.created_at, PartnerRequest.id)
                )
            ).all()
            if _not_expired(request, now) and rooms_overlap(rooms, request.rooms)
        ]
        if not waiting:
            return None
        candidates = {request.user_id: request for request in reversed(waiting)}  # oldest request per user
        people = list(dict.fromkeys(request.user_id for request in waiting))
        profiles = await _profiles(session, [ctx.sender, *people])
        history = await _history_between(session, ctx.sender, people)
    from commands.networking.matching import pick_partner

    chosen = pick_partner(
        _participant(ctx.sender, profiles.get(ctx.sender)),
        [_participant(user, profiles.get(user)) for user in people],
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


async def _add_waiting_request(ctx: CommandContext, rooms: list[str], now: datetime) -> PartnerRequest:
    seconds = ctx.app.settings.networking.wait_seconds_effective
    async with ctx.app.db.session() as session:
        request = PartnerRequest(
            user_id=ctx.sender,
            room_id=ctx.room_id,
            is_direct=ctx.is_direct,
            rooms=rooms,
            event_id=ctx.event_id,
            language=ctx.language,
            status="waiting",
            created_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )
        session.add(request)
    return request


async def _announce_waiting(ctx: CommandContext, request: PartnerRequest, rooms: list[str]) -> None:
    ctx.app.jobs.at(request_job(request.id), request_expired, request.expires_at, request.id)
    seconds = ctx.app.settings.networking.wait_seconds_effective
    key = "networking_waiting_rooms" if ctx.is_direct else "networking_waiting"
    await ctx.answer(key, wait=_describe_wait(ctx.t, seconds), rooms=len(rooms))


def plural(t: Translate, key: str, count: int) -> str:
    return t(f"{key}_one" if count == 1 else f"{key}_other", count=count)


def _describe_wait(t: Translate, seconds: int) -> str:
    if seconds % 60 == 0:
        return plural(t, "networking_minutes", seconds // 60)
    return plural(t, "networking_seconds", seconds)


async def _claim_request(
    ctx: CommandContext, rooms: list[str], other: PartnerRequest, now: datetime
) -> PartnerMatch | None:
    """Claim the waiting request and record the meeting; None if it expired meanwhile."""
    shared = rooms_overlap(rooms, other.rooms)
    community_room = ctx.room_id if not ctx.is_direct else (shared[0] if shared else None)
    async with ctx.app.db.session() as session:
        claimed = await session.execute(
            update(PartnerRequest)
            .where(PartnerRequest.id == other.id, PartnerRequest.status == "waiting")
            .values(status="matched", partner_id=ctx.sender, finished_at=now)
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return None
        own = PartnerRequest(
            user_id=ctx.sender,
            room_id=ctx.room_id,
            is_direct=ctx.is_direct,
            rooms=rooms,
            event_id=ctx.event_id,
            language=ctx.language,
            status="matched",
            partner_id=other.user_id,
            created_at=now,
            expires_at=now,
            finished_at=now,
        )
        session.add(own)
        await session.flush()
        first, second = ordered_pair(ctx.sender, other.user_id)
        meeting = Meeting(user_a=first, user_b=second, met_at=now, room_id=community_room, request_id=own.id)
        session.add(meeting)
    return PartnerMatch(other, community_room, meeting.id)


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
                    PartnerRequest.user_id == ctx.sender, PartnerRequest.status == "waiting"
                )
            )
        ).all()
        for request in waiting:
            request.status = "cancelled"
            request.finished_at = datetime.now(UTC)
    if not waiting:
        raise CommandError("networking_error_not_waiting")
    for request in waiting:
        ctx.app.jobs.cancel(request_job(request.id))
    await ctx.answer("networking_cancelled")


@feature.job("networking.request_expired")
async def request_expired(app: App, request_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: nobody was found in time; tell the member exactly once."""
    async with app.db.session() as session:
        request = await session.get(PartnerRequest, request_id)
        if request is None or request.status != "waiting":
            return
        claimed = await session.execute(
            update(PartnerRequest)
            .where(PartnerRequest.id == request_id, PartnerRequest.status == "waiting")
            .values(status="expired", finished_at=datetime.now(UTC))
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return
        t = app.catalog.translator(request.language)
        session.add(
            app.sender.prepare(
                t("networking_nobody", user=pill(request.user_id), p=app.settings.bot.command_prefix),
                room_id=request.room_id,
                mentions=(request.user_id,),
                reply_to=request.event_id,
            )
        )
    app.sender.wake()


# --- blocks and rounds --------------------------------------------------------------------------------------

rounds = feature.group(de="runde", en="round", aliases=("netzwerkrunde",), help="networking_round")


def _require_room(ctx: CommandContext) -> None:
    if ctx.is_direct:
        raise CommandError("networking_error_direct")


async def _open_block(session: AsyncSession, room_id: str) -> NetworkingBlock | None:
    block: NetworkingBlock | None = await session.scalar(
        select(NetworkingBlock)
        .where(NetworkingBlock.room_id == room_id, NetworkingBlock.status == "open")
        .order_by(NetworkingBlock.id.desc())
    )
    return block


async def _running_round(session: AsyncSession, block_id: int) -> NetworkingRound | None:
    running: NetworkingRound | None = await session.scalar(
        select(NetworkingRound).where(
            NetworkingRound.block_id == block_id, NetworkingRound.status == "running"
        )
    )
    return running


@rounds.subcommand(
    de="öffnen", en="open", aliases=("oeffnen", "eröffnen", "eroeffnen"), help="networking_round_open",
    permission=Permission.MODERATOR,
)  # fmt: skip
async def round_open(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        if await _open_block(session, ctx.room_id) is not None:
            raise CommandError("networking_error_block_open")
        block = NetworkingBlock(
            room_id=ctx.room_id,
            status="open",
            duration_seconds=ctx.app.settings.networking.round_minutes * 60,
            group_size=2,
            language=ctx.language,
            opened_by=ctx.sender,
        )
        session.add(block)
    await ctx.reply(
        ctx.t("networking_block_opened", p=ctx.prefix, minutes=block.duration_seconds // 60),
        track=(BLOCK_KIND, block.id),
    )


async def _set_participation(app: App, block_id: int, user_id: str, status: str) -> str | None:
    """Join or pause; returns the previous status (None: was not registered)."""
    async with app.db.session() as session:
        row = await session.scalar(
            select(BlockParticipant).where(
                BlockParticipant.block_id == block_id, BlockParticipant.user_id == user_id
            )
        )
        previous = row.status if row else None
        if row is None:
            if status == "joined":
                session.add(BlockParticipant(block_id=block_id, user_id=user_id, status="joined"))
        elif row.status != status:
            row.status = status
            if status == "joined":
                row.joined_at = datetime.now(UTC)
    return previous


@rounds.subcommand(
    de="mitmachen", en="join", aliases=("teilnehmen", "dabei", "beitreten"), help="networking_round_join"
)
async def round_join(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        block = await _open_block(session, ctx.room_id)
        if block is None:
            raise CommandError("networking_error_no_block")
        running = await _running_round(session, block.id)
    previous = await _set_participation(ctx.app, block.id, ctx.sender, "joined")
    if previous == "joined":
        await ctx.answer("networking_already_joined")
        return
    await ctx.answer("networking_joined_next" if running else "networking_joined")


@rounds.subcommand(
    de="pause", en="pause", aliases=("aussetzen", "verlassen", "leave"), help="networking_round_pause"
)
async def round_pause(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        block = await _open_block(session, ctx.room_id)
        if block is None:
            raise CommandError("networking_error_no_block")
    previous = await _set_participation(ctx.app, block.id, ctx.sender, "paused")
    if previous != "joined":
        raise CommandError("networking_error_not_joined")
    await ctx.answer("networking_paused")


@feature.on_reaction(BLOCK_KIND, JOIN_KEYS)
async def join_by_reaction(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    async with reaction.app.db.session() as session:
        block = await session.get(NetworkingBlock, reaction.ref_id)
        if block is None or block.status != "open":
            return
    await _set_participation(
        reaction.app, reaction.ref_id, reaction.sender, "joined" if reaction.added else "paused"
    )


@rounds.subcommand(
    de="start", en="start", aliases=("starten", "los"), help="networking_round_start",
    permission=Permission.MODERATOR, args=[Arg("options", Text(max_length=100, allow_empty=True))],
)  # fmt: skip
async def round_start(ctx: CommandContext, options: str) -> None:
    await _next_round(ctx, options, end_running=False)


@rounds.subcommand(
    de="weiter", en="next", aliases=("nächste", "naechste", "next-round"), help="networking_round_next",
    permission=Permission.MODERATOR, args=[Arg("options", Text(max_length=100, allow_empty=True))],
)  # fmt: skip
async def round_next(ctx: CommandContext, options: str) -> None:
    await _next_round(ctx, options, end_running=True)


async def _next_round(ctx: CommandContext, options: str, *, end_running: bool) -> None:
    _require_room(ctx)
    app = ctx.app
    try:
        parsed = parse_start_options(options)
    except OptionError as error:
        raise CommandError(error.key, show_usage=True, value=error.value) from None
    async with app.db.session() as session:
        block = await _open_block(session, ctx.room_id)
        if block is None:
            raise CommandError("networking_error_no_block")
        running = await _running_round(session, block.id)
        if running is not None and not end_running:
            raise CommandError("networking_error_round_running", number=running.number)
        joined = (
            await session.scalars(
                select(BlockParticipant.user_id)
                .where(BlockParticipant.block_id == block.id, BlockParticipant.status == "joined")
                .order_by(BlockParticipant.joined_at, BlockParticipant.id)
            )
        ).all()
        if len(joined) < 2:
            raise CommandError("networking_error_too_few", count=len(joined))
        profiles = await _profiles(session, list(joined))
        past = await _past_meetings(session, list(joined))
    duration = parsed.duration or timedelta(seconds=block.duration_seconds)
    group_size = parsed.group_size or block.group_size
    people = [_participant(user, profiles.get(user)) for user in joined]
    history = build_history(past, block.id)
    from commands.networking.matching import plan_round

    groups = await asyncio.to_thread(plan_round, people, history, group_size=group_size)
    if running is not None:
        await _finish_round(app, running.id, announce=False)
    now = datetime.now(UTC)
    async with app.db.session() as session:
        stored = await session.get(NetworkingBlock, block.id)
        if stored is None or stored.status != "open" or await _running_round(session, block.id) is not None:
            raise CommandError("networking_error_changed")
        stored.round_number += 1
        stored.duration_seconds = int(duration.total_seconds())
        stored.group_size = group_size
        round_ = NetworkingRound(
            block_id=block.id,
            number=stored.round_number,
            group_size=group_size,
            duration_seconds=int(duration.total_seconds()),
            started_at=now,
            warn_at=now + warning_offset(duration),
            ends_at=now + duration,
            status="running",
        )
        session.add(round_)
        await session.flush()
        meetings: list[list[Meeting]] = []
        for number, group in enumerate(groups, start=1):
            rows = []
            for first_id, second_id in _pairs(group):
                row = Meeting(
                    user_a=first_id,
                    user_b=second_id,
                    met_at=now,
                    room_id=ctx.room_id,
                    group_no=number,
                    block_id=block.id,
                    round_id=round_.id,
                )
                session.add(row)
                rows.append(row)
            meetings.append(rows)
    _schedule_round(app, round_)
    t = ctx.t
    everyone = tuple(user for group in groups for user in group)
    private = app.settings.networking.private_rooms
    await ctx.reply(
        t(
            "networking_round_started",
            number=round_.number,
            duration=_describe_wait(t, round_.duration_seconds),
            groups=_group_list(t, groups),
            where=t("networking_where_rooms" if private else "networking_where_thread"),
        ),
        mentions=everyone,
    )
    intro_rooms = await introduce(
        app,
        groups,
        language=block.language,
        community_room=ctx.room_id,
        thread_root=ctx.thread_root or ctx.event_id,
        headings=[
            t("networking_intro_heading_round", round=round_.number, group=index)
            for index in range(1, len(groups) + 1)
        ],
        room_names=[
            t("networking_room_name_round", round=round_.number, group=index)
            for index in range(1, len(groups) + 1)
        ],
    )
    if any(intro_rooms):
        async with app.db.session() as session:
            for rows, intro_room in zip(meetings, intro_rooms, strict=True):
                if intro_room is None:
                    continue
                ids = [row.id for row in rows]
                await session.execute(
                    update(Meeting).where(Meeting.id.in_(ids)).values(intro_room_id=intro_room)
                )


def _pairs(group: Sequence[str]) -> list[tuple[str, str]]:
    return [ordered_pair(a, b) for i, a in enumerate(group) for b in group[i + 1 :]]


async def _past_meetings(session: AsyncSession, people: Sequence[str]) -> list[PastMeeting]:
    """Every earlier meeting among ``people`` (with the round number for meetings of a block)."""
    rows = (
        await session.execute(
            select(Meeting.user_a, Meeting.user_b, Meeting.met_at, Meeting.block_id, NetworkingRound.number)
            .outerjoin(NetworkingRound, NetworkingRound.id == Meeting.round_id)
            .where(Meeting.user_a.in_(list(people)), Meeting.user_b.in_(list(people)))
        )
    ).all()
    return [PastMeeting(a, b, met_at, block_id, number) for a, b, met_at, block_id, number in rows]


def _schedule_round(app: App, round_: NetworkingRound) -> None:
    if not round_.warned:
        app.jobs.at(warn_job(round_.id), round_warning, round_.warn_at, round_.id)
    app.jobs.at(end_job(round_.id), round_ended, round_.ends_at, round_.id)


async def _intro_rooms(session: AsyncSession, round_id: int) -> list[str]:
    rooms = (
        await session.scalars(
            select(Meeting.intro_room_id)
            .where(Meeting.round_id == round_id, Meeting.intro_room_id.is_not(None))
            .distinct()
        )
    ).all()
    return sorted(room for room in rooms if room)


async def _round_people(session: AsyncSession, round_id: int) -> list[str]:
    rows = (
        await session.execute(select(Meeting.user_a, Meeting.user_b).where(Meeting.round_id == round_id))
    ).all()
    return sorted({user for row in rows for user in row})


@feature.job("networking.round_warning")
async def round_warning(app: App, round_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: "noch 1 Minute" (at half time for short rounds), exactly once, never after the end."""
    async with app.db.session() as session:
        round_ = await session.get(NetworkingRound, round_id)
        if round_ is None or round_.warned or round_.status != "running":
            return
        claimed = await session.execute(
            update(NetworkingRound)
            .where(NetworkingRound.id == round_id, NetworkingRound.warned.is_(False))
            .values(warned=True)
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return
        if datetime.now(UTC) >= round_.ends_at:
            return  # too late to be useful (the bot was down); the end message follows
        block = await session.get(NetworkingBlock, round_.block_id)
        if block is None:
            return
        t = app.catalog.translator(block.language)
        remaining = round_.ends_at - round_.warn_at
        left = (
            t("networking_left_minute")
            if remaining == timedelta(minutes=1)
            else t("networking_left", duration=_describe_wait(t, max(1, round(remaining.total_seconds()))))
        )
        people = await _round_people(session, round_id)
        session.add(
            app.sender.prepare(
                t("networking_warning", number=round_.number, left=left),
                room_id=block.room_id,
                mentions=tuple(people),
            )
        )
        for room in await _intro_rooms(session, round_id):
            session.add(app.sender.prepare(t("networking_warning_intro", left=left), room_id=room))
    app.sender.wake()


@feature.job("networking.round_ended")
async def round_ended(app: App, round_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: "Runde vorbei", exactly once."""
    await _finish_round(app, round_id, announce=True)


async def _finish_round(app: App, round_id: int, *, announce: bool) -> bool:
    async with app.db.session() as session:
        claimed = await session.execute(
            update(NetworkingRound)
            .where(NetworkingRound.id == round_id, NetworkingRound.status == "running")
            .values(status="ended", ended_at=datetime.now(UTC))
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return False
        round_ = await session.get(NetworkingRound, round_id)
        block = await session.get(NetworkingBlock, round_.block_id) if round_ else None
        if announce and round_ is not None and block is not None:
            t = app.catalog.translator(block.language)
            people = await _round_people(session, round_id)
            p = app.settings.bot.command_prefix
            next_hint = t("networking_next_hint", p=p) if block.status == "open" else ""
            session.add(
                app.sender.prepare(
                    t("networking_round_over", number=round_.number, hint=next_hint),
                    room_id=block.room_id,
                    mentions=tuple(people),
                )
            )
            for room in await _intro_rooms(session, round_id):
                session.add(
                    app.sender.prepare(
                        t("networking_round_over_intro", number=round_.number, p=p), room_id=room
                    )
                )
    app.jobs.cancel(warn_job(round_id))
    app.jobs.cancel(end_job(round_id))
    if announce:
        app.sender.wake()
    return True


@rounds.subcommand(
    de="ende", en="end", aliases=("beenden", "schließen", "schliessen", "close"), help="networking_round_end",
    permission=Permission.MODERATOR,
)  # fmt: skip
async def round_end(ctx: CommandContext) -> None:
    _require_room(ctx)
    app = ctx.app
    async with app.db.session() as session:
        block = await _open_block(session, ctx.room_id)
        if block is None:
            raise CommandError("networking_error_no_block")
        running = await _running_round(session, block.id)
    if running is not None:
        await _finish_round(app, running.id, announce=False)
    async with app.db.session() as session:
        stored = await session.get(NetworkingBlock, block.id)
        if stored is None or stored.status != "open":
            raise CommandError("networking_error_no_block")
        stored.status = "closed"
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
    contacts = new_contacts(block_pairs, [(a, b) for a, b in earlier])
    await ctx.answer(
        "networking_block_closed",
        rounds=plural(ctx.t, "networking_rounds_count", round_count),
        contacts=plural(ctx.t, "networking_contacts_count", contacts),
        people=len(people),
    )


# --- contacts -----------------------------------------------------------------------------------------------


@feature.command(de="kontakte", en="contacts", aliases=("netzwerk", "network"), help="networking_contacts")
async def contacts(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        rows = (
            await session.execute(
                select(Meeting.user_a, Meeting.user_b, Meeting.met_at).where(
                    or_(Meeting.user_a == ctx.sender, Meeting.user_b == ctx.sender)
                )
            )
        ).all()
        found = contacts_of(ctx.sender, [PastMeeting(a, b, met_at) for a, b, met_at in rows])
        profiles = await _profiles(session, [contact.user_id for contact in found[:MAX_CONTACTS_SHOWN]])
    t = ctx.t
    if not found:
        text = t("networking_contacts_empty", p=ctx.prefix)
    else:
        lines = [t("networking_contacts_header", count=len(found))]
        dash = t("networking_not_set")
        for contact in found[:MAX_CONTACTS_SHOWN]:
            member = profiles.get(contact.user_id)
            lines.append(
                t(
                    "networking_contacts_item",
                    user=pill(contact.user_id),
                    user_id=esc(contact.user_id),
                    organisation=esc(member.organisation) if member and member.organisation else dash,
                    level=t(f"networking_level_{member.level}") if member and member.level else dash,
                    when=format_date(contact.last_met.astimezone(ctx.tz).date(), ctx.language),
                    times=plural(t, "networking_times", contact.times) if contact.times > 1 else "",
                )
            )
        if len(found) > MAX_CONTACTS_SHOWN:
            lines.append(t("networking_contacts_more", count=len(found) - MAX_CONTACTS_SHOWN, p=ctx.prefix))
        text = "\n".join(lines)
    if ctx.is_direct:
        await ctx.reply(text)
        return
    # Who met whom is personal: the list goes to the direct chat.
    await ctx.direct(text)
    await ctx.answer("networking_contacts_sent")


# --- restart, privacy ---------------------------------------------------------------------------------------


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """Re-create timers lost in a crash; the rows say what is still due."""
    async with app.db.session() as session:
        running = (
            await session.scalars(select(NetworkingRound).where(NetworkingRound.status == "running"))
        ).all()
        waiting = (
            await session.scalars(select(PartnerRequest).where(PartnerRequest.status == "waiting"))
        ).all()
    for round_ in running:
        if not round_.warned and not app.jobs.exists(warn_job(round_.id)):
            app.jobs.at(warn_job(round_.id), round_warning, round_.warn_at, round_.id)
        if not app.jobs.exists(end_job(round_.id)):
            app.jobs.at(end_job(round_.id), round_ended, round_.ends_at, round_.id)
    for request in waiting:
        if not app.jobs.exists(request_job(request.id)):
            app.jobs.at(request_job(request.id), request_expired, request.expires_at, request.id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@feature.privacy_export
async def export_networking(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        requests = (
            await session.scalars(select(PartnerRequest).where(PartnerRequest.user_id == user_id))
        ).all()
        participations = (
            await session.execute(
                select(BlockParticipant, NetworkingBlock.room_id)
                .join(NetworkingBlock, NetworkingBlock.id == BlockParticipant.block_id)
                .where(BlockParticipant.user_id == user_id)
            )
        ).all()
        meetings = (
            await session.scalars(
                select(Meeting)
                .where(or_(Meeting.user_a == user_id, Meeting.user_b == user_id))
                .order_by(Meeting.id)
            )
        ).all()
    return {
        "partner_requests": [
            {
                "id": r.id,
                "room_id": r.room_id,
                "rooms": r.rooms,
                "status": r.status,
                "partner": r.partner_id,
                "created_at": _iso(r.created_at),
                "expires_at": _iso(r.expires_at),
            }
            for r in requests
        ],
        "networking_participation": [
            {"block_id": p.block_id, "room_id": room_id, "status": p.status, "joined_at": _iso(p.joined_at)}
            for p, room_id in participations
        ],
        "contacts": [
            {
                "met": m.other(user_id),
                "met_at": _iso(m.met_at),
                "room_id": m.room_id,
                "intro_room_id": m.intro_room_id,
                "block_id": m.block_id,
                "round_id": m.round_id,
            }
            for m in meetings
        ],
    }


@feature.privacy_erase
async def erase_networking(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        waiting = (
            await session.scalars(
                select(PartnerRequest.id).where(
                    PartnerRequest.user_id == user_id, PartnerRequest.status == "waiting"
                )
            )
        ).all()
        count = 0
        for statement in (
            delete(Meeting).where(or_(Meeting.user_a == user_id, Meeting.user_b == user_id)),
            delete(BlockParticipant).where(BlockParticipant.user_id == user_id),
            delete(PartnerRequest).where(PartnerRequest.user_id == user_id),
        ):
            result = await session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
        # Other people's requests keep their own rows but no longer name this person.
        await session.execute(
            update(PartnerRequest).where(PartnerRequest.partner_id == user_id).values(partner_id=None)
        )
    for request_id in waiting:
        app.jobs.cancel(request_job(request_id))
    return count
