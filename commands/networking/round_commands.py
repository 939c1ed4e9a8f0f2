"""Moderator-timed speed-dating rounds: ``!runde öffnen``, ``mitmachen``, ``pause``, ``start``, ``weiter``,
``ende`` (and 🙋 on the block's message to join)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.context import CommandContext, ReactionContext
from bot.framework import Arg, CommandError, Permission, Text
from bot.i18n import Translate
from bot.sender import pill
from commands.networking.logic import (
    OptionError,
    parse_start_options,
)
from storage.networking import NetworkingBlock, NetworkingRound

from .feature import BLOCK_KIND, JOIN_KEYS, describe_wait, feature, networking_settings, plural
from .introductions import introduce
from .jobs import schedule_round
from .service import (
    close_block,
    open_block,
    prepare_round,
    remember_intro_rooms,
    require_open_block,
    running_round,
    set_participation,
    start_round,
)
from .status import BlockStatus, ParticipantStatus

# --- blocks and rounds --------------------------------------------------------------------------------------

# "Netzwerkrunde", not "Runde": a barcamp's time slots are rounds too (issue 15). `!netzwerk mitmachen` is a
# natural guess, so `!netzwerk` is this group too (not `!kontakte`).
rounds = feature.group(
    de="netzwerkrunde",
    en="round",
    aliases=("runde", "netzwerk", "network", "networking"),
    help="networking_round",
)


def _require_room(ctx: CommandContext) -> None:
    if ctx.is_direct:
        raise CommandError("networking_error_direct")


@rounds.subcommand(
    de="öffnen", en="open", aliases=("oeffnen", "eröffnen", "eroeffnen"), help="networking_round_open",
    permission=Permission.MODERATOR,
)  # fmt: skip
async def round_open(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        if await open_block(session, ctx.room_id) is not None:
            raise CommandError("networking_error_block_open")
        block = NetworkingBlock(
            room_id=ctx.room_id,
            status=BlockStatus.OPEN,
            duration_seconds=networking_settings(ctx.app).round_minutes * 60,
            group_size=2,
            language=ctx.language,
            opened_by=ctx.sender,
        )
        session.add(block)
    await ctx.reply(
        ctx.t(
            "networking_block_opened",
            p=ctx.prefix,
            minutes=plural(ctx.t, "networking_minutes", block.duration_seconds // 60),
        ),
        track=(BLOCK_KIND, block.id),
    )


@rounds.subcommand(
    de="mitmachen", en="join", aliases=("teilnehmen", "dabei", "beitreten"), help="networking_round_join"
)
async def round_join(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        block = await require_open_block(session, ctx.room_id)
        running = await running_round(session, block.id)
    previous = await set_participation(ctx.app, block.id, ctx.sender, ParticipantStatus.JOINED)
    if previous == ParticipantStatus.JOINED:
        await ctx.answer("networking_already_joined")
        return
    await ctx.answer("networking_joined_next" if running else "networking_joined")


@rounds.subcommand(
    de="pause", en="pause", aliases=("aussetzen", "verlassen", "leave"), help="networking_round_pause"
)
async def round_pause(ctx: CommandContext) -> None:
    _require_room(ctx)
    async with ctx.app.db.session() as session:
        block = await require_open_block(session, ctx.room_id)
    previous = await set_participation(ctx.app, block.id, ctx.sender, ParticipantStatus.PAUSED)
    if previous != ParticipantStatus.JOINED:
        raise CommandError("networking_error_not_joined")
    await ctx.answer("networking_paused")


@feature.on_reaction(BLOCK_KIND, JOIN_KEYS)
async def join_by_reaction(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    async with reaction.app.db.session() as session:
        block = await session.get(NetworkingBlock, reaction.ref_id)
        if block is None or block.status != BlockStatus.OPEN:
            return
    await set_participation(
        reaction.app,
        reaction.ref_id,
        reaction.sender,
        ParticipantStatus.JOINED if reaction.added else ParticipantStatus.PAUSED,
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
    try:
        parsed = parse_start_options(options)
    except OptionError as error:
        raise CommandError(error.key, show_usage=True, value=error.value) from None
    plan = await prepare_round(ctx.app, ctx.room_id, parsed, end_running=end_running)
    from commands.networking.matching import plan_round  # numpy and rustworkx load on first use

    groups = await asyncio.to_thread(plan_round, plan.people, plan.history, group_size=plan.group_size)
    started = await start_round(ctx.app, ctx.room_id, plan, groups)
    schedule_round(ctx.app, started.round_)
    everyone = tuple(user for group in groups for user in group)
    await ctx.reply(_round_started_text(ctx, started.round_, groups), mentions=everyone)
    numbers = range(1, len(groups) + 1)
    intro_rooms = await introduce(
        ctx.app,
        groups,
        language=plan.language,
        community_room=ctx.room_id,
        thread_root=ctx.thread_root or ctx.event_id,
        headings=[
            ctx.t("networking_intro_heading_round", round=started.round_.number, group=n) for n in numbers
        ],
        room_names=[
            ctx.t("networking_room_name_round", round=started.round_.number, group=n) for n in numbers
        ],
    )
    await remember_intro_rooms(ctx.app, started.meetings, intro_rooms)


def _round_started_text(ctx: CommandContext, round_: NetworkingRound, groups: Sequence[Sequence[str]]) -> str:
    t = ctx.t
    private = networking_settings(ctx.app).private_rooms
    return t(
        "networking_round_started",
        number=round_.number,
        duration=describe_wait(t, round_.duration_seconds),
        groups=_group_list(t, groups),
        where=t("networking_where_rooms" if private else "networking_where_thread"),
    )


def _group_list(t: Translate, groups: Sequence[Sequence[str]]) -> str:
    return "\n".join(
        t("networking_group_line", number=index, people=t("networking_and").join(pill(u) for u in group))
        for index, group in enumerate(groups, start=1)
    )


@rounds.subcommand(
    de="ende", en="end", aliases=("beenden", "schließen", "schliessen", "close"), help="networking_round_end",
    permission=Permission.MODERATOR,
)  # fmt: skip
async def round_end(ctx: CommandContext) -> None:
    _require_room(ctx)
    summary = await close_block(ctx.app, ctx.room_id)
    await ctx.answer(
        "networking_block_closed",
        rounds=plural(ctx.t, "networking_rounds_count", summary.rounds),
        contacts=plural(ctx.t, "networking_contacts_count", summary.new_contacts),
        people=plural(ctx.t, "networking_people_count", summary.people),
    )
