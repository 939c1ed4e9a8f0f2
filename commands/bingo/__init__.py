"""Verwaltungsbingo: a people-bingo in a room. Fields only count once the named person confirmed them.

``!bingo start [3|4|5] [30m]`` (moderator) starts a game, ``!bingo karte`` shows my card (table and PNG),
``!bingo B2 @anna:example.org`` asks Anna to confirm that she fits field B2 (✅ on the request or
``!bingo bestätigen <nr>``), ``!bingo stand`` shows the leaderboard, ``!bingo stopp`` ends the game early.
The end time and the expiry of requests run on the scheduler; games, cards and claims live in the database,
so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Feature, Flag, Int, Permission, Text
from bot.i18n import Translate
from bot.sender import pill
from storage.base import utcnow
from storage.bingo import BingoCard, BingoClaim, BingoGame, BingoPromptPool
from timephrases import format_datetime, format_time, parse_duration

from .game import (
    MAX_CARD_SIZE,
    MAX_PROMPTS,
    MIN_CARD_SIZE,
    BingoError,
    Card,
    PlayerStanding,
    Position,
    Prompt,
    combine_prompts,
    completed_lines,
    default_prompts,
    field_name,
    field_problem,
    is_full,
    leaderboard,
    line_label,
    load_prompts,
    new_card,
    newly_completed_lines,
    parse_field,
    parse_prompts,
    prompts_needed,
    standing,
)
from .render import card_markdown, png_size, render_card_png

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

feature = Feature(
    "bingo", messages=Path(__file__).with_name("messages.toml"), title_key="bingo_title", order=40
)

MAX_GAME_DURATION = timedelta(hours=48)
MAX_LISTED_PLAYERS = 20
CONFIRM_KEYS = ("✅", "✔️", "👍")
REFUSE_KEYS = ("❌", "👎")
# What an erased member's ID becomes in other people's claims and in games they started.
ERASED = ""

_SIZE = re.compile(r"(\d{1,2})(?:[x×](\d{1,2}))?", re.IGNORECASE)
_USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[a-zA-Z0-9.\-]+(:\d+)?")


def _command_error(error: BingoError) -> CommandError:
    """A game-logic error as a reply (the router escapes its parameters)."""
    params: dict[str, Any] = dict(error.params)
    return CommandError(error.key, **params)


def end_job_id(game_id: int) -> str:
    return f"bingo-end:{game_id}"


def claim_job_id(claim_id: int) -> str:
    return f"bingo-claim:{claim_id}"


# ------------------------------------------------------------------------------------------- prompt pools


@functools.lru_cache(maxsize=1)
def _default_pool() -> tuple[Prompt, ...]:
    return tuple(default_prompts())


@functools.lru_cache(maxsize=4)
def _file_pool(path: str, mtime: float) -> tuple[Prompt, ...]:
    return tuple(load_prompts(path))


def configured_pool(app: App) -> list[Prompt]:
    """The bot's pool: the shipped prompts, replaced or extended by ``[bingo] prompts_file``."""
    config = app.settings.bingo
    if config.prompts_file is None:
        return list(_default_pool())
    try:
        mtime = config.prompts_file.stat().st_mtime
        extra = _file_pool(str(config.prompts_file), mtime)
    except (OSError, BingoError) as error:
        log.error(
            "bingo prompts_file %s is unusable (%s); using the default pool", config.prompts_file, error
        )
        return list(_default_pool())
    if config.prompts_mode == "replace":
        return list(extra)
    return combine_prompts(_default_pool(), extra)


def prompts_to_data(prompts: Iterable[Prompt]) -> list[dict[str, Any]]:
    return [{"de": prompt.de, "en": prompt.en} for prompt in prompts]


def prompts_from_data(data: Iterable[dict[str, Any]]) -> list[Prompt]:
    return [Prompt(de=str(item["de"]), en=item.get("en") or None) for item in data]


async def room_pool(session: AsyncSession, app: App, room_id: str) -> list[Prompt]:
    """The pool a new game in this room draws from: the one a moderator loaded, else the bot's."""
    loaded = await session.get(BingoPromptPool, room_id)
    if loaded is not None:
        return prompts_from_data(loaded.prompts)
    return configured_pool(app)


# ------------------------------------------------------------------------------------------------ helpers


def parse_start_options(text: str, default_size: int) -> tuple[int, timedelta | None]:
    """``""``, ``"3"``, ``"4x4"``, ``"30m"``, ``"5 30 Minuten"``, ``"20m 3"`` → (size, duration)."""
    words = text.split()
    if not words:
        return default_size, None
    whole = parse_duration(text)
    if whole is not None:
        return default_size, whole
    for index, word in enumerate(words):
        match = _SIZE.fullmatch(word)
        if not match:
            continue
        if match.group(2) is not None and match.group(2) != match.group(1):
            raise CommandError("bingo_error_start_options", value=word)
        size = int(match.group(1))
        rest = " ".join(words[:index] + words[index + 1 :])
        if not rest:
            return size, None
        duration = parse_duration(rest)
        if duration is not None:
            return size, duration
        raise CommandError("bingo_error_start_options", value=rest)
    raise CommandError("bingo_error_start_options", value=text)


def minutes_text(minutes: float) -> str:
    return f"{minutes:g}".replace(".", ",")


def count_text(t: Translate, key: str, count: int) -> str:
    return t(f"{key}_one" if count == 1 else f"{key}_other", count=count)


def place_text(t: Translate, place: int) -> str:
    if t.language == "en":
        suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
        return t("bingo_place", place=place, ordinal=f"{place}{suffix}")
    return t("bingo_place", place=place, ordinal=f"{place}.")


def claim_positions(claims: Iterable[BingoClaim], size: int, status: str) -> set[Position]:
    positions = set()
    for claim in claims:
        if claim.status == status:
            position = parse_field(claim.field, size)
            if position is not None:
                positions.add(position)
    return positions


async def running_game(session: AsyncSession, room_id: str) -> BingoGame | None:
    return await session.scalar(
        select(BingoGame)
        .where(BingoGame.room_id == room_id, BingoGame.status == "running")
        .order_by(BingoGame.id.desc())
        .limit(1)
    )


async def require_game(session: AsyncSession, ctx: CommandContext) -> BingoGame:
    game = await running_game(session, ctx.room_id)
    if game is None:
        raise CommandError("bingo_error_no_game")
    return game


async def card_of(session: AsyncSession, game: BingoGame, player_id: str) -> BingoCard:
    """The player's card in the game, drawn on first use (different from every card already dealt)."""
    row = await session.scalar(
        select(BingoCard).where(BingoCard.game_id == game.id, BingoCard.player_id == player_id)
    )
    if row is not None:
        return row
    dealt = (await session.scalars(select(BingoCard.data).where(BingoCard.game_id == game.id))).all()
    seed: int | str = f"{game.seed}:{player_id}" if game.seed is not None else secrets.randbits(64)
    try:
        card = new_card(
            prompts_from_data(game.prompts), game.size, seed, avoid=[Card.from_data(d) for d in dealt]
        )
    except BingoError as error:
        raise _command_error(error) from None
    row = BingoCard(game_id=game.id, player_id=player_id, data=card.to_data())
    session.add(row)
    await session.flush()
    return row


async def claims_of(session: AsyncSession, card_id: int, statuses: Sequence[str]) -> list[BingoClaim]:
    return list(
        (
            await session.scalars(
                select(BingoClaim)
                .where(BingoClaim.card_id == card_id, BingoClaim.status.in_(statuses))
                .order_by(BingoClaim.id)
            )
        ).all()
    )


async def game_standings(session: AsyncSession, game: BingoGame) -> list[PlayerStanding]:
    rows = (
        await session.scalars(
            select(BingoCard).where(BingoCard.game_id == game.id).options(selectinload(BingoCard.claims))
        )
    ).all()
    players = []
    for row in rows:
        card = Card.from_data(row.data)
        confirmed = claim_positions(row.claims, card.size, "confirmed")
        players.append(standing(row.player_id, card, confirmed, row.first_line_at))
    return leaderboard(players)


def ranking_lines(t: Translate, players: Sequence[PlayerStanding], tz: ZoneInfo) -> list[str]:
    lines = []
    for rank, player in enumerate(players[:MAX_LISTED_PLAYERS], start=1):
        first = (
            t("bingo_rank_first_line", time=format_time(player.first_line_at.astimezone(tz)))
            if player.first_line_at is not None
            else ""
        )
        lines.append(
            t(
                "bingo_rank",
                rank=rank,
                player=pill(player.player_id),
                lines=count_text(t, "bingo_count_lines", player.lines),
                fields=count_text(t, "bingo_count_fields", player.fields),
                first=first,
            )
        )
    if len(players) > MAX_LISTED_PLAYERS:
        lines.append(t("bingo_rank_more", count=len(players) - MAX_LISTED_PLAYERS))
    return lines


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
    words = rest.split()
    if not words:
        raise CommandError("bingo_error_claim_syntax", show_usage=True)
    people = [w.strip("<>,;:") for w in words if w.strip("<>,;:").startswith("@")]
    others = [w for w in words if not w.strip("<>,;:").startswith("@")]
    if len(others) != 1 or len(people) > 1:
        raise CommandError("bingo_error_claim_syntax", show_usage=True)
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
    position = parse_field(others[0], game.size)
    if position is None:
        raise CommandError(
            "bingo_error_field",
            value=others[0],
            first=field_name((0, 0)),
            last=field_name((game.size - 1, game.size - 1)),
        )
    field = field_name(position)
    if not people:
        raise CommandError("bingo_error_missing_person", field=field)
    named = people[0]
    if not _USER_ID.fullmatch(named):
        raise CommandError("core_arg_not_a_user", value=named)
    if named == ctx.sender:
        raise CommandError("bingo_error_self", field=field)
    if named == ctx.app.matrix.user_id:
        raise CommandError("bingo_error_bot", field=field)
    if named not in await ctx.app.matrix.room_members(game.room_id):
        raise CommandError("bingo_error_not_in_room", user=named)
    minutes = ctx.app.settings.bingo.confirmation_minutes
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
        card_row = await card_of(session, game, ctx.sender)
        card = Card.from_data(card_row.data)
        active = await claims_of(session, card_row.id, ("pending", "confirmed"))
        problem = field_problem(
            card,
            position,
            claim_positions(active, card.size, "confirmed"),
            claim_positions(active, card.size, "pending"),
        )
        if problem is not None:
            raise CommandError(problem, field=field)
        same = next((c for c in active if c.named_user_id == named), None)
        if same is not None:
            raise CommandError("bingo_error_same_person", user=named, field=same.field)
        claim = BingoClaim(
            card_id=card_row.id, field=field, named_user_id=named, status="pending", requested_at=utcnow()
        )
        session.add(claim)
        await session.flush()
        prompt = card.prompt_at(position)
        text = ctx.t(
            "bingo_request",
            player=pill(ctx.sender),
            named=pill(named),
            field=field,
            prompt=esc(prompt.text(ctx.language) if prompt else ""),
            id=claim.id,
            minutes=minutes_text(minutes),
            p=ctx.prefix,
        )
        request = ctx.app.sender.prepare(
            text,
            room_id=game.room_id,
            mentions=(named,),
            track=("bingo_claim", claim.id),
            reply_to=ctx.event_id,
        )
        session.add(request)
        await session.flush()
        claim.request_outbox_id = request.id
    ctx.app.sender.wake()
    schedule_claim(ctx.app, claim)


@claim_field.subcommand(
    de="start",
    en="start",
    aliases=("starten", "neu", "new"),
    help="bingo_start",
    permission=Permission.MODERATOR,
    args=[Arg("options", Text(max_length=100, allow_empty=True), required=False, default="")],
    flags=[Flag("seed", ("seed",), Int(minimum=0, maximum=2**31 - 1))],
)
async def start_game(ctx: CommandContext, options: str = "", seed: int | None = None) -> None:
    if ctx.is_direct:
        raise CommandError("bingo_error_direct")
    size, duration = parse_start_options(options, ctx.app.settings.bingo.default_size)
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
            status="running",
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
        claims = await claims_of(session, card_row.id, ("pending", "confirmed"))
    card = Card.from_data(card_row.data)
    confirmed = claim_positions(claims, card.size, "confirmed")
    pending = claim_positions(claims, card.size, "pending")
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
    await ctx.app.sender.send_file(
        png,
        filename=t("bingo_card_filename"),
        mimetype="image/png",
        room_id=ctx.room_id,
        image_size=png_size(card.size),
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
        lines.extend(ranking_lines(t, players, ctx.tz))
    else:
        lines.append(t("bingo_status_empty", p=ctx.prefix))
    await ctx.reply("\n".join(lines))


def _decide_args() -> list[Arg]:
    return [Arg("claim_id", Int(minimum=1), required=False)]


@claim_field.subcommand(
    de="bestätigen",
    en="confirm",
    aliases=("bestaetigen", "ja", "yes", "ok"),
    help="bingo_confirm",
    args=_decide_args(),
)
async def confirm_claim(ctx: CommandContext, claim_id: int | None = None) -> None:
    await _decide_by_command(ctx, claim_id, accept=True)


@claim_field.subcommand(
    de="ablehnen",
    en="decline",
    aliases=("nein", "no", "refuse", "reject"),
    help="bingo_decline",
    args=_decide_args(),
)
async def decline_claim(ctx: CommandContext, claim_id: int | None = None) -> None:
    await _decide_by_command(ctx, claim_id, accept=False)


async def _decide_by_command(ctx: CommandContext, claim_id: int | None, *, accept: bool) -> None:
    if claim_id is None:
        claim_id = await _only_open_claim(ctx)
    decision = await decide(
        ctx.app, claim_id, ctx.sender, accept, reply_to=ctx.event_id, command_room=ctx.room_id
    )
    if decision.error is not None:
        raise CommandError(decision.error, id=claim_id)
    if not decision.replied:
        await ctx.answer("bingo_decided_elsewhere", id=claim_id)


async def _only_open_claim(ctx: CommandContext) -> int:
    """The one request waiting for the member (in this room's game, or in any game from a direct chat)."""
    statement = (
        select(BingoClaim.id)
        .join(BingoCard, BingoCard.id == BingoClaim.card_id)
        .join(BingoGame, BingoGame.id == BingoCard.game_id)
        .where(
            BingoClaim.named_user_id == ctx.sender,
            BingoClaim.status == "pending",
            BingoGame.status == "running",
        )
        .order_by(BingoClaim.id)
    )
    if not ctx.is_direct:
        statement = statement.where(BingoGame.room_id == ctx.room_id)
    async with ctx.app.db.session() as session:
        ids = list((await session.scalars(statement)).all())
    if not ids:
        raise CommandError("bingo_error_no_open_claims")
    if len(ids) > 1:
        command = ctx.command.name_in(ctx.language) if ctx.command else "bingo"
        raise CommandError(
            "bingo_error_several_claims",
            ids=", ".join(str(i) for i in ids),
            example=f"{ctx.prefix}{command} {ids[0]}",
        )
    return ids[0]


@claim_field.subcommand(
    de="fragen",
    en="prompts",
    aliases=("fragenpool", "pool"),
    help="bingo_prompts",
    permission=Permission.MODERATOR,
    args=[
        Arg(
            "mode",
            Choice(
                {
                    "ersetzen": ("replace",),
                    "ergänzen": ("ergaenzen", "extend", "add", "hinzufügen"),
                    "zurücksetzen": ("zuruecksetzen", "reset", "standard", "default"),
                }
            ),
            required=False,
            default="ersetzen",
        )
    ],
)
async def load_room_prompts(ctx: CommandContext, mode: str = "ersetzen") -> None:
    if ctx.is_direct:
        raise CommandError("bingo_error_direct")
    t = ctx.t
    if mode == "zurücksetzen":
        async with ctx.app.db.session() as session:
            await session.execute(delete(BingoPromptPool).where(BingoPromptPool.room_id == ctx.room_id))
        await ctx.answer("bingo_prompts_reset", total=len(configured_pool(ctx.app)))
        return
    try:
        attachment = await ctx.attachment()
    except Exception:
        log.warning("downloading a bingo prompt file failed", exc_info=True)
        raise CommandError("bingo_error_download") from None
    if attachment is None:
        raise CommandError("bingo_error_no_attachment")
    filename, data = attachment
    try:
        loaded = parse_prompts(data, filename)
    except BingoError as error:
        raise _command_error(error) from None
    async with ctx.app.db.session() as session:
        if mode == "ergänzen":
            prompts = combine_prompts(await room_pool(session, ctx.app, ctx.room_id), loaded)
            if len(prompts) > MAX_PROMPTS:
                raise CommandError(
                    "bingo_prompts_error_too_many", file=filename, count=len(prompts), max=MAX_PROMPTS
                )
        else:
            prompts = loaded
        row = await session.get(BingoPromptPool, ctx.room_id)
        if row is None:
            row = BingoPromptPool(room_id=ctx.room_id, prompts=[], filename="", loaded_by="")
            session.add(row)
        row.prompts = prompts_to_data(prompts)
        row.filename = filename[:255]
        row.loaded_by = ctx.sender
        row.loaded_at = utcnow()
        running = await running_game(session, ctx.room_id) is not None
    key = "bingo_prompts_loaded_extend" if mode == "ergänzen" else "bingo_prompts_loaded_replace"
    parts = [t(key, count=len(loaded), file=esc(filename), total=len(prompts), p=ctx.prefix)]
    largest = max(
        (s for s in range(MIN_CARD_SIZE, MAX_CARD_SIZE + 1) if prompts_needed(s) <= len(prompts)), default=0
    )
    if largest == 0:
        parts.append(t("bingo_prompts_note_too_few", needed=prompts_needed(MIN_CARD_SIZE), p=ctx.prefix))
    elif largest < MAX_CARD_SIZE:
        parts.append(t("bingo_prompts_note_small", size=largest))
    if running:
        parts.append(t("bingo_prompts_note_running"))
    await ctx.reply(" ".join(parts))


# ---------------------------------------------------------------------------------- decisions and jobs


@dataclass(frozen=True)
class Decision:
    error: str | None = None
    replied: bool = False


class _Abort(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def decide(
    app: App,
    claim_id: int,
    user_id: str,
    accept: bool,
    *,
    reply_to: str | None = None,
    command_room: str | None = None,
) -> Decision:
    """The named person confirms or refuses a request; the room hears it (and any BINGO) exactly once."""
    now = utcnow()
    replied = False
    try:
        async with app.db.session() as session:
            # Write first: the status flip takes the write lock, so what is read below is current.
            flipped = await session.execute(
                update(BingoClaim)
                .where(
                    BingoClaim.id == claim_id,
                    BingoClaim.status == "pending",
                    BingoClaim.named_user_id == user_id,
                )
                .values(status="confirmed" if accept else "refused", decided_at=now)
            )
            claim = await session.get(BingoClaim, claim_id)
            if getattr(flipped, "rowcount", 0) != 1 or claim is None:
                if claim is None:
                    return Decision("bingo_error_claim_unknown")
                if claim.named_user_id != user_id:
                    return Decision("bingo_error_claim_not_yours")
                return Decision(f"bingo_error_claim_{claim.status}")
            card_row = await session.get(BingoCard, claim.card_id)
            assert card_row is not None
            game = await session.get(BingoGame, card_row.game_id)
            assert game is not None
            if game.status != "running":
                raise _Abort("bingo_error_claim_game_over")
            t = app.catalog.translator(game.language)
            player = card_row.player_id
            replied = reply_to is not None and command_room == game.room_id
            reply = reply_to if replied else None
            if not accept:
                text = t("bingo_refused", named=pill(user_id), field=claim.field, player=pill(player))
                session.add(
                    app.sender.prepare(text, room_id=game.room_id, mentions=(player,), reply_to=reply)
                )
            else:
                for text in await _confirmation_messages(session, t, game, card_row, claim, now):
                    session.add(
                        app.sender.prepare(text, room_id=game.room_id, mentions=(player,), reply_to=reply)
                    )
                    reply = None
    except _Abort as abort:
        return Decision(abort.key)
    app.sender.wake()
    app.jobs.cancel(claim_job_id(claim_id))
    return Decision(None, replied)


async def _confirmation_messages(
    session: AsyncSession,
    t: Translate,
    game: BingoGame,
    card_row: BingoCard,
    claim: BingoClaim,
    now: datetime,
) -> list[str]:
    """The confirmation, then BINGO for newly completed lines (with the place for the first), full card."""
    card = Card.from_data(card_row.data)
    player = pill(card_row.player_id)
    confirmed = claim_positions(await claims_of(session, card_row.id, ("confirmed",)), card.size, "confirmed")
    position = parse_field(claim.field, card.size)
    before = confirmed - {position} if position is not None else confirmed
    messages = [t("bingo_confirmed", named=pill(claim.named_user_id), field=claim.field, player=player)]
    new_lines = newly_completed_lines(card.size, before, confirmed, card.free_centre)
    if new_lines:
        labels = ", ".join(line_label(line, t) for line in new_lines)
        if card_row.first_line_at is None:
            earlier = await session.scalar(
                select(func.count())
                .select_from(BingoCard)
                .where(
                    BingoCard.game_id == game.id,
                    BingoCard.first_line_at.is_not(None),
                    BingoCard.id != card_row.id,
                )
            )
            card_row.first_line_at = now
            card_row.place = int(earlier or 0) + 1
            messages.append(
                t("bingo_bingo_first", player=player, line=labels, place=place_text(t, card_row.place))
            )
        else:
            total = len(completed_lines(card.size, confirmed, card.free_centre))
            messages.append(
                t(
                    "bingo_bingo_more",
                    player=player,
                    line=labels,
                    lines=count_text(t, "bingo_count_lines", total),
                )
            )
    if card_row.full_at is None and is_full(card.size, confirmed, card.free_centre):
        card_row.full_at = now
        messages.append(t("bingo_full_card", player=player))
    return messages


def schedule_claim(app: App, claim: BingoClaim) -> None:
    expires = claim.requested_at + timedelta(minutes=app.settings.bingo.confirmation_minutes)
    app.jobs.at(claim_job_id(claim.id), expire_claim, expires, claim.id)


def schedule_end(app: App, game: BingoGame) -> None:
    if game.ends_at is not None:
        app.jobs.at(end_job_id(game.id), end_game, game.ends_at, game.id)


@feature.job("bingo.claim_expired")
async def expire_claim(app: App, claim_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: an unanswered request expires once; the player hears it while the game runs."""
    async with app.db.session() as session:
        flipped = await session.execute(
            update(BingoClaim)
            .where(BingoClaim.id == claim_id, BingoClaim.status == "pending")
            .values(status="expired", decided_at=utcnow())
        )
        if getattr(flipped, "rowcount", 0) != 1:
            return
        claim = await session.get(BingoClaim, claim_id)
        card_row = await session.get(BingoCard, claim.card_id) if claim else None
        game = await session.get(BingoGame, card_row.game_id) if card_row else None
        if claim is None or card_row is None or game is None or game.status != "running":
            return
        t = app.catalog.translator(game.language)
        text = t(
            "bingo_expired",
            id=claim.id,
            named=pill(claim.named_user_id) if claim.named_user_id else "—",
            field=claim.field,
            player=pill(card_row.player_id),
        )
        session.add(app.sender.prepare(text, room_id=game.room_id, mentions=(card_row.player_id,)))
    app.sender.wake()


@feature.job("bingo.game_ended")
async def end_game(app: App, game_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: the end time is reached (also when it passed while the bot was down)."""
    await finish_game(app, game_id)


async def finish_game(
    app: App, game_id: int, *, ended_by: str | None = None, reply_to: str | None = None
) -> bool:
    """End a running game once: open requests expire with it and the room gets the results."""
    now = utcnow()
    async with app.db.session() as session:
        flipped = await session.execute(
            update(BingoGame)
            .where(BingoGame.id == game_id, BingoGame.status == "running")
            .values(status="ended", ended_at=now, ended_by=ended_by)
        )
        if getattr(flipped, "rowcount", 0) != 1:
            return False
        game = await session.get(BingoGame, game_id)
        assert game is not None
        cards = select(BingoCard.id).where(BingoCard.game_id == game_id)
        open_ids = list(
            (
                await session.scalars(
                    select(BingoClaim.id).where(BingoClaim.card_id.in_(cards), BingoClaim.status == "pending")
                )
            ).all()
        )
        if open_ids:
            await session.execute(
                update(BingoClaim).where(BingoClaim.id.in_(open_ids)).values(status="expired", decided_at=now)
            )
        players = await game_standings(session, game)
        t = app.catalog.translator(game.language)
        lines = [t("bingo_results_header", size=game.size)]
        if any(player.fields for player in players):
            lines.extend(ranking_lines(t, players, ZoneInfo(game.timezone)))
            lines.append(t("bingo_results_thanks"))
        else:
            lines.append(t("bingo_results_empty"))
        mentioned = tuple(player.player_id for player in players[:MAX_LISTED_PLAYERS] if player.fields)
        session.add(
            app.sender.prepare("\n".join(lines), room_id=game.room_id, mentions=mentioned, reply_to=reply_to)
        )
    app.sender.wake()
    app.jobs.cancel(end_job_id(game_id))
    for claim_id in open_ids:
        app.jobs.cancel(claim_job_id(claim_id))
    return True


@feature.on_reaction("bingo_claim", CONFIRM_KEYS + REFUSE_KEYS)
async def react_to_claim(reaction: ReactionContext) -> None:
    """✅ (or ✔️/👍) from the named person confirms, ❌ (or 👎) refuses; anyone else's reaction is ignored."""
    if not reaction.added or reaction.ref_id is None:
        return
    accept = reaction.key in {key.replace("\ufe0f", "") for key in CONFIRM_KEYS}
    await decide(
        reaction.app,
        reaction.ref_id,
        reaction.sender,
        accept,
        reply_to=reaction.target_event_id,
        command_room=reaction.room_id,
    )


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """Re-create end and expiry jobs lost in a crash; an end time that passed meanwhile fires at once."""
    async with app.db.session() as session:
        games = (
            await session.scalars(
                select(BingoGame).where(BingoGame.status == "running", BingoGame.ends_at.is_not(None))
            )
        ).all()
        claims = (
            await session.scalars(
                select(BingoClaim)
                .join(BingoCard, BingoCard.id == BingoClaim.card_id)
                .join(BingoGame, BingoGame.id == BingoCard.game_id)
                .where(BingoClaim.status == "pending", BingoGame.status == "running")
            )
        ).all()
    for game in games:
        if not app.jobs.exists(end_job_id(game.id)):
            schedule_end(app, game)
    for claim in claims:
        if not app.jobs.exists(claim_job_id(claim.id)):
            schedule_claim(app, claim)


# ------------------------------------------------------------------------------------------------ privacy


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@feature.privacy_export
async def export_bingo(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        cards = (
            await session.scalars(
                select(BingoCard)
                .where(BingoCard.player_id == user_id)
                .options(selectinload(BingoCard.claims), selectinload(BingoCard.game))
            )
        ).all()
        named = (
            await session.scalars(
                select(BingoClaim)
                .where(BingoClaim.named_user_id == user_id)
                .options(selectinload(BingoClaim.card).selectinload(BingoCard.game))
            )
        ).all()
        started = (await session.scalars(select(BingoGame).where(BingoGame.started_by == user_id))).all()
        pools = (
            await session.scalars(select(BingoPromptPool).where(BingoPromptPool.loaded_by == user_id))
        ).all()
    return {
        "bingo_cards": [
            {
                "game_id": card.game_id,
                "room_id": card.game.room_id,
                "card": card.data,
                "created_at": _iso(card.created_at),
                "first_line_at": _iso(card.first_line_at),
                "full_at": _iso(card.full_at),
                "place": card.place,
                "claims": [
                    {
                        "id": claim.id,
                        "field": claim.field,
                        "named_user_id": claim.named_user_id,
                        "status": claim.status,
                        "requested_at": _iso(claim.requested_at),
                        "decided_at": _iso(claim.decided_at),
                    }
                    for claim in card.claims
                ],
            }
            for card in cards
        ],
        "bingo_fields_you_were_named_for": [
            {
                "id": claim.id,
                "room_id": claim.card.game.room_id,
                "player_id": claim.card.player_id,
                "field": claim.field,
                "status": claim.status,
                "requested_at": _iso(claim.requested_at),
            }
            for claim in named
        ],
        "bingo_games_started": [
            {"id": game.id, "room_id": game.room_id, "started_at": _iso(game.started_at), "size": game.size}
            for game in started
        ],
        "bingo_prompt_pools_loaded": [
            {"room_id": pool.room_id, "filename": pool.filename, "loaded_at": _iso(pool.loaded_at)}
            for pool in pools
        ],
    }


@feature.privacy_erase
async def erase_bingo(app: App, user_id: str) -> int:
    """Delete the member's cards (with their claims); remove the member's ID from everything else."""
    async with app.db.session() as session:
        own_cards = select(BingoCard.id).where(BingoCard.player_id == user_id)
        own_pending = list(
            (
                await session.scalars(
                    select(BingoClaim.id).where(
                        BingoClaim.card_id.in_(own_cards), BingoClaim.status == "pending"
                    )
                )
            ).all()
        )
        named_pending = list(
            (
                await session.scalars(
                    select(BingoClaim.id).where(
                        BingoClaim.named_user_id == user_id, BingoClaim.status == "pending"
                    )
                )
            ).all()
        )
        count = 0
        if named_pending:
            await session.execute(
                update(BingoClaim)
                .where(BingoClaim.id.in_(named_pending))
                .values(status="expired", decided_at=utcnow())
            )
        results = [
            await session.execute(
                update(BingoClaim).where(BingoClaim.named_user_id == user_id).values(named_user_id=ERASED)
            ),
            await session.execute(delete(BingoCard).where(BingoCard.player_id == user_id)),
            await session.execute(
                update(BingoGame).where(BingoGame.started_by == user_id).values(started_by=ERASED)
            ),
            await session.execute(
                update(BingoGame).where(BingoGame.ended_by == user_id).values(ended_by=ERASED)
            ),
            await session.execute(
                update(BingoPromptPool).where(BingoPromptPool.loaded_by == user_id).values(loaded_by=ERASED)
            ),
        ]
        count = sum(int(getattr(result, "rowcount", 0) or 0) for result in results)
    for claim_id in own_pending + named_pending:
        app.jobs.cancel(claim_job_id(claim_id))
    return count
