"""``!bingo B2 @anna``: ask Anna to confirm a field; ``start``, ``stopp``, ``karte``, ``stand``."""

from __future__ import annotations

import asyncio

from bot.context import CommandContext
from bot.framework import Arg, CommandError, Flag, Int, Permission, Text
from storage.bingo import BingoGame
from timephrases import format_datetime, format_time

from .card_table import card_markdown
from .feature import MAX_GAME_DURATION, USER_ID, bingo_settings, feature
from .game import (
    MAX_CARD_SIZE,
    MIN_CARD_SIZE,
    Card,
    field_name,
    parse_field,
    prompts_needed,
)
from .jobs import schedule_claim, schedule_end
from .pools import prompts_to_data, room_pool
from .queries import card_of, claim_positions, claims_of, game_standings, require_game, running_game
from .render import png_size, render_card_png
from .service import finish_game, request_confirmation
from .status import ClaimStatus, GameStatus
from .texts import leaderboard_names, parse_start_options, ranking_lines

# ------------------------------------------------------------------------------------------------ commands


@feature.command(
    de="bingo",
    en="bingo",
    aliases=("verwaltungsbingo",),
    help="bingo",
    args=[Arg("rest", Text(max_length=300, allow_empty=True), required=False, default="")],
)
async def claim_field(ctx: CommandContext, rest: str = "") -> None:
    """``!bingo B2 @anna:example.org``: ask Anna to confirm field B2 of my card."""
    field_text, named = _claim_words(rest)
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
    position = parse_field(field_text, game.size)
    if position is None:
        raise CommandError(
            "bingo_error_field",
            value=field_text,
            first=field_name((0, 0)),
            last=field_name((game.size - 1, game.size - 1)),
        )
    field = field_name(position)
    person = await _named_person(ctx, named, field, game.room_id)
    claim = await request_confirmation(ctx, position, person)
    ctx.app.sender.wake()
    schedule_claim(ctx.app, claim)


def _claim_words(rest: str) -> tuple[str, str | None]:
    """The field and the named person (None when missing) of ``B2 @anna:example.org``, in any order."""
    words = rest.split()
    if not words:
        raise CommandError("bingo_error_claim_syntax", show_usage=True)
    people = [w.strip("<>,;:") for w in words if w.strip("<>,;:").startswith("@")]
    others = [w for w in words if not w.strip("<>,;:").startswith("@")]
    if len(others) != 1 or len(people) > 1:
        raise CommandError("bingo_error_claim_syntax", show_usage=True)
    return others[0], (people[0] if people else None)


async def _named_person(ctx: CommandContext, named: str | None, field: str, room_id: str) -> str:
    """The person asked to confirm: someone else in the game's room, not the bot."""
    if named is None:
        raise CommandError("bingo_error_missing_person", field=field)
    if not USER_ID.fullmatch(named):
        raise CommandError("core_arg_not_a_user", value=named)
    if named == ctx.sender:
        raise CommandError("bingo_error_self", field=field)
    if named == ctx.app.matrix.user_id:
        raise CommandError("bingo_error_bot", field=field)
    if named not in await ctx.app.matrix.room_members(room_id):
        raise CommandError("bingo_error_not_in_room", user=named)
    return named


@claim_field.subcommand(
    de="start",
    en="start",
    aliases=("starten", "neu", "new"),
    help="bingo_start",
    permission=Permission.MODERATOR,
    args=[Arg("options", Text(max_length=100, allow_empty=True), required=False, default="")],
    flags=[Flag("seed", ("seed",), Int(minimum=0, maximum=2**31 - 1), "42")],
)
async def start_game(ctx: CommandContext, options: str = "", seed: int | None = None) -> None:
    if ctx.is_direct:
        raise CommandError("bingo_error_direct")
    size, duration = parse_start_options(options, bingo_settings(ctx.app).default_size)
    if not MIN_CARD_SIZE <= size <= MAX_CARD_SIZE:
        raise CommandError("bingo_error_size", size=size, min=MIN_CARD_SIZE, max=MAX_CARD_SIZE)
    if duration is not None and duration > MAX_GAME_DURATION:
        raise CommandError("bingo_error_duration_long", hours=int(MAX_GAME_DURATION.total_seconds() // 3600))
    ends_at = ctx.received_at + duration if duration is not None else None
    async with ctx.app.db.session() as session:
        existing = await running_game(session, ctx.room_id)
        if existing is not None:
            raise CommandError(
                "bingo_error_running", since=format_datetime(existing.started_at, ctx.language, ctx.tz)
            )
        pool = await room_pool(session, ctx.app, ctx.room_id)
        needed = prompts_needed(size)
        if len(pool) < needed:
            raise CommandError("bingo_error_pool_too_small", size=size, needed=needed, count=len(pool))
        game = BingoGame(
            room_id=ctx.room_id,
            size=size,
            status=GameStatus.RUNNING,
            started_by=ctx.sender,
            started_at=ctx.received_at,
            ends_at=ends_at,
            language=ctx.language,
            timezone=ctx.timezone,
            seed=seed,
            prompts=prompts_to_data(pool),
        )
        session.add(game)
    schedule_end(ctx.app, game)
    t = ctx.t
    until = t("bingo_started_until", time=format_time(ends_at.astimezone(ctx.tz))) if ends_at else ""
    free = t("bingo_started_free_centre") if size == 5 else ""
    await ctx.answer("bingo_started", size=size, until=until, free=free, count=len(pool))


@claim_field.subcommand(
    de="stopp",
    en="stop",
    aliases=("stop", "beenden", "ende", "end"),
    help="bingo_stop",
    permission=Permission.MODERATOR,
)
async def stop_game(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
    if not await finish_game(ctx.app, game.id, ended_by=ctx.sender, reply_to=ctx.event_id):
        raise CommandError("bingo_error_no_game")


@claim_field.subcommand(de="karte", en="card", aliases=("meine-karte",), help="bingo_card")
async def show_card(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
        card_row = await card_of(session, game, ctx.sender)
        claims = await claims_of(session, card_row.id, (ClaimStatus.PENDING, ClaimStatus.CONFIRMED))
    card = Card.from_data(card_row.data)
    confirmed = claim_positions(claims, card.size, ClaimStatus.CONFIRMED)
    pending = claim_positions(claims, card.size, ClaimStatus.PENDING)
    t = ctx.t
    await ctx.reply(
        "\n\n".join(
            [
                t("bingo_card_header", size=card.size),
                card_markdown(card, confirmed, pending, t),
                t("bingo_card_hint", p=ctx.prefix, example=field_name((card.size // 2, 0))),
            ]
        )
    )
    title = t("bingo_card_png_title", player=ctx.sender.split(":", 1)[0].lstrip("@"))
    png = await asyncio.to_thread(
        render_card_png, card, confirmed, pending, language=ctx.language, title=title
    )
    await ctx.send_file(
        png, filename=t("bingo_card_filename"), mimetype="image/png", image_size=png_size(card.size)
    )


@claim_field.subcommand(
    de="stand", en="status", aliases=("rangliste", "leaderboard", "punkte"), help="bingo_status"
)
async def show_status(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
        players = await game_standings(session, game)
    t = ctx.t
    until = (
        t("bingo_started_until", time=format_time(game.ends_at.astimezone(ctx.tz))) if game.ends_at else ""
    )
    lines = [t("bingo_status_header", size=game.size, until=until)]
    if players:
        lines.extend(ranking_lines(t, players, ctx.tz, leaderboard_names(ctx.app, players, ctx.room_id)))
    else:
        lines.append(t("bingo_status_empty", p=ctx.prefix))
    await ctx.reply("\n".join(lines))
